package tests

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
)

// Signals between processes: kill(2) to a process group golos's process belongs to (the
// program must get its signal through golos, the other members theirs from the host), and
// signals to other processes, which pass through.

// TestSignalsGroupSelf: kill(0, sig) and kill(-pgrp, sig) in a process group of the
// program's own: each handler runs once, before kill returns, with SI_USER and the
// program's pid, also for the signals golos's process keeps for itself on the host
// (SIGURG, SIGPIPE, SIGSYS, SIGSEGV); kill and tkill to the parent pass through.
func TestSignalsGroupSelf(t *testing.T) {
	forFlavours(t, "sig_group", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p, "self")
		const handled = ": handled 1 time(s) before kill returned, si_code SI_USER, si_pid == getpid(): yes\n"
		wantNative(t, nat, 0, "kill(0, SIGUSR1) = 0"+handled, "kill(-pgrp, SIGUSR2) = 0"+handled,
			"kill(0, SIGURG) = 0"+handled, "kill(-pgrp, SIGPIPE) = 0"+handled,
			"kill(0, SIGSYS) = 0"+handled, "kill(0, SIGSEGV) = 0"+handled,
			"kill(0, SIGRTMIN+1)"+handled, "kill(getppid(), 0) = 0\n", "tkill(getppid(), 0) = 0\n",
			"failures: 0\n")
	})
}

// TestSignalsGroup: a program in a process group with another process (a native helper)
// signals the group with kill(0, …) and kill(-pgrp, …): its own handlers run, and the
// helper gets each signal too, from the program's pid, SIGURG included (a signal golos
// sends the program itself).
func TestSignalsGroup(t *testing.T) {
	forFlavours(t, "sig_group", func(t *testing.T, p string) {
		var outs [2]string
		for i, golos := range []bool{false, true} {
			helper := startJob(t, false, p, "helper")
			if line := helper.waitLine(t); line != "ready" {
				t.Fatalf("helper's first line %q, want ready", line)
			}
			argv := []string{p, "send"}
			if golos {
				needGolos(t)
				argv = append([]string{golosBin, "run"}, argv...)
			}
			cmd := exec.Command(argv[0], argv[1:]...)
			cmd.Dir = t.TempDir()
			cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pgid: helper.pid}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%q: %v\nstdout:\n%sstderr:\n%s", argv, err, out, stderr.String())
			}
			helper.stdin.Close()
			if ws := helper.wait(t, 0); !ws.Exited() || ws.ExitStatus() != 0 {
				t.Fatalf("helper: %s; stdout:\n%s", describeStatus(ws), helper.out.String())
			}
			<-helper.done
			h := helper.out.String()
			pid, _, _ := strings.Cut(strings.TrimPrefix(string(out), "pid "), "\n")
			if !strings.Contains(h, "\nsender "+pid+"\n") {
				t.Errorf("golos %v: the helper's signals did not come from the sender (pid %s):\n%s", golos, pid, h)
			}
			outs[i] = string(mask(out, []string{"pid "})) + string(mask([]byte(h), []string{"sender "}))
		}
		const handled = ": handled 1 time(s) before kill returned, si_code SI_USER, si_pid == getpid(): yes\n"
		want := "kill(0, SIGUSR1)" + handled + "kill(-pgrp, SIGUSR2)" + handled + "kill(0, SIGURG)" + handled +
			"failures: 0\nready\nhelper: SIGUSR1 1, SIGUSR2 1, SIGURG 1 time(s), all SI_USER from one process: yes\n"
		if outs[0] != want {
			t.Fatalf("test program misbehaves natively:\n%s\nwant:\n%s", outs[0], want)
		}
		if outs[1] != outs[0] {
			t.Errorf("native and golos differ:\n--- native:\n%s--- golos:\n%s", outs[0], outs[1])
		}
	})
}

// TestSignalsPidfd: pidfd_send_signal(2) on the program's own pidfd (with and without a
// siginfo, with the scope flags, PIDFD_SELF_*), on a thread's pidfd (the signal goes to
// that thread), on an ended thread's (ESRCH); pidfd_open(2) and waitid(P_PIDFD) on the
// parent, which is another process, and on a pid that does not exist;
// PIDFD_SIGNAL_PROCESS_GROUP to a group of the program's own.
func TestSignalsPidfd(t *testing.T) {
	forFlavours(t, "sig_pidfd", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		const self = ", handled 1 time(s), "
		wantNative(t, nat, 0, "pidfd_open(getpid()): ok\n",
			"send SIGUSR1: ok"+self+"SI_USER, in the right thread: yes\n",
			"send SIGUSR1 with SI_QUEUE info: ok"+self+"SI_QUEUE, in the right thread: yes\n", "si_value: 77\n",
			"PIDFD_SIGNAL_THREAD: ok"+self+"SI_TKILL, in the right thread: yes\n",
			"PIDFD_SELF_THREAD_GROUP: ok"+self+"SI_USER, in the right thread: yes\n",
			"send SIGUSR2 to the thread's pidfd: ok"+self+"SI_TKILL, in the right thread: yes\n",
			"signal 0 to the ended thread's pidfd: ESRCH\n", "pidfd_open(getppid()): ok\n",
			"pidfd_open(no such pid): ESRCH\n",
			"PIDFD_SIGNAL_PROCESS_GROUP: ok"+self+"SI_USER, in the right thread: yes\n",
			"PIDFD_SIGNAL_PROCESS_GROUP, SIGURG: ok"+self+"SI_USER, in the right thread: yes\n", "failures: 0\n")
	})
}

