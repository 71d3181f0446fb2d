package tests

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sandboxOpts runs programs under golos run --sandbox, with procEnv's environment.
func sandboxOpts(flags ...string) runOpts {
	o := procEnv
	o.golosFlags = append([]string{"--sandbox"}, flags...)
	return o
}

// TestSandboxSame: programs behave under golos run --sandbox as they do natively: static
// programs that fork and wait (proc_fork) and die of signals (killself: the death passes
// through the golos outside), bash's and dash's pipelines, redirections, subshells and
// exit statuses (TestProcShell's cases), busybox sh, Python's subprocess, fork and
// multiprocessing Pool, whose semaphores are shared memory without a path (dynamic
// programs whose forks and execs start golos again inside the sandbox), and a TCP
// connection over --net=none's own loopback.
func TestSandboxSame(t *testing.T) {
	t.Run("proc_fork", func(t *testing.T) {
		forFlavours(t, "proc_fork", func(t *testing.T, p string) {
			nat, _ := runBothOpts(t, sandboxOpts(), p)
			wantNative(t, nat, 0)
		})
	})
	// The program's death by a signal is golos's, through the golos outside the sandbox.
	t.Run("killself", func(t *testing.T) {
		forFlavours(t, "killself", func(t *testing.T, p string) {
			for _, sig := range []struct {
				name string
				code int
			}{{"segv", 139}, {"kill", 137}, {"term", 143}} {
				nat, _ := runBothOpts(t, sandboxOpts(), p, sig.name)
				wantNative(t, nat, sig.code, "killself: "+sig.name+"\n")
			}
		})
	})
	for _, sh := range []struct {
		name, path string
		cases      []shellCase
	}{
		{"bash", "/bin/bash", append(append([]shellCase{}, shellCases...), bashCases...)},
		{"dash", "/bin/dash", shellCases},
	} {
		t.Run(sh.name, func(t *testing.T) {
			t.Parallel()
			needProgram(t, sh.path, sh.name)
			for _, c := range sh.cases {
				t.Run(c.name, func(t *testing.T) {
					nat, _ := runBothOpts(t, sandboxOpts(), sh.path, "-c", c.script)
					wantNative(t, nat, c.code)
				})
			}
		})
	}
	t.Run("busybox-sh", func(t *testing.T) {
		t.Parallel()
		const bb = "/bin/busybox"
		if _, err := os.Stat(bb); err != nil {
			t.Fatalf("%s: %v (%s)", bb, err, installHint)
		}
		nat, _ := runBothOpts(t, sandboxOpts(), bb, "sh", "-c",
			`seq 1 200 | sort -rn | head -3 | tr '\n' ' '; echo; x=$(echo hi | wc -c); echo "$x"; exit 4`)
		wantNative(t, nat, 4, "200 199 198 \n")
	})
	t.Run("python3", func(t *testing.T) {
		t.Parallel()
		const python = "/usr/bin/python3"
		needProgram(t, python, "python3")
		nat, _ := runBothOpts(t, sandboxOpts(), python, "-c", `import subprocess, os, multiprocessing as mp
print(subprocess.run(["echo", "hi"], capture_output=True).stdout)
print(subprocess.run("exit 3", shell=True).returncode)
pid = os.fork()
if pid == 0:
    os._exit(9)
print(os.waitpid(pid, 0)[1] >> 8)
mp.set_start_method("fork")
with mp.Pool(2) as p:
    print(p.map(abs, [-1, -2, -3]))`)
		wantNative(t, nat, 0, "b'hi\\n'\n3\n9\n[1, 2, 3]\n")
	})
	// --net=none: a network of the program's own, whose loopback works.
	t.Run("net-none-loopback", func(t *testing.T) {
		t.Parallel()
		const python = "/usr/bin/python3"
		needProgram(t, python, "python3")
		nat, _ := runBothOpts(t, sandboxOpts("--net=none"), python, "-c", `import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
c = socket.create_connection(s.getsockname()); a, _ = s.accept()
c.sendall(b"over lo"); print(a.recv(100))`)
		wantNative(t, nat, 0, "b'over lo'\n")
	})
}

