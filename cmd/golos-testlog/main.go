// Command golos-testlog shows the progress of `go test -json` as run-tests wants it: go
// test without -v is silent for the minutes the integration tests take, and with -v it
// prints thousands of lines. It prints a line as each top-level test starts, the whole
// output of each test that fails (as go test prints it), and every line go test prints
// outside tests: the "ok"/"FAIL" line of each package (CI reads them), build errors,
// panics and timeouts.
//
// usage: go test -json ./... | golos-testlog
//
// Its exit status is 0 unless it cannot read its input: the test's outcome is go test's
// exit status (run-tests sets pipefail).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// event is a line of `go test -json` (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

func main() {
	if err := filter(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "golos-testlog:", err)
		os.Exit(1)
	}
}

func filter(in io.Reader, out io.Writer) error {
	w := bufio.NewWriter(out)
	// Lines appear at once, not when the buffer fills: the point is to show progress.
	flush := func() { w.Flush() }
	type key struct{ pkg, test string }
	held := map[key][]string{}     // the output of each running test, shown if it fails
	var order = map[string][]key{} // per package, the tests in the order they started
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// Not an event (the go command's own messages): as it is.
			fmt.Fprintf(w, "%s\n", line)
			flush()
			continue
		}
		k := key{e.Package, e.Test}
		switch {
		case e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Test == "" && e.Action == "output":
			if e.Output != "PASS\n" { // the "ok" line that follows says it (as without -v)
				fmt.Fprint(w, e.Output)
			}
		case e.Test == "" && e.Action == "fail":
			// The package failed: show what its unfinished tests printed (a panic or a
			// timeout ends the test binary without their own "fail").
			for _, t := range order[e.Package] {
				for _, l := range held[t] {
					fmt.Fprint(w, l)
				}
				delete(held, t)
			}
			delete(order, e.Package)
		case e.Test == "":
		case e.Action == "run":
			held[k] = nil
			order[e.Package] = append(order[e.Package], k)
			if !strings.Contains(e.Test, "/") {
				fmt.Fprintf(w, "=== RUN   %s\n", e.Test)
			}
		case e.Action == "output":
			held[k] = append(held[k], e.Output)
		case e.Action == "fail":
			for _, l := range held[k] {
				fmt.Fprint(w, l)
			}
			delete(held, k)
		case e.Action == "pass" || e.Action == "skip":
			delete(held, k)
		}
		flush()
	}
	if err := sc.Err(); err != nil {
		return err
	}
	return w.Flush()
}