// TestSignalsExecKeep: execve(2) keeps the signal mask and the ignored signals and resets
// handled ones to SIG_DFL: golos's execve starts a new golos, which must be told.
func TestSignalsExecKeep(t *testing.T) {
	forFlavours(t, "sig_exec_keep", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "SIGUSR1 blocked: yes\n", "SIGRTMIN+3 blocked: yes\n",
			"SIGUSR2 not blocked: yes\n", "SIGUSR2 ignored: yes\n", "SIGCHLD ignored: yes\n",
			"SIGTERM, handled before, back to SIG_DFL: yes\n", "SIGINT SIG_DFL: yes\n",
			"raised SIGUSR2 ignored: still alive: yes\n", "raised SIGUSR1 pending (blocked): yes\n",
			"failures: 0\n")
	})
}

// TestSignalsChildFlags: SIGCHLD's action decides what the kernel does with the
// program's children, which are golos's host children (sig_chldflags.c): with SIG_IGN or
// SA_NOCLDWAIT an ended child leaves no zombie and a wait fails with ECHILD, also after
// an execve with SIGCHLD ignored; with SA_NOCLDSTOP a child's stop and continue send no
// SIGCHLD. golos, whose own handler takes SIGCHLD on the host, reaped nothing (zombies
// piled up) and reported every stop.
func TestSignalsChildFlags(t *testing.T) {
	forFlavours(t, "sig_chldflags", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "ignored: the ended child left no zombie: yes\n",
			"ignored: wait() while a child runs ends with ECHILD: yes\n",
			"nocldwait: waitpid for it fails with ECHILD: yes\n",
			"nocldwait with a handler: the handler ran for the ends: yes\n",
			"nocldstop: SIGCHLDs for the stop, the continue, the end: 0 0 1: yes\n",
			"without nocldstop: SIGCHLDs for the stop, the continue, the end: 1 1 1: yes\n",
			"default: waitpid reaps it with status 6: yes\n",
			"exec: the ended child left no zombie: yes\n",
			"top: wait() for the exec'd child ends with ECHILD: yes\n", "failures: 0\n")
	})
}

// TestSignalsInherited: golos started by a native program that blocked SIGUSR1 and
// ignored SIGHUP and SIGINT (as nohup(1) and a shell's background jobs do), SIGTERM,
// SIGPIPE and SIGCHLD (a shell's trap "" TERM, a supervisor) gives the program that mask
// and those dispositions, as the program would inherit them natively. (The Go runtime
// keeps only SIGHUP and SIGINT ignored on the host; golos took the others for handled.)
// The same with --sandbox.
func TestSignalsInherited(t *testing.T) {
	forFlavours(t, "sig_exec_keep", func(t *testing.T, p string) {
		needGolos(t)
		o := &runOpts{dir: t.TempDir()}
		nat := runNative(o, p, "exec", p, "inherited")
		wantNative(t, nat, 0, "SIGUSR1 blocked: yes\n", "SIGHUP ignored: yes\n", "SIGINT ignored: yes\n",
			"SIGTERM ignored: yes\n", "SIGPIPE ignored: yes\n", "SIGCHLD ignored: yes\n",
			"raised SIGHUP, SIGINT and SIGTERM: still alive: yes\n",
			"write to a pipe without a reader: EPIPE, still alive: yes\n",
			"wait() for an ended child: ECHILD (reaped by the kernel): yes\n", "failures: 0\n")
		// With --sandbox golos starts itself twice more (sandbox.Spawn, Enter), each
		// with the Go runtime's handlers reset by the execve: the flags carry them.
		for _, flags := range [][]string{nil, {"--sandbox"}} {
			g := runNative(o, append(append([]string{p, "exec", golosBin, "run"}, flags...), p, "inherited")...)
			if g.code != 0 || g.signal != 0 || !bytes.Equal(g.stdout, nat.stdout) {
				t.Errorf("under golos run %v: %s\n--- native stdout:\n%s--- golos stdout:\n%s--- golos stderr:\n%s",
					flags, g, clip(nat.stdout), clip(g.stdout), clip(g.stderr))
			}
		}
	})
}

// TestSignalsPid1: golos run --pid1 (golos-oci's container's first process) gives the
// program the signals of its pid namespace's init: one whose action is the default is
// not delivered (kill of itself with SIGTERM, SIGUSR1), one it handles is, and its
// children are no init. Natively: the same shell as init of a new pid namespace
// (unshare --pid --fork, as root).
func TestSignalsPid1(t *testing.T) {
	t.Parallel()
	script := `kill $$; kill -USR1 $$; trap "echo handled" HUP; kill -HUP $$; ` +
		`/bin/sh -c 'kill $$; echo a child is not init'; echo survived`
	o := &runOpts{dir: t.TempDir()}
	nat := runNative(o, "unshare", "--pid", "--fork", "/bin/sh", "-c", script)
	if nat.err != nil || nat.code != 0 || string(nat.stdout) != "handled\nsurvived\n" {
		t.Fatalf("natively, as a pid namespace's init: %s, stdout %q, stderr %q", nat, nat.stdout, nat.stderr)
	}
	needGolos(t)
	g := runGolosOpts(o, "run", "--pid1", "/bin/sh", "-c", script)
	if g.err != nil || g.code != nat.code || !bytes.Equal(g.stdout, nat.stdout) {
		t.Errorf("golos run --pid1: %s, stdout %q (native %q), stderr %q", g, g.stdout, nat.stdout, g.stderr)
	}
	// Without --pid1 the shell is an ordinary process: its own SIGTERM ends it.
	g = runGolosOpts(o, "run", "/bin/sh", "-c", script)
	if g.signal != syscall.SIGTERM {
		t.Errorf("golos run without --pid1: %s, want death by SIGTERM", g)
	}
}