// TestSandboxProcSys: the sandbox's root user is the host's, whom the kernel lets write
// its sysctl files under /proc/sys; --sandbox makes them read-only. (What the write would change is the sandbox's own UTS namespace's domain
// name, so that a failure of the test changes nothing of the host's.)
func TestSandboxProcSys(t *testing.T) {
	needGolos(t)
	if os.Getuid() != 0 {
		t.Skip("needs root: only the host's root user may write /proc/sys")
	}
	o := sandboxOpts()
	o.dir = t.TempDir()
	r := runGolosOpts(&o, append(append([]string{"run"}, o.golosFlags...), "/bin/sh", "-c",
		"echo sandboxed > /proc/sys/kernel/domainname; cat /proc/sys/kernel/domainname")...)
	if bytes.Contains(r.stdout, []byte("sandboxed")) || !bytes.Contains(r.stderr, []byte("Read-only file system")) {
		t.Errorf("golos run --sandbox sh writing /proc/sys/kernel/domainname: %s, want a failed write (EROFS)\nstdout:\n%sstderr:\n%s",
			r, clip(r.stdout), clip(r.stderr))
	}
}

// TestSandboxEscape: a program that makes syscalls straight from a "syscall; ret" in
// golos's own text (testdata/sandbox_escape.c), which golos never sees, as code that had
// taken over golos's memory could. Without --sandbox it reads and creates files outside
// its --root, connects to a TCP listener the test holds on 127.0.0.1 and to a unix socket
// outside the root, and kills a process the test started (the test checks the host's
// side: the file's content, the new file, the connections accepted, the process's
// death), which shows that the attempts aim right; with --sandbox (Landlock, the mount
// namespace that holds only the root, --net=none's network namespace) none of them gets
// through, and mount, kcmp and perf_event_open fail with
// EPERM from the seccomp filter (without it: EFAULT, success, EFAULT).
func TestSandboxEscape(t *testing.T) {
	needGolos(t)
	forFlavours(t, "sandbox_escape", func(t *testing.T, p string) {
		h := t.TempDir()
		root := filepath.Join(h, "root")
		if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, p, filepath.Join(root, "bin", "sandbox_escape"), 0o755)
		canary := filepath.Join(h, "canary")
		marker := "SANDBOX-CANARY-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(time.Now().UnixNano(), 10)
		if err := os.WriteFile(canary, []byte(marker+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		ln, accepted := countAccepts(t, "tcp4", "127.0.0.1:0")
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		sockPath := filepath.Join(h, "sock")
		_, unixAccepted := countAccepts(t, "unix", sockPath)

		escape := func(flags []string, args ...string) *result {
			t.Helper()
			o := runOpts{dir: h}
			argv := append(append(append([]string{"run"}, flags...), "--root", root, "/bin/sandbox_escape"), args...)
			r := runGolosOpts(&o, argv...)
			if !bytes.HasPrefix(r.stdout, []byte("gadget found\n")) {
				t.Fatalf("golos %s: %s; the program found no syscall instruction in golos's text\nstdout:\n%sstderr:\n%s",
					strings.Join(argv, " "), r, clip(r.stdout), clip(r.stderr))
			}
			return r
		}
		for _, mode := range []struct {
			name      string
			flags     []string
			sandboxed bool
		}{
			{"root-only", nil, false},
			{"sandbox", []string{"--sandbox", "--net=none"}, true},
		} {
			t.Run(mode.name, func(t *testing.T) {
				// Reading a host file outside the root.
				r := escape(mode.flags, "read", canary)
				if got := bytes.Contains(r.stdout, []byte(marker)); got == mode.sandboxed {
					t.Errorf("%s: read of the canary outside the root: read it %v, want %v\nstdout:\n%s",
						mode.name, got, !mode.sandboxed, clip(r.stdout))
				}
				if mode.sandboxed && !bytes.Contains(r.stdout, []byte("open: ENOENT\n")) && !bytes.Contains(r.stdout, []byte("open: EACCES\n")) {
					t.Errorf("sandbox: open of the canary: want ENOENT (not in the mount namespace) or EACCES (Landlock)\nstdout:\n%s", clip(r.stdout))
				}
				// Creating a host file outside the root.
				victim := filepath.Join(h, "created-"+mode.name)
				escape(mode.flags, "create", victim)
				b, err := os.ReadFile(victim)
				if created := err == nil; created == mode.sandboxed {
					t.Errorf("%s: %s created outside the root: %v (content %q), want %v", mode.name, victim, created, b, !mode.sandboxed)
				}
				// A TCP connection to the test's listener.
				before := accepted.Load()
				r = escape(mode.flags, "connect", port)
				deadline := time.Now().Add(2 * time.Second)
				for !mode.sandboxed && accepted.Load() == before && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if mode.sandboxed {
					time.Sleep(200 * time.Millisecond) // a connection that got through would be accepted by now
				}
				if got := accepted.Load() > before; got == mode.sandboxed {
					t.Errorf("%s: connection to 127.0.0.1:%s arrived: %v, want %v\nstdout:\n%s",
						mode.name, port, got, !mode.sandboxed, clip(r.stdout))
				}
				// A unix socket outside the root, by its host path (the mount namespace holds
				// only the root and its volumes).
				before = unixAccepted.Load()
				r = escape(mode.flags, "unix", sockPath)
				deadline = time.Now().Add(2 * time.Second)
				for !mode.sandboxed && unixAccepted.Load() == before && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if mode.sandboxed {
					time.Sleep(200 * time.Millisecond)
				}
				if got := unixAccepted.Load() > before; got == mode.sandboxed {
					t.Errorf("%s: connection to the unix socket %s arrived: %v, want %v\nstdout:\n%s",
						mode.name, sockPath, got, !mode.sandboxed, clip(r.stdout))
				}
				// A signal to a process of the host's (Landlock's signal scoping).
				sleeper := exec.Command("sleep", "60")
				if err := sleeper.Start(); err != nil {
					t.Fatal(err)
				}
				died := make(chan struct{})
				go func() { sleeper.Wait(); close(died) }()
				r = escape(mode.flags, "kill", strconv.Itoa(sleeper.Process.Pid))
				killed := false
				select {
				case <-died:
					killed = true
				case <-time.After(2 * time.Second):
					sleeper.Process.Kill()
					<-died
				}
				if killed == mode.sandboxed {
					t.Errorf("%s: SIGTERM to a process outside killed it: %v, want %v\nstdout:\n%s",
						mode.name, killed, !mode.sandboxed, clip(r.stdout))
				}
				// The syscalls the seccomp filter refuses.
				r = escape(mode.flags, "denied")
				for _, call := range []string{"mount", "kcmp", "perf_event_open"} {
					refused := bytes.Contains(r.stdout, []byte("\n"+call+": EPERM\n"))
					if refused != mode.sandboxed {
						t.Errorf("%s: %s from golos's text refused with EPERM: %v, want %v\nstdout:\n%s",
							mode.name, call, refused, mode.sandboxed, clip(r.stdout))
					}
				}
			})
		}
	})
}

// TestSandboxFlags: --net needs --sandbox and a known network, --pids-limit --sandbox and
// room for golos's own threads; golos's hidden flags are not for people.
func TestSandboxFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--net=none", "/bin/true"}, "--net none needs --sandbox"},
		{[]string{"run", "--sandbox", "--net=bridge", "/bin/true"}, "--net bridge: want none or host"},
		{[]string{"run", "--sandbox", "--net"}, "--net needs a value"},
		{[]string{"run", "--sandbox=yes", "/bin/true"}, "--sandbox takes no value"},
		{[]string{"run", "--sandbox-stage", "other", "/bin/true"}, "is golos's own"},
		{[]string{"run", "--pids-limit", "64", "/bin/true"}, "--pids-limit needs --sandbox"},
		{[]string{"run", "--sandbox", "--pids-limit", "-1", "/bin/true"}, "--pids-limit needs a number of tasks"},
		{[]string{"run", "--sandbox", "--pids-limit=5", "/bin/true"}, "--pids-limit 5: golos's own threads need 20"},
		{[]string{"run", "--sandbox-task-limit", "0", "/bin/true"}, "is golos's own"},
		{[]string{"run", "--sandbox-rlimit-nproc", "x", "/bin/true"}, "is golos's own"},
	} {
		r := runGolos(t, badInputTimeout, c.args...)
		if r.code != 125 || !bytes.Contains(r.stderr, []byte(c.want)) || bytes.Count(r.stderr, []byte("\n")) != 1 {
			t.Errorf("golos %s: %s, stderr %q; want status 125 and one line with %q", strings.Join(c.args, " "), r, r.stderr, c.want)
		}
	}
	// The sandbox's second step, typed by hand in its parent's namespaces, is refused
	// before it changes any mount. (Its parent, a shell, runs in a mount namespace of
	// its own, unshare -m, so that a failure of the check changes nothing of the host's.)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatalf("unshare (util-linux) is not installed: %v", err)
	}
	o := runOpts{dir: t.TempDir(), timeout: badInputTimeout}
	cmd := exec.Command("unshare", "-m", "/bin/sh", "-c", `"$0" run --sandbox-stage enter --root "$1" /bin/true; st=$?; exit $st`,
		golosBin, o.dir)
	r := run(cmd, &o, badInputTimeout)
	want := "--sandbox-stage enter is golos's own: not started by golos run --sandbox"
	if r.code != 125 || !bytes.Contains(r.stderr, []byte(want)) {
		t.Errorf("unshare -m golos run --sandbox-stage enter: %s, stderr %q; want status 125 and %q", r, r.stderr, want)
	}
}

