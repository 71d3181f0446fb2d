package tests

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// forkFailScript forks twice once it has its line on stdin, and says whether it got past
// that. Under golos the first fork fails; natively (under unshare -p) the second.
const forkFailScript = `echo ready; read x; /bin/busybox true; /bin/busybox true; echo "after: $?"`

// TestForkFailsLastingENOMEM: a fork golos cannot make and never will (a --volume whose
// host directory the test removes, which the child's golos reopens) fails with ENOMEM,
// with golos's one-line note, and is not made again (its ended child's golos sent a
// SIGCHLD each time, which restarted the call without end: a hang). The native reference: fork(2) fails with ENOMEM in a pid namespace whose init has ended
// (pid_namespaces(7)): under `unshare -p` the script's first child is that init, so its
// second fork fails. The shell's message and exit status must be the same.
func TestForkFailsLastingENOMEM(t *testing.T) {
	needGolos(t)
	dir := t.TempDir()
	native := runNative(&runOpts{dir: dir, stdin: []byte("go\n"), timeout: 20 * time.Second},
		"unshare", "-p", "/bin/busybox", "sh", "-c", forkFailScript)
	if native.timedOut || native.code == 0 || !bytes.Contains(native.stderr, []byte("can't fork")) {
		t.Fatalf("native fork in an ended pid namespace: %s\nstdout:\n%sstderr:\n%s", native, native.stdout, native.stderr)
	}

	root := filepath.Join(dir, "root")
	vol := filepath.Join(dir, "vol")
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, "/bin/busybox", filepath.Join(root, "bin", "busybox"), 0o755)
	if err := os.MkdirAll(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	r := startReady(t, 30*time.Second, "run", "--root", root, "--volume", vol+":/v", "/bin/busybox", "sh", "-c", forkFailScript)
	// The volume's host directory goes: the child's golos of the next fork cannot open it.
	if err := os.Remove(vol); err != nil {
		r.abandon()
		t.Fatal(err)
	}
	rest, err := r.finish(t)
	stderr := &r.stderr
	code := r.cmd.ProcessState.ExitCode()
	if code != native.code || "ready\n"+rest != string(native.stdout) {
		t.Errorf("golos: exit status %d (%v), stdout after ready %q; native: status %d, stdout %q", code, err, rest, native.code, native.stdout)
	}
	// The shell's message as natively, and one golos note for the fork: no other line.
	var notes int
	for _, l := range strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n") {
		switch {
		case strings.HasPrefix(l, "golos: fork: ") && strings.HasSuffix(l, "(the program gets ENOMEM)"):
			notes++
		case l+"\n" == string(native.stderr):
		default:
			t.Errorf("golos: unexpected stderr line %q (native stderr: %q)", l, native.stderr)
		}
	}
	if notes != 1 || !bytes.Contains(stderr.Bytes(), native.stderr) {
		t.Errorf("golos: want native's %q and one golos fork note; stderr:\n%s", native.stderr, stderr.String())
	}
}

// TestForkFailedNotReaped: a thread of the program waits for any child with
// waitid(P_ALL) while another thread forks, and every fork fails after its child's golos
// started (the --volume's host directory is gone, as in TestForkFailsLastingENOMEM): the
// host child golos kills must never reach the program's wait, which would report a pid
// no fork returned (testdata/proc_wait_failed_fork.c). Natively the forks succeed; the
// program's verdict is the same either way.
func TestForkFailedNotReaped(t *testing.T) {
	needGolos(t)
	bin := prog(t, "proc_wait_failed_fork.glibc-static")
	native := runNative(&runOpts{stdin: []byte("go\n"), timeout: 20 * time.Second}, bin)
	want := "ready\nthe first child reaped: yes\nchildren reaped that no fork returned: 0\n"
	if native.err != nil || native.code != 0 || string(native.stdout) != want {
		t.Fatalf("natively: %s\nstdout:\n%sstderr:\n%s", native, native.stdout, native.stderr)
	}
	for round := 0; round < 3; round++ {
		dir := t.TempDir()
		root, vol := filepath.Join(dir, "root"), filepath.Join(dir, "vol")
		rootCopy(t, bin, filepath.Join(root, "prog"), 0o755)
		if err := os.MkdirAll(vol, 0o755); err != nil {
			t.Fatal(err)
		}
		r := startReady(t, 30*time.Second, "run", "--root", root, "--volume", vol+":/v", "/prog")
		if err := os.Remove(vol); err != nil { // every fork from now on fails
			r.abandon()
			t.Fatal(err)
		}
		rest, err := r.finish(t)
		stderr := &r.stderr
		if "ready\n"+rest != want || err != nil {
			t.Errorf("golos (round %d): %v, stdout:\nready\n%s\nwant (as natively):\n%sstderr:\n%s", round, err, rest, want, stderr.String())
		}
		for _, l := range strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n") {
			if !strings.HasPrefix(l, "golos: fork: ") || !strings.HasSuffix(l, "(the program gets ENOMEM)") {
				t.Errorf("golos (round %d): unexpected stderr line %q", round, l)
			}
		}
	}
}

// readyRun is golos running a program that says "ready" on its stdout and then waits for
// a line on its stdin: the test acts in between.
type readyRun struct {
	cmd    *exec.Cmd
	in     io.WriteCloser
	lines  *bufio.Reader
	stderr bytes.Buffer
	timer  *time.Timer
	limit  time.Duration
}

// startReady starts golos with args, in a process group of its own, which is killed
// whole (the child golos processes too) if it has not ended within limit, and reads the
// program's "ready".
func startReady(t *testing.T, limit time.Duration, args ...string) *readyRun {
	t.Helper()
	return startReadyBin(t, limit, golosBin, args...)
}

// startReadyBin is startReady for any program (bin, natively).
func startReadyBin(t *testing.T, limit time.Duration, bin string, args ...string) *readyRun {
	t.Helper()
	r := &readyRun{cmd: exec.Command(bin, args...), limit: limit}
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	r.cmd.Stderr = &r.stderr
	var err error
	if r.in, err = r.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.timer = time.AfterFunc(limit, r.kill)
	r.lines = bufio.NewReader(out)
	if l, err := r.lines.ReadString('\n'); l != "ready\n" {
		r.kill()
		r.cmd.Wait()
		t.Fatalf("%s %s: first line %q (%v), want ready; stderr:\n%s", bin, strings.Join(args, " "), l, err, r.stderr.String())
	}
	return r
}

func (r *readyRun) kill() { syscall.Kill(-r.cmd.Process.Pid, syscall.SIGKILL) }

// abandon kills golos and its tree and waits for it, for a test that stops early.
func (r *readyRun) abandon() {
	r.timer.Stop()
	r.kill()
	r.cmd.Wait()
}

// finish writes the line the program waits for, reads the rest of its stdout and waits
// for golos: the rest, and what Wait returned. A golos still running at the time limit
// fails the test.
func (r *readyRun) finish(t *testing.T) (string, error) {
	t.Helper()
	r.in.Write([]byte("go\n"))
	r.in.Close()
	var rest bytes.Buffer
	rest.ReadFrom(r.lines)
	err := r.cmd.Wait()
	if !r.timer.Stop() {
		t.Fatalf("golos: still running after %v; stdout after ready:\n%sstderr:\n%s", r.limit, rest.String(), r.stderr.String())
	}
	return rest.String(), err
}
