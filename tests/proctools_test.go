package tests

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Everyday tools that spawn processes (tar running gzip, git running its helpers, xargs
// -P, perl's system and backticks), process trees (orphans, a subreaper, a parent-death
// signal, a process group killed whole) and an interactive bash's job control under a
// pseudo-terminal. Each runs natively and under golos, and the two must agree.

// procToolsEnv is procEnv with HOME in dir and fixed names, emails and dates for git's
// commits, so that two runs make the same commits.
func procToolsEnv(dir string) runOpts {
	o := procEnv
	o.dir = dir
	o.env = append(append([]string{}, procEnv.env...),
		"HOME="+dir, "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Author", "GIT_AUTHOR_EMAIL=author@example.org", "GIT_AUTHOR_DATE=2020-01-02T03:04:05Z",
		"GIT_COMMITTER_NAME=Committer", "GIT_COMMITTER_EMAIL=committer@example.org",
		"GIT_COMMITTER_DATE=2020-01-02T03:04:05Z")
	o.unsetEnv = append(append([]string{}, procEnv.unsetEnv...),
		"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_CONFIG", "GIT_CONFIG_GLOBAL",
		"GIT_CONFIG_COUNT", "GIT_EXEC_PATH", "GIT_TRACE")
	return o
}

// freshDir starts a shell script in a new directory of its own under the test's, so
// that the golos run does not find what the native run left (runBothOpts runs both in
// the same directory).
const freshDir = `cd "$(mktemp -d "$PWD/run.XXXXXX")" || exit 99; `

// TestProcTools: tar czf (tar runs gzip) and tar tzf; git init, add, commit, log, an
// alias that runs a shell, gc (which runs repack, pack-objects, prune…); xargs -P2 running
// sh; perl's system, backticks, a pipe open and fork. Each runs natively and under golos,
// in a directory of its own, with the same stdout and exit status.
func TestProcTools(t *testing.T) {
	cases := []struct {
		name  string
		tools [][2]string // path, Debian package
		argv  []string
		want  []string // lines of the native stdout
	}{
		{"tar-gzip", [][2]string{{"/usr/bin/tar", "tar"}, {"/usr/bin/gzip", "gzip"}},
			[]string{"/bin/sh", "-c", freshDir + `mkdir -p dir/sub && echo a > dir/a && echo b > dir/b && echo c > dir/sub/c &&
tar czf x.tgz dir && tar tzf x.tgz | sort && gzip -t x.tgz && echo "gzip -t: $?" &&
mkdir out && tar xzf x.tgz -C out && cat out/dir/sub/c`},
			[]string{"dir/\ndir/a\ndir/b\ndir/sub/\ndir/sub/c\ngzip -t: 0\nc\n"}},
		{"git", [][2]string{{"/usr/bin/git", "git"}},
			[]string{"/bin/sh", "-c", freshDir + `git -c init.defaultBranch=main init -q && echo hello > f && mkdir d && echo x > d/g &&
git add . && git commit -qm msg && echo more >> f && git commit -qam second &&
git log --format='%s|%an|%ae|%ad|%cn' --date=iso-strict && git status --short && echo "status: $?" &&
git -c alias.hi='!echo alias ran in a shell' hi && git diff --stat HEAD~1 &&
git gc -q && git count-objects -v | grep -E '^(count|in-pack):' && git log --oneline --format=%s | wc -l`},
			[]string{"second|Author|author@example.org|2020-01-02T03:04:05+00:00|Committer\n" +
				"msg|Author|author@example.org|2020-01-02T03:04:05+00:00|Committer\n" +
				"status: 0\nalias ran in a shell\n f | 1 +\n 1 file changed, 1 insertion(+)\n" +
				"count: 0\nin-pack: 8\n2\n"}},
		{"xargs-P2", [][2]string{{"/usr/bin/xargs", "findutils"}},
			[]string{"/bin/sh", "-c", `printf '1\n2\n3\n4\n' | xargs -P2 -n1 sh -c 'echo $(($0*2))' | sort`},
			[]string{"2\n4\n6\n8\n"}},
		{"perl", [][2]string{{"/usr/bin/perl", "perl"}},
			[]string{"/usr/bin/perl", "-e", `$| = 1;
system("echo from perl system"); print "status $?\n";
my $x = ` + "`echo backtick`" + `; print $x;
system("sh", "-c", "exit 3"); print "exit status ", $? >> 8, "\n";
system("sh", "-c", 'kill -TERM $$'); print "signal ", $? & 127, "\n";
open(my $fh, "-|", "echo", "from a pipe open") or die "open: $!"; print <$fh>; close $fh; print "close: $?\n";
my $pid = fork() // die "fork: $!";
if ($pid == 0) { exit 4 }
waitpid($pid, 0) == $pid or die "waitpid: $!"; print "forked child exited ", $? >> 8, "\n";`},
			[]string{"from perl system\nstatus 0\nbacktick\nexit status 3\nsignal 15\nfrom a pipe open\nclose: 0\nforked child exited 4\n"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			for _, tool := range c.tools {
				needProgram(t, tool[0], tool[1])
			}
			nat, _ := runBothOpts(t, procToolsEnv(t.TempDir()), c.argv...)
			wantNative(t, nat, 0, c.want...)
		})
	}
}

// TestProcTree: an orphaned grandchild is reparented (and its report reaches the top
// process through an inherited pipe); a child subreaper gets its orphaned grandchild and
// reaps it; PR_SET_PDEATHSIG's signal comes when the parent dies; SIGKILL sent to the
// process group of a shell and its two background sleeps leaves no process behind.
func TestProcTree(t *testing.T) {
	t.Run("orphan", func(t *testing.T) {
		forFlavours(t, "proc_orphan", func(t *testing.T, p string) {
			nat, _ := runBoth(t, p)
			wantNative(t, nat, 0,
				"top: the child exited 0 right after its fork: yes\n",
				"grandchild: reparented (getppid() changed): yes\n",
				"grandchild: its new parent is the top process: no\n",
				"grandchild: still in the top process's process group: yes\n",
				"top: the grandchild's report came through the inherited pipe: yes\n",
				"top: waitpid(-1, WNOHANG) after the child was reaped: -1 ECHILD\n",
				"failures: 0\n")
		})
	})
	t.Run("subreaper", func(t *testing.T) {
		forFlavours(t, "proc_reaper", func(t *testing.T, p string) {
			nat, _ := runBoth(t, p, "subreaper")
			wantNative(t, nat, 0,
				"top: prctl(PR_SET_CHILD_SUBREAPER, 1) returned 0: yes\n",
				"top: PR_GET_CHILD_SUBREAPER says 1: yes\n",
				"grandchild: its new parent is the top process (the subreaper): yes\n",
				"top: waitpid(-1) reaped the grandchild (not the child), exit status 7: yes\n",
				"top: then waitpid(-1, WNOHANG): -1 ECHILD\n",
				"failures: 0\n")
		})
	})
	t.Run("pdeathsig", func(t *testing.T) {
		forFlavours(t, "proc_reaper", func(t *testing.T, p string) {
			nat, _ := runBoth(t, p, "pdeathsig")
			wantNative(t, nat, 0,
				"grandchild: PR_GET_PDEATHSIG says 15\n",
				"grandchild: SIGTERM came when its parent died\n",
				"top: the grandchild got its SIGTERM: yes\n",
				"failures: 0\n")
		})
	})
	t.Run("kill-group", func(t *testing.T) {
		t.Parallel()
		native := killGroup(t, false)
		golos := killGroup(t, true)
		if native != "" && golos != "" && native != golos {
			t.Errorf("the group before SIGKILL: native %s; golos %s", native, golos)
		}
	})
}

// A procInfo is a process as /proc/PID/stat shows it.
type procInfo struct {
	pid, ppid, pgrp int
	comm            string
	state           byte
}

func (p procInfo) String() string {
	return fmt.Sprintf("pid %d (%s) state %c ppid %d", p.pid, p.comm, p.state, p.ppid)
}

// groupProcs lists the processes of process group pgrp that are not zombies (a zombie
// is dead: its parent, maybe init, has not reaped it yet).
func groupProcs(pgrp int) []procInfo {
	ents, _ := os.ReadDir("/proc")
	var ps []procInfo
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp …: the comm may hold spaces and parentheses.
		lp, rp := bytes.IndexByte(b, '('), bytes.LastIndexByte(b, ')')
		if lp < 0 || rp < lp {
			continue
		}
		f := strings.Fields(string(b[rp+1:]))
		if len(f) < 3 {
			continue
		}
		p := procInfo{pid: pid, comm: string(b[lp+1 : rp]), state: f[0][0]}
		p.ppid, _ = strconv.Atoi(f[1])
		p.pgrp, _ = strconv.Atoi(f[2])
		if p.pgrp == pgrp && p.state != 'Z' && p.state != 'X' {
			ps = append(ps, p)
		}
	}
	return ps
}