// TestSandboxSignalsForwarded: a signal sent to golos run --sandbox (the golos outside)
// reaches the program, natively's way: a shell's trap runs, and the shell's exit status
// is golos's. Without a terminal, SIGINT is passed on too.
func TestSandboxSignalsForwarded(t *testing.T) {
	needGolos(t)
	script := `for s in TERM INT HUP USR1; do trap "echo got $s; exit 3" $s; done; echo ready; while :; do sleep 0.05; done`
	for _, c := range []struct {
		name string // as a shell's trap takes it
		sig  syscall.Signal
	}{{"TERM", syscall.SIGTERM}, {"INT", syscall.SIGINT}, {"HUP", syscall.SIGHUP}, {"USR1", syscall.SIGUSR1}} {
		sig := c.sig
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			run := func(argv ...string) (string, int) {
				t.Helper()
				cmd := exec.Command(argv[0], argv[1:]...)
				cmd.Dir = t.TempDir()
				out, err := cmd.StdoutPipe()
				if err != nil {
					t.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				timer := time.AfterFunc(runTimeout, func() { cmd.Process.Kill() })
				defer timer.Stop()
				buf := make([]byte, 6)
				if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "ready\n" {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("%q: no \"ready\" line (%q, %v)", argv, buf, err)
				}
				cmd.Process.Signal(sig)
				rest, _ := io.ReadAll(out)
				cmd.Wait()
				return string(rest), cmd.ProcessState.ExitCode()
			}
			natOut, natCode := run("/bin/sh", "-c", script)
			want := "got " + c.name + "\n"
			if natOut != want || natCode != 3 {
				t.Fatalf("natively: stdout %q, status %d; want %q, 3", natOut, natCode, want)
			}
			out, code := run(golosBin, "run", "--sandbox", "/bin/sh", "-c", script)
			if out != natOut || code != natCode {
				t.Errorf("golos run --sandbox: stdout %q, status %d; natively %q, %d", out, code, natOut, natCode)
			}
		})
	}
}

