package tests

import (
	"bytes"
	"testing"
	"time"
)

// Signals (golos's virtual signal layer, internal/kernel/signal.go): each program runs
// natively and under golos, and stdout and the exit status must be the same; wantNative
// checks that the native run does what the program is written to do.

// TestSignalsSegv: SIGSEGV handlers that read TLS and siglongjmp out, 10 times in the main
// thread, in another thread and in the main thread again.
func TestSignalsSegv(t *testing.T) {
	forFlavours(t, "sig_segv", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"main round 0: handler read tls marker 1000, si_signo 11, si_code SEGV_MAPERR, si_addr right, SIGSEGV unblocked after siglongjmp: yes\n",
			"thread round 9: handler read tls marker 2009, si_signo 11, si_code SEGV_ACCERR, si_addr right, SIGSEGV unblocked after siglongjmp: yes\n",
			"failures: 0\n")
	})
}

// TestSignalsAltstack: no alternate stack before one is set (SS_DISABLE, on the main
// thread and a new one: golos said flags 0, which a cgo Go program's runtime took for a
// stack of C's, then crashed now and then with "signal 23 received but handler not on
// signal stack"); handlers on an alternate signal stack: on it (a local's address),
// SS_ONSTACK inside, EPERM for a change while on it, a nested signal below the first
// frame, SS_AUTODISARM, a stack overflow in a thread caught on the thread's own
// alternate stack.
func TestSignalsAltstack(t *testing.T) {
	forFlavours(t, "sig_altstack", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "no alternate stack yet: main thread reads SS_DISABLE: yes\n",
			"no alternate stack yet: a new thread reads SS_DISABLE: yes\n",
			"SIGUSR1 handler's local on the alternate stack: yes\n",
			"SIGUSR1 handler: sigaltstack reports SS_ONSTACK, same stack: yes\n",
			"SIGUSR1 handler: changing the stack while on it fails with EPERM: yes\n",
			"nested SIGUSR2 handler below the SIGUSR1 frame: yes\n",
			"SS_AUTODISARM: inside the handler the stack reads as SS_DISABLE: yes\n",
			"stack overflow: handler on the thread's alternate stack: yes\n", "failures: 0\n")
	})
}

// TestSignalsMask: blocked and pending signals, standard signals merged and real-time
// ones queued, delivery order, sigsuspend, sigwait/sigwaitinfo/sigtimedwait, the
// per-thread mask and the choice of thread for a process-directed signal.
func TestSignalsMask(t *testing.T) {
	forFlavours(t, "sig_mask", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "sigpending shows SIGUSR1: yes\n", "unblocked: handler ran once: yes\n",
			"SIGUSR1 raised twice while blocked: delivered 1 time(s)\n",
			"SIGRTMIN+2 queued 3 times while blocked: delivered 3 time(s), values 11 22 33\n",
			"pending SIGUSR2, SIGRTMIN+2, SIGUSR1 unblocked together: delivered in order SIGUSR1 SIGUSR2 SIGRTMIN+2\n",
			"sigsuspend returned -1 EINTR: yes\n",
			"sigsuspend woken by SIGUSR2 from another thread: handler ran once, EINTR: yes\n",
			"sigwaitinfo took SIGRTMIN+2 with its value and SI_QUEUE: yes\n",
			"kill() to the process: the thread that does not block SIGUSR2 took it: yes\n",
			"failures: 0\n")
	})
}

// TestSignalsCallMask: the signal mask of ppoll, pselect6, epoll_pwait and epoll_pwait2
// replaces the thread's for the call (sig_pmask.c): a signal only the call's mask lets
// through interrupts it (EINTR) and its handler runs with the call's mask, one only the
// call's mask blocks neither interrupts it nor runs its handler before the call has
// timed out, one pending before the call and unblocked by its mask ends it at once, and
// the thread's mask is back afterwards; a wild mask and a wrong size fail as on Linux.
// With and without rewritten sites.
func TestSignalsCallMask(t *testing.T) {
	forFlavours(t, "sig_pmask", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		var want []string
		for _, c := range []string{"ppoll", "pselect6", "epoll_pwait", "epoll_pwait2"} {
			want = append(want, c+", a signal only the call's mask lets through: -1 EINTR\n",
				c+": the handler ran with the call's mask (SIGUSR2 blocked): yes\n",
				c+", a signal the call's mask blocks: 0 \n", c+": the handler ran after the call, once: yes\n",
				c+", a pending signal the call's mask unblocks: -1 EINTR\n")
		}
		want = append(want, "ppoll with a wild mask: -1 EFAULT\n", "epoll_pwait with a mask size of 16: -1 EINVAL\n", "failures: 0\n")
		wantNative(t, nat, 0, want...)
		runBothOpts(t, runOpts{golosFlags: []string{"--no-rewrite"}}, p)
	})
}

