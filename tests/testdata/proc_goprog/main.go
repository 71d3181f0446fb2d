// proc_goprog starts processes the way Go programs do (os/exec), which first checks that
// clone(CLONE_PIDFD) works and then uses pidfds to wait for and signal its children.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	out, err := exec.Command("/bin/sh", "-c", "echo from the child: $0 $1", "a", "b").Output()
	fmt.Printf("output: %q, error: %v\n", out, err)

	err = exec.Command("/bin/sh", "-c", "exit 3").Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		fmt.Printf("exit status: %d\n", ee.ExitCode())
	}

	cmd := exec.Command("/bin/sleep", "10")
	if err := cmd.Start(); err != nil {
		fmt.Println("start:", err)
		os.Exit(1)
	}
	time.Sleep(50 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGTERM)
	err = cmd.Wait()
	fmt.Printf("sleep after SIGTERM: %v\n", err)

	var in bytes.Buffer
	in.WriteString("b\na\nc\n")
	sort := exec.Command("/usr/bin/sort")
	sort.Stdin = &in
	sorted, err := sort.Output()
	fmt.Printf("sorted: %q, error: %v\n", strings.Fields(string(sorted)), err)

	_, err = exec.Command("/nonexistent/program").Output()
	fmt.Printf("missing program: %v\n", err)

	// Commands from several goroutines at once: each vfork's child runs in a copy of
	// the memory while the other goroutines' threads run on (golos once gave the parent
	// back a whole region above the stack pointer, other goroutines' stacks with it,
	// and lost descriptors closed meanwhile: crashes and EBADF).
	right := 0
	for round := 0; round < 5; round++ {
		var wg sync.WaitGroup
		outs := make([]string, 8)
		for i := range outs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o, err := exec.Command("/bin/sh", "-c", "echo $0", strconv.Itoa(i)).Output()
				outs[i] = fmt.Sprint(strings.TrimSpace(string(o)), err)
			}()
		}
		wg.Wait()
		for i, o := range outs {
			if o == strconv.Itoa(i)+"<nil>" {
				right++
			}
		}
	}
	fmt.Printf("commands from 8 goroutines at once, 5 times: %d of 40 right\n", right)
}
