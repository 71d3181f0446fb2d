package tests

import (
	"bytes"
	"testing"
)

// Syscalls that every number's row in the kernel's table (internal/kernel/table.go) now
// answers: passed through or virtualised as Linux answers them, or refused as a container
// runtime refuses them.

// TestSyscallsMore: testdata/sys_more.c makes each syscall golos answers since the table
// got a row per number (epoll_create, eventfd, inotify_init, utime, utimes, fchmodat2,
// close_range, pidfd_open, pkey_*, mbind and the memory policies, mseal, SysV semaphores
// and message queues, POSIX message queues, restart_syscall, personality, adjtimex,
// futex_wake, tee's SIGPIPE) natively and under golos, with and without rewritten sites;
// stdout and the exit status must be the same. Its last close_range covers every
// descriptor from 3 up, golos's own among them, which golos must skip (it goes on
// running the program, and the next open gets 3).
func TestSyscallsMore(t *testing.T) {
	forFlavours(t, "sys_more", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"epoll_create(0): -1 EINVAL\n", "epoll_wait data: 42\n", "inotify event: mask 0x100 name created\n",
			"mtime after utimes: 1300000000\n", "fcntl 41 after close_range: -1 EBADF\n",
			"pidfd_open(self): ok\n", "pidfd_open(no such pid): -1 ESRCH\n", "mbind: 0\n",
			"restart_syscall: -1 EINTR\n", "msg: 7 hello\n", "mq: ping\n", "SIGPIPEs: 1\n",
			"open after close_range: 3\n", "rmdir: 0\n")
		runBothOpts(t, runOpts{golosFlags: []string{"--no-rewrite"}}, p)
	})
}

// TestSyscallsRefused: the syscalls golos refuses fail as in a container: EPERM for
// privileged operations on the host (sethostname, setdomainname, clock_settime,
// settimeofday, mount, reboot), ENOSYS for what golos does not implement (signalfd and
// signalfd4, which would read the host's signals, not the program's virtual ones),
// each named once on stderr. Only under golos: natively, as root, they would act on the
// host.
func TestSyscallsRefused(t *testing.T) {
	const want = "sethostname: -1 EPERM\nsetdomainname: -1 EPERM\nclock_settime: -1 EPERM\n" +
		"settimeofday: -1 EPERM\nmount: -1 EPERM\nreboot: -1 EPERM\nsignalfd: -1 ENOSYS\n" +
		"signalfd4: -1 ENOSYS\n"
	forFlavours(t, "sys_more", func(t *testing.T, p string) {
		needGolos(t)
		g := runGolosOpts(&runOpts{dir: t.TempDir()}, "run", p, "refused")
		if !golosRanOK(t, "golos run sys_more refused", g) {
			return
		}
		if string(g.stdout) != want {
			t.Errorf("stdout\n%swant\n%s", clip(g.stdout), want)
		}
		for _, name := range []string{"sethostname (170)", "mount (165)", "signalfd4 (289)"} {
			if !bytes.Contains(g.stderr, []byte("syscall "+name+": ")) {
				t.Errorf("stderr does not name %s\nstderr:\n%s", name, clip(g.stderr))
			}
		}
	})
}

// TestSeccomp: a program's seccomp filters, which golos runs itself (the host's would
// bind golos's runtime too): the checks on a filter, each action (ERRNO, TRAP with its
// siginfo and registers, TRACE without a tracer, KILL_PROCESS, KILL_THREAD, strict
// mode), their precedence among filters, and their inheritance by threads, a fork's
// child and execve, from one thread and from several; TSYNC.
func TestSeccomp(t *testing.T) {
	forFlavours(t, "seccomp", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"PR_GET_SECCOMP before: 0\n",
			"a load past seccomp_data: EINVAL\n",
			"no return at the end: EINVAL\n",
			"a division by a constant 0: EINVAL\n",
			"a jump out of the program: EINVAL\n",
			"BPF_MOD, which seccomp does not allow: EINVAL\n",
			"an empty filter: EINVAL\n",
			"a filter at an unmapped address: EFAULT\n",
			"unknown flags: EINVAL\n",
			"an unknown operation: EINVAL\n",
			"SECCOMP_GET_ACTION_AVAIL(SECCOMP_RET_LOG): ok\n",
			"SECCOMP_GET_ACTION_AVAIL(0x12340000): EOPNOTSUPP\n",
			"SECCOMP_GET_NOTIF_SIZES: ok, seccomp_data 64\n",
			"  without no_new_privs or CAP_SYS_ADMIN: EACCES\n",
			"that child: exit 0\n",
			"filter: getppid -> ERRNO(1234): ok\n",
			"  getppid: errno1234, errno 1234\n",
			"  getpid works: yes\n",
			"PR_GET_SECCOMP: 2\n",
			"filter: fchdir(12345) -> ERRNO(ENOTDIR): ok\n",
			"  fchdir(12345): ENOTDIR; fchdir(12346): EBADF\n",
			"filter: getppid -> ERRNO(5): ok\n",
			"  getppid: errno 5\n",
			"filter: getppid -> ALLOW: ok\n",
			"  getppid: errno 5\n",
			"filter: getpriority -> TRAP(42): ok\n",
			"  getpriority returned 140; SIGSYS: signo 31, si_code SYS_SECCOMP yes, si_syscall right, si_arch right, si_errno 42, si_call_addr just past a syscall instruction yes, RAX in the frame the call's number yes\n",
			"filter: getppid -> TRACE (no tracer): ok\n",
			"  getppid: errno5\n",
			"strict mode on top of filters: EINVAL\n",
			"a new thread's getppid: errno 5\n",
			"  fork's child: getppid errno 5\n",
			"  after execve: getppid errno5 (errno 5), PR_GET_SECCOMP 2\n",
			"that child: exit 0\n",
			"  after execve: getppid errno5 (errno 5), PR_GET_SECCOMP 2\n",
			"that child (with two threads at its execve): exit 0\n",
			"KILL_PROCESS on getpid: killed by Bad system call\n",
			"KILL_THREAD on getpid, the only thread: killed by Bad system call\n",
			"TRAP with SIGSYS blocked: killed by Bad system call\n",
			"  strict mode: write works\n",
			"strict mode, then getpid: exit 0\n",
			"  TSYNC: ok, the other thread's getppid: errno 7\n",
			"that child: exit 0\n",
		)
	})
}