// TestSignalsTimedWait: a wait with a time limit (nanosleep, clock_nanosleep, poll, ppoll,
// select, pselect6, epoll_wait, epoll_pwait, epoll_pwait2, futex) during which children
// end, sending SIGCHLD with its default action, is not interrupted (no EINTR) and waits
// its limit, not less and not its whole limit again after each signal
// (sig_timedwait.c). With and without rewritten sites.
func TestSignalsTimedWait(t *testing.T) {
	forFlavours(t, "sig_timedwait", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		var want []string
		for _, c := range []string{"nanosleep", "clock_nanosleep", "poll", "ppoll", "select", "pselect6",
			"epoll_wait", "epoll_pwait", "epoll_pwait2", "futex"} {
			want = append(want, c+": never ended early: yes\n", c+": never waited its limit again: yes\n")
		}
		want = append(want, "nanosleep: 0 \n", "poll: 0 \n", "futex: -1 ETIMEDOUT\n", "failures: 0\n")
		wantNative(t, nat, 0, want...)
		runBothOpts(t, runOpts{golosFlags: []string{"--no-rewrite"}}, p)
	})
}

// TestSignalsBusy: a signal for a thread spinning in a loop without syscalls must reach
// it promptly (the program's 10 s alarm kills it otherwise, status 142).
func TestSignalsBusy(t *testing.T) {
	forFlavours(t, "sig_busy", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"pthread_kill to a spinning thread, round 5: handler ran 1 time(s), in the spinning thread: yes, loop stopped: yes\n",
			"kill() to the process, only the spinning thread unblocked, round 1: handler ran 1 time(s), in the spinning thread: yes, loop stopped: yes\n",
			"pthread_kill from a thread to the spinning main thread, round 1: handler ran 1 time(s), in the spinning thread: yes, loop stopped: yes\n",
			"failures: 0\n")
	})
}

// TestSignalsUcontext: handlers that move the saved RIP past a faulting instruction (ud2,
// a null load, a division by zero) and change saved registers, general and xmm0.
func TestSignalsUcontext(t *testing.T) {
	forFlavours(t, "sig_ucontext", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"ud2, rip moved past it, rax set, round 3: returned 77; handler saw signal 4, si_code ILL_ILLOPN, rip at the instruction: yes, si_addr/registers right: yes\n",
			"null load, rip moved past it, rax set, round 3: returned 4660; handler saw signal 11, si_code SEGV_MAPERR, rip at the instruction: yes, si_addr/registers right: yes\n",
			"int3, handler returns, round 3: returned 6; handler saw signal 5, si_code SI_KERNEL, rip at the instruction: yes, si_addr/registers right: yes\n",
			"divide by zero, rip moved past it, rax set, round 3: returned -1; handler saw signal 8, si_code FPE_INTDIV, rip at the instruction: yes, si_addr/registers right: yes\n",
			"ud2, xmm0 set in the saved fpregs, round 3: returned 2.50; rip at the instruction: yes\n",
			"ud2, rbx changed in the saved registers, round 3: returned 11259375;")
	})
}

// TestSignalsRestart: a blocked read() interrupted by a handler goes on with SA_RESTART
// and fails with EINTR without it; nanosleep() and poll() fail with EINTR even with
// SA_RESTART; an ignored signal does not interrupt.
func TestSignalsRestart(t *testing.T) {
	forFlavours(t, "sig_restart", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"read() with SA_RESTART: returned 1 (no error), the byte written after the signal, handler ran 1 time(s) before it returned\n",
			"read() without SA_RESTART: returned -1 (EINTR), handler ran 1 time(s) before it returned\n",
			"nanosleep() with SA_RESTART: returned -1 (EINTR), handler ran 1 time(s) before it returned\n",
			"poll() with SA_RESTART: returned -1 (EINTR), handler ran 1 time(s) before it returned\n",
			"read() sent SIGCHLD (default: ignore): returned 1 (no error), the byte written after the signal, handler ran 0 time(s) before it returned\n",
			"main thread's read() without SA_RESTART: returned -1 (EINTR), handler ran 1 time(s) before it returned\n",
			"failures: 0\n")
	})
}