// TestSandboxNonRoot: a user other than root gets a user namespace of its own, in which
// golos makes the mounts with ambient capabilities it then gives up: the program runs
// with the user's ids and no capabilities, as natively, and the escape program's
// attempts from golos's text are still refused.
func TestSandboxNonRoot(t *testing.T) {
	needGolos(t)
	if os.Getuid() != 0 {
		t.Skip("needs root, to run golos as another user")
	}
	// golos, the root and the working directory where user nobody reaches them.
	dir := reachableTempDir(t)
	golos := filepath.Join(dir, "golos")
	copyFile(t, golosBin, golos, 0o755)
	root := filepath.Join(dir, "root")
	if err := os.MkdirAll(filepath.Join(root, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, prog(t, "sandbox_escape.glibc-static"), filepath.Join(root, "bin", "sandbox_escape"), 0o755)
	nobody := &syscall.Credential{Uid: 65534, Gid: 65534}
	run := func(argv ...string) *result {
		t.Helper()
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
		return run(cmd, &runOpts{dir: dir}, runTimeout)
	}
	script := `id -u; id -g; grep -E '^Cap(Inh|Prm|Eff|Amb)' /proc/self/status; echo hi | tr a-z A-Z`
	nat := run("/bin/sh", "-c", script)
	g := run(golos, "run", "--sandbox", "/bin/sh", "-c", script)
	if nat.code != 0 || g.code != nat.code || !bytes.Equal(g.stdout, nat.stdout) {
		t.Errorf("as nobody: natively %s, golos run --sandbox %s\n--- native stdout:\n%s--- golos stdout:\n%s--- golos stderr:\n%s",
			nat, g, clip(nat.stdout), clip(g.stdout), clip(g.stderr))
	}
	r := run(golos, "run", "--sandbox", "--net=none", "--root", root, "/bin/sandbox_escape", "denied")
	for _, call := range []string{"mount", "kcmp", "perf_event_open"} {
		if !bytes.Contains(r.stdout, []byte("\n"+call+": EPERM\n")) {
			t.Errorf("as nobody, golos run --sandbox: %s from golos's text not refused with EPERM: %s\nstdout:\n%sstderr:\n%s",
				call, r, clip(r.stdout), clip(r.stderr))
		}
	}
}

// TestSandboxJobControl: TestJobControl's stops under --sandbox: a program that stops
// (raising SIGTSTP or SIGSTOP, or sent SIGTSTP or SIGSTOP: a SIGTSTP to golos reaches the
// program through the golos outside) is seen stopped by the same signal by its parent,
// and continued by a SIGCONT to golos, its SIGCONT handler run once, as natively.
func TestSandboxJobControl(t *testing.T) {
	cases := []struct {
		name             string
		mode             string
		send, want, then syscall.Signal
	}{
		{"raise-tstp", "raise-tstp", 0, syscall.SIGTSTP, 0},
		{"raise-stop", "raise-stop", 0, syscall.SIGSTOP, 0},
		{"kill-tstp", "wait", syscall.SIGTSTP, syscall.SIGTSTP, 0},
		{"pause-tstp", "pause", syscall.SIGTSTP, syscall.SIGTSTP, syscall.SIGUSR1},
	}
	p := prog(t, "sig_stop.glibc-static")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			nat := stopAndContinue(t, false, c.send, c.want, c.then, p, c.mode)
			if g := stopAndContinue(t, true, c.send, c.want, c.then, "--sandbox", p, c.mode); g != nat {
				t.Errorf("stdout: native %q, golos run --sandbox %q", nat, g)
			}
		})
	}
}

