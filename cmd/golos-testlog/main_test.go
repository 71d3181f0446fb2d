package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFilter runs `go test -json` on a module of a passing and a failing package and
// checks what the filter keeps: each top-level test as it starts, the whole output of
// failing tests, each package's ok/FAIL line; and what it drops: passing tests' output.
func TestFilter(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module m\n\ngo 1.21\n",
		"good/good_test.go": `package good
import "testing"
func TestGood(t *testing.T) {
	t.Log("HIDDEN good log")
	t.Run("sub", func(t *testing.T) { t.Log("HIDDEN sub log") })
}
`,
		"bad/bad_test.go": `package bad
import "testing"
func TestFine(t *testing.T) { t.Log("HIDDEN fine log") }
func TestBroken(t *testing.T) {
	t.Log("SHOWN context of the failure")
	t.Run("passes", func(t *testing.T) { t.Log("HIDDEN passing subtest") })
	t.Run("fails", func(t *testing.T) { t.Error("SHOWN the failure") })
}
`,
	}
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command("go", "test", "-json", "-count=1", "./...")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	events, err := cmd.Output()
	if err == nil {
		t.Fatalf("go test of a failing package succeeded")
	}
	var out bytes.Buffer
	if err := filter(bytes.NewReader(events), &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"=== RUN   TestGood\n", "=== RUN   TestFine\n", "=== RUN   TestBroken\n",
		"SHOWN context of the failure", "SHOWN the failure",
		"--- FAIL: TestBroken/fails", "--- FAIL: TestBroken ",
		"ok  \tm/good\t", "FAIL\tm/bad\t",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the filtered output lacks %q", want)
		}
	}
	for _, unwanted := range []string{"HIDDEN", "=== RUN   TestGood/sub", "--- PASS", "\nPASS\n"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("the filtered output has %q", unwanted)
		}
	}
	if t.Failed() {
		t.Logf("filtered output:\n%s", got)
	}
}
