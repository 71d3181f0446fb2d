package tests

import (
	"bytes"
	"path/filepath"
	"strings"
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
// settimeofday, mount, reboot), ENOSYS for io_uring_setup (its operations would bypass
// golos's path confinement and descriptor checks), each named once on stderr. Only under golos: natively, as root, they would act on the
// host.
func TestSyscallsRefused(t *testing.T) {
	const want = "sethostname: -1 EPERM\nsetdomainname: -1 EPERM\nclock_settime: -1 EPERM\n" +
		"settimeofday: -1 EPERM\nmount: -1 EPERM\nreboot: -1 EPERM\n" +
		"io_uring_setup: -1 ENOSYS\n"
	forFlavours(t, "sys_more", func(t *testing.T, p string) {
		needGolos(t)
		g := runGolosOpts(&runOpts{dir: t.TempDir()}, "run", p, "refused")
		if !golosRanOK(t, "golos run sys_more refused", g) {
			return
		}
		if string(g.stdout) != want {
			t.Errorf("stdout\n%swant\n%s", clip(g.stdout), want)
		}
		for _, name := range []string{"sethostname (170)", "mount (165)", "io_uring_setup (425)"} {
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
			"  /proc/self/status Seccomp:\t2\n  /proc/self/status Seccomp_filters:\t1\n",
			"filter: fchdir(12345) -> ERRNO(ENOTDIR): ok\n",
			"  fchdir(12345): ENOTDIR; fchdir(12346): EBADF\n",
			"filter: getppid -> ERRNO(5): ok\n",
			"  getppid: errno 5\n",
			"filter: getppid -> ALLOW: ok\n",
			"  getppid: errno 5\n",
			"filter: getpriority -> TRAP(42): ok\n",
			"  getpriority returned 140; SIGSYS: signo 31, si_code SYS_SECCOMP yes, si_syscall right, si_arch right, si_errno 42, si_call_addr just past a syscall instruction yes, RAX in the frame the call's number yes\n",
			"filter: getppid -> TRACE (no tracer): ok\n",
			"  getppid: EIO\n",
			"strict mode on top of filters: EINVAL\n",
			"a new thread's getppid: errno 5\n",
			"  fork's child: getppid errno 5\n",
			"  after execve: getppid EIO (errno 5), PR_GET_SECCOMP 2\n",
			"that child: exit 0\n",
			"  after execve: getppid EIO (errno 5), PR_GET_SECCOMP 2\n",
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

// TestSignalfd: testdata/sig_fd.c reads blocked signals from a signalfd (kill, sigqueue's
// value, tgkill, a timer's SIGALRM, a child's SIGCHLD with its status), polls, selects and
// epolls it, reads several records at once, changes its mask (SIGKILL and SIGSTOP dropped),
// reads through a dup after the original is closed (also with readv and preadv2) and in a
// fork's child, names it in /proc/self/fd, and gets Linux's errors (EAGAIN, EINVAL, EBADF,
// EFAULT, EINTR, ESPIPE); a signal read is not delivered to its handler. With "storm", two
// threads queue 1,000 real-time signals that the main thread polls for and reads. Natively and under golos, with and without
// rewritten sites: the same output.
func TestSignalfd(t *testing.T) {
	forFlavours(t, "sig_fd", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "kill: read 128 signo 10 errno 0 code 0 pid-self 1 uid-self 1",
			"sigqueue: read 128 signo 10 errno 0 code -1 pid-self 1 uid-self 1 int 1234",
			"handler ran: 0\n", "usr1 outside mask: read -1 EAGAIN\n", "read many: 4 records\n",
			"epoll_wait: 1 data 99\n", "readv: 256 first 10 second 12\n", "readlink: anon_inode:[signalfd]\n", "blocking interrupted: read -1 EINTR\n",
			"sigchld: read 128 signo 17 code 1 pid-child 1 status 7\n")
		runBothOpts(t, runOpts{golosFlags: []string{"--no-rewrite"}}, p)
		nat, _ = runBoth(t, p, "storm")
		wantNative(t, nat, 0, "storm: got 1000 sum 249500\n")
	})
}

// TestSyscallsLegacy: testdata/sys_legacy.c lists a directory with getdents (linux_dirent
// records, /proc/self/fd without golos's own descriptors), sets times with futimesat,
// opens with openat2 (struct open_how of 16, 24, 40 and 8192 bytes, Linux's EINVAL and
// E2BIG checks, RESOLVE_NO_SYMLINKS, _NO_MAGICLINKS, _NO_XDEV, _CACHED, _BENEATH and
// _IN_ROOT against symlinks that climb out), and uses the *xattrat calls and
// file_getattr/file_setattr; natively, under golos with and without rewritten sites, and
// under golos --root of a directory holding the program (its paths are all relative, so
// the root changes nothing it can see): the same output each time. With a volume in the
// root too, openat2 with RESOLVE_ flags is ENOSYS, with a note, and the rest the same.
func TestSyscallsLegacy(t *testing.T) {
	forFlavours(t, "sys_legacy", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "getdents too small: -1 EINVAL\n", "file mtime 1200000000 usec 7\n",
			"openat2 size 40 nonzero tail: -1 E2BIG\n", "no symlinks, link: -1 ELOOP\n",
			"beneath, climb: -1 EXDEV\n", "in root, climb: -1 ENOENT\n", "value: value1\n", "tidy: -1 ENOENT\n")
		runBothOpts(t, runOpts{golosFlags: []string{"--no-rewrite"}}, p)
		root := t.TempDir()
		rootCopy(t, p, filepath.Join(root, "sys_legacy"), 0o755)
		g := runGolosRoot(t, &runOpts{}, root, false, nil, "/", "/sys_legacy")
		if golosRanOK(t, "golos run --root sys_legacy", g) && !bytes.Equal(g.stdout, nat.stdout) {
			t.Errorf("under --root: stdout differs from native: %s", firstDiff(nat.stdout, g.stdout))
		}
		// With a volume, golos resolves paths across mounts itself, and openat2's RESOLVE_
		// flags are ENOSYS (named once on stderr); everything else is as before.
		vol := runGolosRoot(t, &runOpts{}, root, false, []volBind{{host: t.TempDir(), guest: "/vol"}}, "/", "/sys_legacy")
		if !golosRanOK(t, "golos run --root --volume sys_legacy", vol) {
			return
		}
		const refused = "no symlinks, file: -1 ENOSYS\n"
		if !bytes.Contains(vol.stdout, []byte(refused)) || !bytes.Contains(vol.stderr, []byte("openat2 with RESOLVE_ flags in a root with volumes is not supported")) {
			t.Errorf("with a volume, openat2 with RESOLVE_ flags is not refused with ENOSYS and a note\nstdout:\n%sstderr:\n%s", clip(vol.stdout), clip(vol.stderr))
		}
		var want, got []string
		for _, l := range strings.SplitAfter(string(nat.stdout), "\n") {
			if !strings.HasPrefix(l, "no ") && !strings.HasPrefix(l, "beneath") && !strings.HasPrefix(l, "in root") && !strings.HasPrefix(l, "cached") {
				want = append(want, l)
			}
		}
		for _, l := range strings.SplitAfter(string(vol.stdout), "\n") {
			if !strings.HasPrefix(l, "no ") && !strings.HasPrefix(l, "beneath") && !strings.HasPrefix(l, "in root") && !strings.HasPrefix(l, "cached") {
				got = append(got, l)
			} else if !strings.Contains(l, "ENOSYS") && !strings.HasPrefix(l, "beneath create") {
				t.Errorf("with a volume: %q, want ENOSYS", l)
			}
		}
		if w, g := strings.Join(want, ""), strings.Join(got, ""); w != g {
			t.Errorf("with a volume, the calls without RESOLVE_ flags differ from native: %s", firstDiff([]byte(w), []byte(g)))
		}
	})
}

// TestSyscallsWalk: testdata/sys_walk.c calls a sample of the syscall table (about 180
// rows: the descriptor calls, the path calls, the memory, signal, timer, process and
// socket calls, and the numbers Linux lacks) with arguments that make each fail without
// effect (a descriptor never open, a pointer to nothing, an unknown flag, a pid nobody
// has); natively and under golos, with and without rewritten sites, every errno must be
// the same. uretprobe outside the kernel's trampoline raises SIGILL (SI_KERNEL), to a
// handler, or, blocked, unblocked and fatal.
func TestSyscallsWalk(t *testing.T) {
	forFlavours(t, "sys_walk", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "read (0): -1 EBADF\n", "open (2): -1 EFAULT\n", "mmap (9): -1 EINVAL\n",
			"kill (62): -1 ESRCH\n", "epoll_ctl_old (214): -1 ENOSYS\n", "number 100000 (100000): -1 ENOSYS\n")
		runBothOpts(t, runOpts{golosFlags: []string{"--no-rewrite"}}, p)
		for _, arg := range []string{"uretprobe", "uretprobe-blocked"} {
			runBoth(t, p, arg)
		}
	})
}

