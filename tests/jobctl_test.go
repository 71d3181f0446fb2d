package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Job control: a stop signal's default action stops golos's whole process, by the same
// signal, so that the parent's waitpid(WUNTRACED) sees what it sees for the program run
// natively, and SIGCONT continues it (WIFCONTINUED with WCONTINUED).

// A job is a program started in its own process group (not orphaned: its parent, the
// test, is in another group of the same session), with its stdout on a pipe.
type job struct {
	pid   int
	stdin *os.File    // the job's stdin, a pipe
	lines chan string // stdout, line by line; closed at EOF
	out   bytes.Buffer
	done  chan struct{} // stdout reached EOF (out is complete)

	reaped bool // wait saw it end: its pid may be another process's now
}

// startJob starts argv (natively, or under golos when golos is true).
func startJob(t *testing.T, golos bool, argv ...string) *job {
	t.Helper()
	if golos {
		needGolos(t)
		argv = append([]string{golosBin, "run"}, argv...)
	}
	in, stdin, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	proc, err := os.StartProcess(argv[0], argv, &os.ProcAttr{
		Dir:   t.TempDir(),
		Files: []*os.File{in, w, os.Stderr},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	in.Close()
	w.Close()
	t.Cleanup(func() { stdin.Close() })
	if err != nil {
		r.Close()
		t.Fatalf("start %q: %v", argv, err)
	}
	j := &job{pid: proc.Pid, stdin: stdin, lines: make(chan string, 16), done: make(chan struct{})}
	go func() {
		defer close(j.done)
		defer close(j.lines)
		defer r.Close()
		br := bufio.NewReader(io.TeeReader(r, &j.out))
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				j.lines <- strings.TrimSuffix(line, "\n")
			}
			if err != nil {
				return
			}
		}
	}()
	// Whatever happens, the job does not outlive the test.
	t.Cleanup(func() {
		if !j.reaped {
			syscall.Kill(j.pid, syscall.SIGKILL)
			var ws syscall.WaitStatus
			syscall.Wait4(j.pid, &ws, 0, nil)
		}
	})
	return j
}

// wait waits for the job's next state change among those options asks for, at most 20 s
// (then the job is killed).
func (j *job) wait(t *testing.T, options int) syscall.WaitStatus {
	t.Helper()
	timer := time.AfterFunc(20*time.Second, func() { syscall.Kill(j.pid, syscall.SIGKILL) })
	defer timer.Stop() // (the job is not reaped before the timer is stopped)
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(j.pid, &ws, options, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			t.Fatalf("wait4(%d): %v", j.pid, err)
		}
		j.reaped = ws.Exited() || ws.Signaled()
		return ws
	}
}

// waitLine waits for the next line of the job's stdout, at most 20 s.
func (j *job) waitLine(t *testing.T) string {
	t.Helper()
	select {
	case line, ok := <-j.lines:
		if !ok {
			t.Fatalf("job %d: stdout ended early; it said:\n%s", j.pid, j.out.String())
		}
		return line
	case <-time.After(20 * time.Second):
		t.Fatalf("job %d: no line on stdout after 20 s", j.pid)
	}
	return ""
}

// waitAsleep waits (at most 5 s) until the job's main thread sleeps (state S in
// /proc/PID/stat): a job that said it is ready has then got to its wait (a stop that came
// before would leave a signal sent after the SIGCONT to come before the wait too).
func (j *job) waitAsleep(t *testing.T) {
	t.Helper()
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		// The job and every process below it (under --sandbox the program runs in a
		// golos started by the one the test started, which sleeps throughout).
		asleep := true
		for _, pid := range append([]int{j.pid}, descendants(j.pid)...) {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				if pid == j.pid {
					t.Fatal(err)
				}
				continue // ended meanwhile
			}
			// pid (comm) state …: the comm may hold spaces and parentheses.
			if i := bytes.LastIndexByte(b, ')'); i < 0 || i+2 >= len(b) || b[i+2] != 'S' {
				asleep = false
			}
		}
		if asleep {
			return
		}
	}
	t.Fatalf("job %d: its main thread never slept", j.pid)
}

// descendants returns the processes below pid: the children of each of its threads
// (/proc/PID/task/TID/children, proc(5)), and theirs.
func descendants(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, task.Name()))
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(append(out, c), descendants(c)...)
			}
		}
	}
	return out
}

func describeStatus(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exited with %d", ws.ExitStatus())
	case ws.Signaled():
		return fmt.Sprintf("killed by %v", ws.Signal())
	case ws.Stopped():
		return fmt.Sprintf("stopped by %v", ws.StopSignal())
	case ws.Continued():
		return "continued"
	}
	return fmt.Sprintf("status %#x", uint32(ws))
}