// TestSignalsTimer: alarm(), setitimer() (ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF) and
// POSIX timers (timer_create with SIGEV_SIGNAL and SIGEV_THREAD) deliver their signals.
func TestSignalsTimer(t *testing.T) {
	forFlavours(t, "sig_timer", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "alarm(1): pause() returned -1 EINTR: yes\n",
			"alarm(1): SIGALRM delivered 1 time(s)\n", "alarm(5) then alarm(0) returns 5\n",
			"one-shot ITIMER_REAL: SIGALRM delivered 1 time(s)\n",
			"periodic ITIMER_REAL: 5 SIGALRMs counted, the handler disarmed it\n",
			"ITIMER_VIRTUAL: 3 SIGVTALRMs counted\n", "ITIMER_PROF: 3 SIGPROFs counted\n",
			"timer signals: 5 counted, with SI_TIMER: 5, with the value 42: 5\n",
			"SIGEV_THREAD: at least 3 notifications: yes\n", "failures: 0\n")
	})
}

// TestSignalsDefault: default actions (terminate, ignore, core), SIG_IGN, SA_RESETHAND,
// SIGPIPE, and a signal's default action killing the whole process from another thread.
func TestSignalsDefault(t *testing.T) {
	modes := []struct {
		mode   string
		code   int
		stdout string
	}{
		{"term", 128 + 15, "raising SIGTERM\n"},
		{"term-thread", 128 + 15, "a thread sends SIGTERM to the process\n"},
		{"ignore", 0, "handler installed, then unblocked: handler ran 1 time(s)\n"},
		{"child", 0, "SIGCHLD, SIGURG, SIGWINCH with default action: still alive\n"},
		{"resethand", 128 + 10, "SA_RESETHAND handler ran 1 time(s)\ndisposition afterwards: SIG_DFL\nraising SIGUSR1 again\n"},
		{"pipe", 128 + 13, "writing to a pipe without readers\n"},
		{"pipe-ign", 0, "write returned -1 (EPIPE)\n"},
		{"quit", 128 + 3, "raising SIGQUIT\n"},
		{"usr2-thread", 128 + 12, "sending SIGUSR2 to a thread\n"},
	}
	forFlavours(t, "sig_default", func(t *testing.T, p string) {
		for _, m := range modes {
			t.Run(m.mode, func(t *testing.T) {
				nat, _ := runBoth(t, p, m.mode)
				wantNative(t, nat, m.code, m.stdout)
			})
		}
	})
}

// TestSignalsInfo: what a SA_SIGINFO handler finds in siginfo_t for signals sent by
// raise, pthread_kill, tgkill, kill, sigqueue and rt_sigqueueinfo.
func TestSignalsInfo(t *testing.T) {
	forFlavours(t, "sig_info", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		const ids = "si_errno 0, si_pid == getpid(): yes, si_uid == getuid(): yes"
		wantNative(t, nat, 0,
			"raise(SIGUSR1): handled 1 time(s), si_signo 10, si_code SI_TKILL, "+ids+"\n",
			"kill(getpid(), SIGUSR1): handled 1 time(s), si_signo 10, si_code SI_USER, "+ids+"\n",
			"sigqueue(getpid(), SIGRTMIN+4, 31337): handled 1 time(s), si_signo SIGRTMIN+4, si_code SI_QUEUE, "+ids+", si_value 31337\n",
			"pthread_kill(thread, SIGUSR1): handled 1 time(s), si_signo 10, si_code SI_TKILL, "+ids+"\n",
			"handled in that thread: yes\n",
			"kill(getpid(), SIGUSR1) from another thread: handled 1 time(s), si_signo 10, si_code SI_USER, "+ids+"\n")
	})
}

// TestEflags: a program that sets AC (alignment checking) or DF while it makes syscalls,
// faults and takes signals; golos's own code must run with neither, and the program must
// see its flags as Linux keeps them (AC also in its handler, DF cleared there).
func TestEflags(t *testing.T) {
	forFlavours(t, "eflags", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "AC: lost 0 times; handler ran 50 times, saw AC=1 DF=0\n",
			"DF: lost 0 times; handler ran 50 times, saw AC=0 DF=0\n",
			"AC+DF: lost 0 times; handler ran 50 times, saw AC=1 DF=0\n")
	})
}

// TestSignalsLeader: a signal sent to the process reaches the main thread, waiting in
// pause(2), rather than one of the workers also waiting there.
func TestSignalsLeader(t *testing.T) {
	forFlavours(t, "sig_leader", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "main thread woke: handler ran 1 time(s), in the main thread: yes\n")
	})
}

