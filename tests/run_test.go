package tests

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// runTimeout bounds each run of a program, native or under golos.
const runTimeout = 60 * time.Second

// After this many golos runs that hit runTimeout, later golos runs are not attempted (the
// tests fail at once) so that a hanging golos cannot hold the suite for an hour.
const maxGolosTimeouts = 3

var golosTimeouts atomic.Int32

var errNotAttempted = errors.New("not attempted")

// A result is how one run of a program ended.
type result struct {
	stdout, stderr []byte
	// code is the exit status as a shell reports it: the process's exit status, or 128+N
	// when it was killed by signal N; -1 when it did not run.
	code     int
	signal   syscall.Signal // the signal that killed the process, or 0
	timedOut bool
	err      error // the process could not be started
	elapsed  time.Duration
}

func (r *result) String() string {
	switch {
	case errors.Is(r.err, errNotAttempted):
		return r.err.Error()
	case r.err != nil:
		return "did not start: " + r.err.Error()
	case r.timedOut:
		return fmt.Sprintf("timed out after %v (killed)", r.elapsed.Round(time.Millisecond))
	case r.signal != 0:
		return fmt.Sprintf("killed by signal %d (%v), status %d", int(r.signal), r.signal, r.code)
	}
	return fmt.Sprintf("exit status %d", r.code)
}

// runOpts are the optional parts of running a program both ways.
type runOpts struct {
	env        []string // added to (and overriding) the test's own environment
	unsetEnv   []string // names removed from the environment
	dir        string   // working directory; a fresh temporary directory when empty
	stdin      []byte   // data on a pipe; /dev/null when nil and stdinFile is empty
	stdinFile  string   // a file opened as stdin
	nativePath string   // the file the native run executes (argv[0] stays as given)
	golosFlags []string // options between "golos run" and the program
	golosBin   string   // the golos binary to run; golosBin (the one under test) when empty
	// maskPrefixes: stdout lines starting with one of these are left out of the
	// comparison (intended differences, checked by the test itself).
	maskPrefixes []string
	timeout      time.Duration // runTimeout when zero
	// pester, when set, is sent to the process every pesterEvery while it runs (both
	// runs): signals from outside that land on whatever thread the kernel picks.
	pester      syscall.Signal
	pesterEvery time.Duration
	// busyWanted: a golos that refuses the program as "text file busy" has given the
	// answer the test wants, and is not run again (see runGolosOpts).
	busyWanted bool
}

func (o *runOpts) environ() []string {
	var env []string
next:
	for _, kv := range os.Environ() {
		for _, name := range o.unsetEnv {
			if strings.HasPrefix(kv, name+"=") {
				continue next
			}
		}
		env = append(env, kv)
	}
	return append(env, o.env...)
}

// setExit records how cmd, whose Wait returned err, ended: its exit code, the
// signal that killed it, or the error that kept it from running.
func (r *result) setExit(cmd *exec.Cmd, err error) {
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) && !errors.Is(err, exec.ErrWaitDelay) {
		r.err = err
		return
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		r.signal = ws.Signal()
		r.code = 128 + int(r.signal)
	} else {
		r.code = cmd.ProcessState.ExitCode()
	}
}