// stopAndContinue runs one job: it stops (by itself when send is 0, else the test sends
// it send after its first line), then the test sends SIGCONT; the job must be seen
// stopped by want, then continued; then the test sends it then (if not 0), and closes its
// stdin, and it must exit with status 0. Its stdout is returned.
func stopAndContinue(t *testing.T, golos bool, send, want, then syscall.Signal, argv ...string) string {
	t.Helper()
	j := startJob(t, golos, argv...)
	how := "natively"
	if golos {
		how = "under golos"
	}
	if send != 0 {
		if line := j.waitLine(t); line != "ready" {
			t.Fatalf("first line %q, want ready", line)
		}
		j.waitAsleep(t)
		syscall.Kill(j.pid, send)
	}
	if ws := j.wait(t, syscall.WUNTRACED); !ws.Stopped() || ws.StopSignal() != want {
		t.Fatalf("%s, after the stop: %s, want stopped by %v; stdout:\n%s", how, describeStatus(ws), want, j.out.String())
	}
	syscall.Kill(j.pid, syscall.SIGCONT)
	if ws := j.wait(t, syscall.WCONTINUED); !ws.Continued() {
		t.Fatalf("%s, after SIGCONT: %s, want continued", how, describeStatus(ws))
	}
	if then != 0 {
		j.waitAsleep(t) // back in its wait, or past it
		syscall.Kill(j.pid, then)
	}
	j.stdin.Close() // the job exits at the end of its stdin
	if ws := j.wait(t, 0); !ws.Exited() || ws.ExitStatus() != 0 {
		t.Fatalf("%s, at the end: %s, want exit status 0; stdout:\n%s", how, describeStatus(ws), j.out.String())
	}
	<-j.done
	return j.out.String()
}

// TestJobControl: a program that raises SIGTSTP or SIGSTOP stops (its parent sees
// WIFSTOPPED with that signal) until SIGCONT (WIFCONTINUED), then goes on and its SIGCONT
// handler runs; so does a program stopped from outside by SIGTSTP (golos's handler
// forwards it, and the program's default action stops golos) or SIGSTOP (the host stops
// golos); a pause(2) goes on waiting after the stop, until a handler runs.
func TestJobControl(t *testing.T) {
	cases := []struct {
		name             string
		mode             string
		send, want, then syscall.Signal
		stdout           string
	}{
		{"raise-tstp", "raise-tstp", 0, syscall.SIGTSTP, 0, "stopping with SIGTSTP\nresumed\nSIGCONT handler ran 1 time(s)\n"},
		{"raise-stop", "raise-stop", 0, syscall.SIGSTOP, 0, "stopping with SIGSTOP\nresumed\nSIGCONT handler ran 1 time(s)\n"},
		{"kill-tstp", "wait", syscall.SIGTSTP, syscall.SIGTSTP, 0, "ready\nSIGCONT handler ran 1 time(s)\n"},
		{"kill-stop", "wait", syscall.SIGSTOP, syscall.SIGSTOP, 0, "ready\nSIGCONT handler ran 1 time(s)\n"},
		{"pause-tstp", "pause", syscall.SIGTSTP, syscall.SIGTSTP, syscall.SIGUSR1, "ready\npause returned -1 after the SIGUSR1 handler ran 1 time(s)\n"},
	}
	forFlavours(t, "sig_stop", func(t *testing.T, p string) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				nat := stopAndContinue(t, false, c.send, c.want, c.then, p, c.mode)
				if nat != c.stdout {
					t.Fatalf("test program misbehaves natively: stdout %q, want %q", nat, c.stdout)
				}
				if g := stopAndContinue(t, true, c.send, c.want, c.then, p, c.mode); g != nat {
					t.Errorf("stdout: native %q, golos %q", nat, g)
				}
			})
		}
	})
}

// TestSignalsNoStop: stop signals that must not stop the program (ignored, handled, or
// discarded by a SIGCONT sent after them), and a SIGCONT discarded by a stop signal.
func TestSignalsNoStop(t *testing.T) {
	forFlavours(t, "sig_stop", func(t *testing.T, p string) {
		nat, _ := runBothOpts(t, runOpts{timeout: 20 * time.Second}, p, "nostop")
		wantNative(t, nat, 0, "SIGTSTP ignored: not stopped\n",
			"SIGTSTP handled: handler ran 1 time(s), not stopped\n",
			"SIGCONT discarded the pending SIGTSTP: yes\n", "SIGTSTP unblocked: not stopped\n",
			"SIGTTIN discarded the pending SIGCONT: yes\n",
			"unblocked: SIGCONT handler ran 0 time(s), SIGTTIN handler 1 time(s)\n", "failures: 0\n")
	})
}