// TestPidfdGetfd: testdata/sys_pidfd_getfd.c takes a duplicate of its own descriptor
// with pidfd_getfd (close-on-exec, the same open file) and meets Linux's errors, natively
// and under golos alike; a living child's descriptor, which root takes natively, is EPERM
// under golos, as in a container without CAP_SYS_PTRACE: the child's golos holds
// descriptors of its own.
func TestPidfdGetfd(t *testing.T) {
	forFlavours(t, "sys_pidfd_getfd", func(t *testing.T, p string) {
		nat, g := runBothOpts(t, runOpts{maskPrefixes: []string{"child:"}}, p)
		wantNative(t, nat, 0, "pidfd_getfd self: ok\n", "cloexec 1\n", "read through the copy: 234, offset of the original 5\n",
			"target not open: -1 EBADF\n", "pidfd a file: -1 EBADF\n", "reaped child: -1 ESRCH\n")
		if g != nil && !bytes.Contains(g.stdout, []byte("child: living child: -1 EPERM\n")) {
			t.Errorf("under golos, a living child's descriptor was not refused with EPERM:\n%s", clip(g.stdout))
		}
	})
}

// TestSysvShm: System V shared memory (sysv_shm.c): attaches where the kernel chooses, at
// a given address, with SHM_RND, SHM_RDONLY and SHM_REMAP; /proc/self/maps; shm_nattch;
// mprotect and munmap of part of an attach and shmdt of the rest; IPC_RMID while
// attached; fork children that see the same segment (one whole, one in two parts of
// different protection) and whose writes the parent sees; execve detaching all; bad ids,
// addresses and buffers.
// Natively and under golos, with and without rewritten sites.
func TestSysvShm(t *testing.T) {
	forFlavours(t, "sysv_shm", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"maps shows the attach as: rw-s\n", "maps after shmdt: ''\n",
			"shmat at a misaligned address: -1 EINVAL\n", "mprotect of it to writable: -1 EACCES\n",
			"shmat over a mapping without SHM_REMAP: -1 EINVAL\n", "child: shm_nattch is 2: yes\n",
			"parent: sees the child's write: yes\n", "child: sees the parent's write after the fork: yes\n",
			"parent: sees the child's write to the second part: yes\n",
			"IPC_STAT after the last detach of a removed segment: -1 EINVAL\n",
			"shmat at a wild address: -1 ENOMEM\n", "shmdt of the stack: -1 EINVAL\n", "failures: 0\n",
			"shm_nattch before execve: 2\n", "shm_nattch after execve: 0\n")
		runBothOpts(t, runOpts{golosFlags: []string{"--no-rewrite"}}, p)
	})
}