// killGroup starts sh -c 'sleep 100 & sleep 100 & wait' (under golos when golos is true)
// in a process group of its own, waits until both sleeps run, sends SIGKILL to the group
// and checks that the shell dies of it and that no process of the group is left within
// 5 s. It returns what the group was made of before the SIGKILL (the commands, sorted).
func killGroup(t *testing.T, golos bool) string {
	t.Helper()
	how := "natively"
	argv := []string{"/bin/sh", "-c", "sleep 100 & sleep 100 & wait"}
	if golos {
		how = "under golos"
		needGolos(t)
		argv = append([]string{golosBin, "run"}, argv...)
	}
	o := procEnv
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = o.environ()
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: start %q: %v", how, argv, err)
	}
	pgrp := cmd.Process.Pid
	waited := false
	defer func() {
		if !waited {
			syscall.Kill(-pgrp, syscall.SIGKILL)
			cmd.Wait()
		}
	}()

	var before []procInfo
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		before = groupProcs(pgrp)
		sleeps := 0
		for _, p := range before {
			if p.comm == "sleep" && p.state == 'S' {
				sleeps++
			}
		}
		if sleeps == 2 {
			break
		}
		if time.Now().After(end) {
			t.Errorf("%s: after 30 s, not 2 sleeps in the process group but %v\nstderr:\n%s", how, before, clip(stderr.Bytes()))
			return ""
		}
	}
	var comms []string
	for _, p := range before {
		comms = append(comms, p.comm)
	}
	sort.Strings(comms)
	t.Logf("%s: the group before SIGKILL: %v", how, before)

	if err := syscall.Kill(-pgrp, syscall.SIGKILL); err != nil {
		t.Fatalf("%s: kill(-%d, SIGKILL): %v", how, pgrp, err)
	}
	err := cmd.Wait()
	waited = true
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Errorf("%s: the shell's wait: %v", how, err)
	} else if ws := ee.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Errorf("%s: the shell %s, want killed by SIGKILL", how, describeStatus(ws))
	}
	var left []procInfo
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if left = groupProcs(pgrp); len(left) == 0 {
			break
		}
	}
	if len(left) > 0 {
		t.Errorf("%s: 5 s after SIGKILL to the process group, processes of the group are left: %v", how, left)
		for _, p := range left { // not to outlive the test
			syscall.Kill(p.pid, syscall.SIGKILL)
		}
	}
	return strings.Join(comms, " ")
}