// TestSandboxPidNamespace: the sandbox is a pid namespace of its own, whose first process
// is the program, as under unshare --pid --fork --mount-proc natively: the shell's $$ is
// 1 and its $PPID 0, ps (reading the namespace's /proc) lists only the shell and itself,
// and /proc/1/comm is the shell's. (ps's own pid is masked: golos's threads take pids of
// the namespace too.) With --pid1 the program also has init's signals: its own SIGTERM
// and SIGKILL do not reach it. Without it, its signals stay a process's (TestSandboxSame's
// killself, TestSandboxJobControl).
func TestSandboxPidNamespace(t *testing.T) {
	needGolos(t)
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatalf("unshare (util-linux) is not installed: %v", err)
	}
	needProgram(t, "/usr/bin/ps", "procps")
	for _, c := range []struct {
		name   string
		flags  []string
		script string
		want   string // in the native run's output, which shows the script ran as meant
	}{
		{"ps", nil, `echo $$ $PPID; ps -o pid,comm; cat /proc/1/comm`, "1 0\n"},
		{"pid1-signals", []string{"--pid1"}, `kill -TERM $$; echo survived TERM; kill -KILL $$; echo survived KILL`, "survived KILL\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := runOpts{dir: t.TempDir()}
			nat := run(exec.Command("unshare", "--pid", "--fork", "--mount-proc", "/bin/sh", "-c", c.script), &o, runTimeout)
			args := append(append([]string{"run", "--sandbox"}, c.flags...), "/bin/sh", "-c", c.script)
			g := runGolosOpts(&o, args...)
			if nat.code != 0 || !bytes.Contains(nat.stdout, []byte(c.want)) {
				t.Fatalf("natively (unshare): %s, want status 0 and %q\nstdout:\n%sstderr:\n%s", nat, c.want, clip(nat.stdout), clip(nat.stderr))
			}
			if n, gm := maskPsPids(nat.stdout), maskPsPids(g.stdout); g.code != nat.code || n != gm {
				t.Errorf("golos run --sandbox %s: %s; natively (unshare) %s\n--- native stdout:\n%s--- golos stdout:\n%s--- golos stderr:\n%s",
					strings.Join(c.flags, " "), g, nat, n, gm, clip(g.stderr))
			}
		})
	}
}