// run runs cmd to completion within timeout.
func run(cmd *exec.Cmd, o *runOpts, timeout time.Duration) *result {
	r := &result{code: -1}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = o.environ()
	cmd.Dir = o.dir
	switch {
	case o.stdinFile != "":
		f, err := os.Open(o.stdinFile)
		if err != nil {
			r.err = err
			return r
		}
		defer f.Close()
		cmd.Stdin = f
	case o.stdin != nil:
		cmd.Stdin = bytes.NewReader(o.stdin)
	}
	// Don't wait for the pipes forever if the process leaves a child holding them.
	cmd.WaitDelay = 5 * time.Second

	start := time.Now()
	for try := 0; ; try++ {
		err := cmd.Start()
		if err == nil {
			break
		}
		// A program the test has just written may be "text file busy" for a moment: a
		// parallel test's fork can hold the writer's descriptor until it execs. A Cmd
		// that failed to start cannot be started again, so the retry is a copy.
		if errors.Is(err, syscall.ETXTBSY) && try < 40 {
			time.Sleep(50 * time.Millisecond)
			cmd = &exec.Cmd{Path: cmd.Path, Args: cmd.Args, Env: cmd.Env, Dir: cmd.Dir,
				Stdin: cmd.Stdin, Stdout: cmd.Stdout, Stderr: cmd.Stderr,
				ExtraFiles: cmd.ExtraFiles, SysProcAttr: cmd.SysProcAttr, WaitDelay: cmd.WaitDelay}
			continue
		}
		r.err = err
		return r
	}
	var timedOut atomic.Bool
	timer := time.AfterFunc(timeout, func() {
		timedOut.Store(true)
		cmd.Process.Kill()
	})
	stopPester := make(chan struct{})
	if o.pester != 0 {
		go func() {
			tick := time.NewTicker(o.pesterEvery)
			defer tick.Stop()
			for {
				select {
				case <-stopPester:
					return
				case <-tick.C:
					cmd.Process.Signal(o.pester)
				}
			}
		}()
	}
	err := cmd.Wait()
	close(stopPester)
	timer.Stop()
	r.timedOut = timedOut.Load()
	r.elapsed = time.Since(start)
	r.stdout, r.stderr = stdout.Bytes(), stderr.Bytes()
	r.setExit(cmd, err)
	return r
}

// runNative runs argv natively.
func runNative(o *runOpts, argv ...string) *result {
	cmd := exec.Command(argv[0], argv[1:]...)
	if o.nativePath != "" {
		cmd = &exec.Cmd{Path: o.nativePath, Args: argv}
	}
	return run(cmd, o, o.timeoutOr(runTimeout))
}

func (o *runOpts) timeoutOr(d time.Duration) time.Duration {
	if o.timeout != 0 {
		return o.timeout
	}
	return d
}

// runGolosOpts runs golos with the given arguments (not only "run").
func runGolosOpts(o *runOpts, args ...string) *result {
	if n := golosTimeouts.Load(); n >= maxGolosTimeouts {
		return &result{code: -1, err: fmt.Errorf("%w: golos already timed out %d times in this test run (see the first failures)", errNotAttempted, n)}
	}
	timeout := o.timeoutOr(runTimeout)
	bin := golosBin
	if o.golosBin != "" {
		bin = o.golosBin
	}
	r := run(exec.Command(bin, args...), o, timeout)
	for try := 0; !o.busyWanted && try < 40 && r.code == 126 && bytes.Contains(r.stderr, []byte(": text file busy")); try++ {
		// As a native start is retried (run): a program the test has just written may be
		// open for writing for a moment in a parallel test's fork, and golos, like execve,
		// refuses a file open for writing (ETXTBSY).
		time.Sleep(50 * time.Millisecond)
		r = run(exec.Command(bin, args...), o, timeout)
	}
	if r.timedOut && timeout >= runTimeout {
		golosTimeouts.Add(1)
	}
	return r
}

// runGolos runs golos alone with args (for example "run", "./prog") in a fresh temporary
// directory, stdin /dev/null, the test's environment, and returns how it ended.
func runGolos(t testing.TB, timeout time.Duration, args ...string) *result {
	t.Helper()
	needGolos(t)
	return runGolosOpts(&runOpts{dir: t.TempDir(), timeout: timeout}, args...)
}

// runBoth runs argv natively and as `golos run argv...` (same environment, working
// directory and stdin /dev/null; 60 s each) and fails the test unless stdout and exit
// status are the same: a program that dies of signal N must kill golos by signal N. It returns both results; golos's is nil when golos is missing.
func runBoth(t testing.TB, argv ...string) (native, golos *result) {
	t.Helper()
	return runBothOpts(t, runOpts{}, argv...)
}