// A ptySession is a program run on a new pseudo-terminal, as its session leader with the
// terminal as its controlling terminal; what it writes to the terminal is collected.
type ptySession struct {
	t      *testing.T
	how    string
	master *os.File
	proc   *os.Process
	done   chan struct{} // the master reached its end (EIO: no slave left open)

	mu  sync.Mutex
	out bytes.Buffer
}

// openPty opens a new pseudo-terminal (pts(4)): its master and its slave.
func openPty() (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("unlockpt: %w", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, fmt.Errorf("ptsname: %w", err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	// Wide lines: readline does not wrap what is typed.
	unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 40, Col: 250})
	return master, slave, nil
}

// startPty starts argv on a new pseudo-terminal with env as its whole environment.
func startPty(t *testing.T, how string, env []string, argv ...string) *ptySession {
	t.Helper()
	master, slave, err := openPty()
	if err != nil {
		t.Fatalf("a pseudo-terminal: %v", err)
	}
	proc, err := os.StartProcess(argv[0], argv, &os.ProcAttr{
		Dir:   t.TempDir(),
		Env:   env,
		Files: []*os.File{slave, slave, slave},
		Sys:   &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0},
	})
	slave.Close()
	if err != nil {
		master.Close()
		t.Fatalf("start %q: %v", argv, err)
	}
	s := &ptySession{t: t, how: how, master: master, proc: proc, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			s.mu.Lock()
			s.out.Write(buf[:n])
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return s
}