// maskPsPids replaces the pid of each of ps's lines but pid 1's with "N".
func maskPsPids(out []byte) string {
	lines := strings.SplitAfter(string(out), "\n")
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) == 2 && f[0] != "1" {
			if _, err := strconv.Atoi(f[0]); err == nil {
				lines[i] = "N " + f[1] + "\n"
			}
		}
	}
	return strings.Join(lines, "")
}

// TestSandboxRlimits: under --sandbox the program starts with a soft RLIMIT_CORE of 0,
// its hard limit the user's, so that it may raise it again; its other limits are the
// user's own (RLIMIT_NPROC, RLIMIT_NOFILE). Both runs start under prlimit with a soft
// core limit of 1 MiB (the test process's own is 0), which natively bash shows as it is
// (1024 blocks of 1 KiB).
func TestSandboxRlimits(t *testing.T) {
	needGolos(t)
	var core syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_CORE, &core); err != nil || core.Max < 4<<20 {
		t.Fatalf("the test process's hard RLIMIT_CORE is %d (%v): want 4 MiB or more (main_test.go keeps the user's)", core.Max, err)
	}
	needProgram(t, "/bin/bash", "bash")
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatalf("prlimit (util-linux) is not installed: %v", err)
	}
	script := `ulimit -Sc; ulimit -Hc; ulimit -Su; ulimit -Hu; ulimit -Sn; ulimit -Hn; ulimit -Sc 2048 && ulimit -Sc`
	o := runOpts{dir: t.TempDir()}
	nat := run(exec.Command("prlimit", "--core=1048576:", "/bin/bash", "-c", script), &o, runTimeout)
	g := run(exec.Command("prlimit", "--core=1048576:", golosBin, "run", "--sandbox", "/bin/bash", "-c", script), &o, runTimeout)
	natLines := strings.Split(string(nat.stdout), "\n")
	if nat.code != 0 || len(natLines) != 8 || natLines[0] != "1024" || natLines[6] != "2048" {
		t.Fatalf("natively: %s, want status 0 and 7 lines, the first 1024 and the last 2048\nstdout:\n%sstderr:\n%s",
			nat, clip(nat.stdout), clip(nat.stderr))
	}
	want := "0\n" + strings.Join(natLines[1:], "\n")
	if g.code != 0 || string(g.stdout) != want {
		t.Errorf("golos run --sandbox: %s\n--- stdout:\n%s--- want:\n%s--- stderr:\n%s", g, g.stdout, want, clip(g.stderr))
	}
}