// TestSignalsPipeWrite: a timer's SIGALRM that interrupts a write to a full pipe is
// handled before the write returns, so that the program, which looks for it after each
// short write and then writes again, never blocks with its handler not yet run (CPython's
// buffered writer does this; under golos it hung about 4 runs in 100). Many runs: the loss
// was a race.
func TestSignalsPipeWrite(t *testing.T) {
	const runs = 40
	forFlavours(t, "sig_pipe_write", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "wrote 2097152 bytes, drained after signals: yes\n")
		needGolos(t)
		for i := 0; i < runs; i++ {
			g := runGolosOpts(&runOpts{dir: t.TempDir(), timeout: 10 * time.Second}, "run", p)
			if g.timedOut || g.code != 0 || !bytes.Equal(g.stdout, nat.stdout) {
				t.Fatalf("run %d of %d under golos: %s\nstdout:\n%sstderr:\n%s", i+1, runs, g, clip(g.stdout), clip(g.stderr))
			}
		}
	})
}

// TestSignalsWake: no lost wake-ups. sig_wake.c sends a thread blocked in read, write,
// futex (without and with a timeout), epoll_wait, poll, ppoll, select, nanosleep,
// clock_nanosleep, accept, recvmsg (without and with SO_RCVTIMEO) or sigsuspend, or about
// to make the call (the random wait before the signal may be none), one SIGUSR1 after
// another, from another thread and from two POSIX timers (one whose signal is the
// process's, one made for the thread with SIGEV_THREAD_ID), with and without SA_RESTART,
// and checks each time that the handler ran and that the call returned what Linux allows
// (EINTR or a restart, nanosleep's remaining time); and that a signal the thread blocks,
// sent the same three ways, interrupts none of its polls. A lost wake-up hangs a call:
// the program says which and exits 3 after 5 s, well within the run's timeout. Each
// flavour runs several times both with rewritten sites (after their second trap) and
// with --no-rewrite (every call trapped), since the windows are narrow.
func TestSignalsWake(t *testing.T) {
	const (
		runs  = 3     // per way of trapping
		iters = "100" // calls per case and way of sending
	)
	forFlavours(t, "sig_wake", func(t *testing.T, p string) {
		nat := runNative(&runOpts{dir: t.TempDir(), timeout: 30 * time.Second}, p, iters)
		wantNative(t, nat, 0, "sig_wake: 90 cases of 100 calls: all as Linux\n")
		needGolos(t)
		for _, flags := range [][]string{nil, {"--no-rewrite"}} {
			args := append(append([]string{"run"}, flags...), p, iters)
			for i := 0; i < runs; i++ {
				g := runGolosOpts(&runOpts{dir: t.TempDir(), timeout: 30 * time.Second}, args...)
				if g.timedOut || g.code != 0 || !bytes.Equal(g.stdout, nat.stdout) {
					t.Fatalf("run %d of %d of golos %q: %s\nstdout (native: all ok):\n%sstderr:\n%s",
						i+1, runs, args, g, clip(g.stdout), clip(g.stderr))
				}
			}
		}
	})
}

// TestSignalsChildWake: no lost wake-ups for a child's SIGCHLD during ppoll, pselect6 or
// epoll_pwait whose mask unblocks it while the thread's own mask blocks it, as make(1)
// waits for its jobs (sig_pselwake.c). Children forked by the waiting thread and by a
// second thread (so the host may give the signal to another thread) exit after a random
// delay of up to 2 ms; every one must be seen, each wait ended by EINTR with the handler
// run once for it; a lost wake-up makes the program say which call and exit 3 after 3 s.
// Several runs with rewritten sites and with --no-rewrite, since the windows are narrow.
func TestSignalsChildWake(t *testing.T) {
	const (
		runs   = 2    // per way of trapping
		rounds = "10" // rounds of 4 children per call and forking thread
	)
	forFlavours(t, "sig_pselwake", func(t *testing.T, p string) {
		nat := runNative(&runOpts{dir: t.TempDir(), timeout: 30 * time.Second}, p, rounds)
		var want []string
		for _, c := range []string{"pselect6", "ppoll", "epoll_pwait"} {
			for _, by := range []string{"main", "second"} {
				want = append(want, c+", children forked by the "+by+" thread: 40 of 40 seen, the handler ran once for each EINTR: yes\n")
			}
		}
		wantNative(t, nat, 0, want...)
		needGolos(t)
		for _, flags := range [][]string{nil, {"--no-rewrite"}} {
			args := append(append([]string{"run"}, flags...), p, rounds)
			for i := 0; i < runs; i++ {
				g := runGolosOpts(&runOpts{dir: t.TempDir(), timeout: 60 * time.Second}, args...)
				if g.timedOut || g.code != 0 || !bytes.Equal(g.stdout, nat.stdout) {
					t.Fatalf("run %d of %d of golos %q: %s\nstdout (native: all seen):\n%sstderr:\n%s",
						i+1, runs, args, g, clip(g.stdout), clip(g.stderr))
				}
			}
		}
	})
}