// transcript is everything the program wrote to the terminal so far.
func (s *ptySession) transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// send types keys on the terminal.
func (s *ptySession) send(keys string) {
	s.t.Helper()
	if _, err := s.master.Write([]byte(keys)); err != nil {
		s.t.Fatalf("%s: typing %q: %v", s.how, keys, err)
	}
}

// waitFor waits (at most 30 s) until the transcript holds want at or after byte from; it
// returns the offset just past it.
func (s *ptySession) waitFor(from int, want, doing string) int {
	s.t.Helper()
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		out := s.transcript()
		if from <= len(out) {
			if i := strings.Index(out[from:], want); i >= 0 {
				return from + i + len(want)
			}
		}
		if time.Now().After(end) {
			s.t.Fatalf("%s: %s: no %q on the terminal after 30 s; the terminal shows:\n%s", s.how, doing, want, clip([]byte(out)))
		}
	}
}

// foreground waits (at most 30 s) until the terminal's foreground process group is not
// the shell's and holds a process named comm that is not stopped and sleeps; it returns
// that group.
func (s *ptySession) foreground(comm, doing string) int {
	s.t.Helper()
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		pg, err := unix.IoctlGetInt(int(s.master.Fd()), unix.TIOCGPGRP)
		if err == nil && pg != s.proc.Pid {
			for _, p := range groupProcs(pg) {
				if p.comm == comm && p.state == 'S' {
					return pg
				}
			}
		}
		if time.Now().After(end) {
			s.t.Fatalf("%s: %s: no %s sleeping in the terminal's foreground after 30 s (foreground group %d, %v); the terminal shows:\n%s",
				s.how, doing, comm, pg, err, clip([]byte(s.transcript())))
		}
	}
}