// runBothOpts is runBoth with options.
func runBothOpts(t testing.TB, o runOpts, argv ...string) (native, golos *result) {
	t.Helper()
	trackSources()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	native = runNative(&o, argv...)
	if native.err != nil || native.timedOut {
		t.Errorf("native run of %q %s\nstderr:\n%s", argv, native, clip(native.stderr))
	}
	if golosErr != nil {
		t.Errorf("golos half not run: golos was not built: %v", firstLine(golosErr.Error()))
		return native, nil
	}
	golos = runGolosOpts(&o, append(append([]string{"run"}, o.golosFlags...), argv...)...)

	var problems []string
	switch {
	case golos.err != nil:
		problems = append(problems, "golos run: "+golos.String())
	case golos.timedOut:
		problems = append(problems, fmt.Sprintf("golos run timed out after %v", o.timeoutOr(runTimeout)))
	case golos.signal != native.signal:
		// golos dies of the signal the program dies of, so that its parent sees what it
		// would natively; it must not die of any other.
		problems = append(problems, fmt.Sprintf("death by signal: native %s, golos %s",
			signalName(native.signal), signalName(golos.signal)))
	}
	if crashed(golos.stderr) && !crashed(native.stderr) {
		problems = append(problems, "golos crashed (a Go panic or fatal error on its stderr)")
	}
	if golos.err == nil && !golos.timedOut && golos.code != native.code {
		problems = append(problems, fmt.Sprintf("exit status: native %d, golos %d", native.code, golos.code))
	}
	ns, gs := mask(native.stdout, o.maskPrefixes), mask(golos.stdout, o.maskPrefixes)
	if !bytes.Equal(ns, gs) {
		problems = append(problems, "stdout differs: "+firstDiff(ns, gs))
	}
	if len(problems) > 0 {
		t.Errorf("native and golos differ for %q:\n  %s\n"+
			"native: %s\n--- native stdout:\n%s--- golos stdout:\n%s"+
			"--- native stderr:\n%s--- golos stderr:\n%s---",
			argv, strings.Join(problems, "\n  "), native,
			clip(native.stdout), clip(golos.stdout), clip(native.stderr), clip(golos.stderr))
	}
	return native, golos
}

// signalName names a signal that ended a run, or says there was none.
func signalName(sig syscall.Signal) string {
	if sig == 0 {
		return "none"
	}
	return fmt.Sprintf("%d (%v)", int(sig), sig)
}

// wantNative fails the test if the native run did not behave as the test program is
// meant to: a broken test program or host, not a golos bug.
func wantNative(t testing.TB, r *result, code int, stdoutHas ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("test program misbehaves natively: %s, want exit status %d\nstdout:\n%sstderr:\n%s",
			r, code, clip(r.stdout), clip(r.stderr))
	}
	for _, s := range stdoutHas {
		if !bytes.Contains(r.stdout, []byte(s)) {
			t.Errorf("test program misbehaves natively: stdout lacks %q\nstdout:\n%s", s, clip(r.stdout))
		}
	}
}

// crashed reports whether stderr shows a Go runtime crash.
func crashed(stderr []byte) bool {
	return bytes.Contains(stderr, []byte("panic")) || bytes.Contains(stderr, []byte("goroutine ")) ||
		bytes.Contains(stderr, []byte("fatal error:"))
}

func mask(out []byte, prefixes []string) []byte {
	if len(prefixes) == 0 {
		return out
	}
	var b bytes.Buffer
	for _, line := range bytes.SplitAfter(out, []byte("\n")) {
		skip := false
		for _, p := range prefixes {
			skip = skip || bytes.HasPrefix(line, []byte(p))
		}
		if !skip {
			b.Write(line)
		}
	}
	return b.Bytes()
}

// firstDiff describes the first line where a and b differ.
func firstDiff(a, b []byte) string {
	al, bl := strings.SplitAfter(string(a), "\n"), strings.SplitAfter(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d: native %q, golos %q", i+1, x, y)
		}
	}
	return "(same lines)"
}

// clip returns out for printing: at most 4 KiB, ending in a newline.
func clip(out []byte) string {
	const max = 4096
	s := string(out)
	if len(s) > max {
		s = s[:max] + fmt.Sprintf("\n[… %d more bytes]", len(out)-max)
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return s
}

// oneLine fails the test unless s is exactly one non-empty line (a final newline allowed).
func oneLine(t testing.TB, what string, s []byte) {
	t.Helper()
	line := strings.TrimSuffix(string(s), "\n")
	if line == "" || strings.Contains(line, "\n") {
		t.Errorf("%s: want exactly one line on stderr, got %d bytes:\n%s", what, len(s), clip(s))
	}
}

// countAccepts listens on network and address and counts the connections it accepts
// (each closed at once) until the test ends.
func countAccepts(t *testing.T, network, address string) (net.Listener, *atomic.Int64) {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var n atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return ln, &n
}