// TestAIO: Linux AIO through its raw syscalls (aio.c): the ring in /proc/self/maps, file
// writes and reads with and without O_DIRECT (vectored, fsync, an eventfd noted on
// completion), a fork while a context exists, descriptors that are not open to the
// program (golos's own among them under golos) refused with EBADF, a batch cut at its
// first bad block, io_pgetevents's signal mask, and bad contexts, counts and pointers.
// Natively and under golos, with and without rewritten sites.
func TestAIO(t *testing.T) {
	forFlavours(t, "aio", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0,
			"io_setup(128): 0\n", "the ring is in /proc/self/maps at the context's id: yes\n",
			"buffered: IOCB_CMD_PWRITE of 16384 bytes: 16384\n", "buffered: it read what was written: yes\n",
			"buffered: the eventfd counted one completion: yes\n", "the fork child ended well: yes\n",
			"descriptors fcntl says are closed that io_submit accepted: 0\n",
			"io_submit of a good block and a bad one: 1\n", "io_pgetevents whose mask lets it through: -1 EINTR\n",
			"io_submit of a wild block pointer: -1 EFAULT\n", "the ring is gone from /proc/self/maps: yes\n",
			"failures: 0\n")
		runBothOpts(t, runOpts{golosFlags: []string{"--no-rewrite"}}, p)
	})
}