// bashJobs runs bash -i on a pseudo-terminal (under golos when golos is true) and drives
// its job control: sleep 100, ^Z, jobs, bg, fg, ^C, echo done $?, exit. It returns the
// transcript.
func bashJobs(t *testing.T, golos bool) string {
	t.Helper()
	how := "natively"
	argv := []string{"/bin/bash", "--norc", "--noprofile", "-i"}
	if golos {
		how = "under golos"
		needGolos(t)
		argv = append([]string{golosBin, "run"}, argv...)
	}
	home := t.TempDir()
	env := []string{"PATH=/usr/bin:/bin", "LC_ALL=C", "TERM=dumb", "PS1=P> ", "HOME=" + home, "HISTFILE="}
	s := startPty(t, how, env, argv...)
	sleepGroup := 0
	defer func() {
		s.master.Close()
		syscall.Kill(-s.proc.Pid, syscall.SIGKILL)
		if sleepGroup != 0 && len(groupProcs(sleepGroup)) > 0 {
			syscall.Kill(-sleepGroup, syscall.SIGKILL)
		}
		s.proc.Wait() // (already reaped when the test got that far)
	}()

	s.waitFor(0, "P> ", "the first prompt")
	s.send("sleep 100\r")
	sleepGroup = s.foreground("sleep", "sleep 100 in the foreground")
	at := len(s.transcript())
	s.send("\x1a") // ^Z
	at = s.waitFor(at, "Stopped", "^Z while sleep 100 runs")
	at = s.waitFor(at, "P> ", "the prompt after ^Z")
	s.send("jobs\r")
	at = s.waitFor(at, "Stopped", "jobs")
	at = s.waitFor(at, "P> ", "the prompt after jobs")
	s.send("bg\r")
	at = s.waitFor(at, "sleep 100 &", "bg")
	at = s.waitFor(at, "P> ", "the prompt after bg")
	s.send("fg\r")
	s.waitFor(at, "sleep 100", "fg")
	if pg := s.foreground("sleep", "sleep 100 back in the foreground after fg"); pg != sleepGroup {
		t.Errorf("%s: after fg, the foreground group is %d, not the sleep's %d", how, pg, sleepGroup)
	}
	at = len(s.transcript())
	s.send("\x03") // ^C
	at = s.waitFor(at, "P> ", "the prompt after ^C")
	s.send("echo done $?\r")
	at = s.waitFor(at, "done 130", "echo done $? after ^C")
	s.waitFor(at, "P> ", "the prompt after echo")
	s.send("exit\r")

	exited := make(chan *os.ProcessState, 1)
	go func() {
		st, _ := s.proc.Wait()
		exited <- st
	}()
	select {
	case st := <-exited:
		if st == nil || !st.Exited() || st.ExitCode() != 0 {
			t.Errorf("%s: bash after exit: %v, want exit status 0", how, st)
		}
	case <-time.After(30 * time.Second):
		t.Errorf("%s: bash did not end within 30 s of exit; the terminal shows:\n%s", how, clip([]byte(s.transcript())))
	}
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
	}
	return s.transcript()
}

// TestProcJobs: an interactive bash on a pseudo-terminal runs sleep 100 in the
// foreground; ^Z stops it ("Stopped"), jobs lists it, bg continues it in the background
// ("sleep 100 &"), fg brings it back, ^C kills it (bash's $? is 130), and exit ends bash
// with status 0. Natively and with bash under golos (so sleep is golos's child too).
func TestProcJobs(t *testing.T) {
	needProgram(t, "/bin/bash", "bash")
	for _, golos := range []bool{false, true} {
		name := "native"
		if golos {
			name = "golos"
		}
		t.Run(name, func(t *testing.T) {
			out := bashJobs(t, golos)
			for _, want := range []string{"Stopped", "sleep 100 &", "done 130"} {
				if !strings.Contains(out, want) {
					t.Errorf("the terminal lacks %q:\n%s", want, clip([]byte(out)))
				}
			}
			t.Logf("the terminal showed:\n%s", strings.ReplaceAll(out, "\r", ""))
		})
	}
}

// TestProcForkInterrupted: a ^C (SIGINT to the process group) that comes while a shell
// forks reaches the child's golos too, which is in the same group; the shell's fork must
// not fail for it ("Cannot fork", a note of golos's), as on Linux, where a fork that a
// signal interrupts is made again after the signal (ERESTARTNOINTR). The shell's trap
// runs and it exits 7, natively and under golos, with nothing on stderr; several times,
// the ^C at different moments of the loop.
func TestProcForkInterrupted(t *testing.T) {
	t.Parallel()
	script := `trap 'exit 7' INT; while :; do /bin/true; done`
	for _, golos := range []bool{false, true} {
		for i := 0; i < 6; i++ {
			argv := []string{"/bin/sh", "-c", script}
			how := "natively"
			if golos {
				needGolos(t)
				how = "under golos"
				argv = append([]string{golosBin, "run"}, argv...)
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Env = procEnv.environ()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
			if err := cmd.Start(); err != nil {
				t.Fatalf("%s: start: %v", how, err)
			}
			time.Sleep(time.Duration(300+37*i) * time.Millisecond)
			syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
				<-done
				t.Fatalf("%s, run %d: the shell did not end within 30 s of SIGINT", how, i)
			}
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			if code != 7 || stderr.Len() != 0 {
				t.Errorf("%s, run %d: exit status %d (want 7, the trap's), stderr:\n%s", how, i, code, clip(stderr.Bytes()))
			}
		}
	}
}
