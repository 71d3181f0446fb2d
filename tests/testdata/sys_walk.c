/*
 * sys_walk — a sample of the syscall table, called with bad arguments: a descriptor that
 * is not open, a pointer to nothing, an unknown flag or clock, a pid nobody has. Each
 * fails without touching anything, natively as under golos, so that the errno golos
 * gives (passing the call through, or answering it itself) can be compared with Linux's.
 * The numbers Linux itself lacks (removed, never implemented on x86-64, or no syscall's at
 * all) come last: ENOSYS both ways. uprobe and uretprobe, called from outside the
 * kernel's uprobe trampolines, fail with ENXIO and raise SIGILL: with the argument
 * "uretprobe" the program calls the latter with a SIGILL handler, with "uretprobe-blocked"
 * with SIGILL blocked, of which it dies all the same. The calls golos refuses as a container runtime does
 * are not here: natively, as root, they would act on the host.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "ename.h"

#define BAD ((long)1)          /* an address nothing is mapped at */
#define NOFD ((long)-1)        /* a descriptor never open */
#define NOPID ((long)0x7ffffff0) /* above any pid_max */

struct call {
	const char *name;
	long nr;
	long a[6];
};

static char buf[4096];
#define B ((long)buf)

static const struct call calls[] = {
	/* Descriptors: EBADF. */
	{"read", 0, {NOFD, B, 1}},
	{"write", 1, {NOFD, B, 1}},
	{"close", 3, {NOFD}},
	{"fstat", 5, {NOFD, B}},
	{"lseek", 8, {NOFD, 0, 0}},
	{"ioctl", 16, {NOFD, 0x5401, B}},
	{"pread64", 17, {NOFD, B, 1, 0}},
	{"pwrite64", 18, {NOFD, B, 1, 0}},
	{"readv", 19, {NOFD, B, 0}},
	{"writev", 20, {NOFD, B, 0}},
	{"dup", 32, {NOFD}},
	{"dup2", 33, {NOFD, 100}},
	{"sendfile", 40, {NOFD, NOFD, 0, 1}},
	{"connect", 42, {NOFD, B, 16}},
	{"accept", 43, {NOFD, 0, 0}},
	{"sendto", 44, {NOFD, B, 1, 0, 0, 0}},
	{"recvfrom", 45, {NOFD, B, 1, 0, 0, 0}},
	{"sendmsg", 46, {NOFD, B, 0}},
	{"recvmsg", 47, {NOFD, B, 0}},
	{"shutdown", 48, {NOFD, 0}},
	{"bind", 49, {NOFD, B, 16}},
	{"listen", 50, {NOFD, 1}},
	{"getsockname", 51, {NOFD, B, B}},
	{"getpeername", 52, {NOFD, B, B}},
	{"setsockopt", 54, {NOFD, 1, 2, B, 4}},
	{"getsockopt", 55, {NOFD, 1, 2, B, B}},
	{"fcntl", 72, {NOFD, 1}},
	{"flock", 73, {NOFD, 1}},
	{"fsync", 74, {NOFD}},
	{"fdatasync", 75, {NOFD}},
	{"ftruncate", 77, {NOFD, 0}},
	{"getdents", 78, {NOFD, B, sizeof buf}},
	{"fchdir", 81, {NOFD}},
	{"fchmod", 91, {NOFD, 0644}},
	{"fchown", 93, {NOFD, 0, 0}},
	{"fstatfs", 138, {NOFD, B}},
	{"readahead", 187, {NOFD, 0, 1}},
	{"fgetxattr", 193, {NOFD, (long)"user.x", B, 1}},
	{"flistxattr", 196, {NOFD, B, 1}},
	{"fremovexattr", 199, {NOFD, (long)"user.x"}},
	{"getdents64", 217, {NOFD, B, sizeof buf}},
	{"fadvise64", 221, {NOFD, 0, 0, 0}},
	{"epoll_wait", 232, {NOFD, B, 1, 0}},
	{"epoll_ctl", 233, {NOFD, 1, NOFD, B}},
	{"inotify_add_watch", 254, {NOFD, (long)".", 1}},
	{"inotify_rm_watch", 255, {NOFD, 1}},
	{"splice", 275, {NOFD, 0, NOFD, 0, 1, 0}},
	{"tee", 276, {NOFD, NOFD, 1, 0}},
	{"sync_file_range", 277, {NOFD, 0, 0, 0}},
	{"fallocate", 285, {NOFD, 0, 0, 1}},
	{"timerfd_settime", 286, {NOFD, 0, B, 0}},
	{"timerfd_gettime", 287, {NOFD, B}},
	{"dup3", 292, {NOFD, 100, 0}},
	{"syncfs", 306, {NOFD}},
	{"pidfd_send_signal", 424, {NOFD, 0, 0, 0}},
	{"process_mrelease", 448, {NOFD, 0}},
	{"epoll_pwait2", 441, {NOFD, B, 1, 0, 0, 0}},
	{"cachestat", 451, {NOFD, B, B, 0}},
	/* Paths at no address: EFAULT. */
	{"open", 2, {BAD, 0}},
	{"stat", 4, {BAD, B}},
	{"lstat", 6, {BAD, B}},
	{"access", 21, {BAD, 0}},
	{"truncate", 76, {BAD, 0}},
	{"chdir", 80, {BAD}},
	{"rename", 82, {BAD, BAD}},
	{"mkdir", 83, {BAD, 0755}},
	{"rmdir", 84, {BAD}},
	{"creat", 85, {BAD, 0644}},
	{"link", 86, {BAD, BAD}},
	{"unlink", 87, {BAD}},
	{"symlink", 88, {BAD, BAD}},
	{"readlink", 89, {BAD, B, 10}},
	{"chmod", 90, {BAD, 0644}},
	{"chown", 92, {BAD, 0, 0}},
	{"lchown", 94, {BAD, 0, 0}},
	{"utime", 132, {BAD, 0}},
	{"mknod", 133, {BAD, 0644, 0}},
	{"statfs", 137, {BAD, B}},
	{"getxattr", 191, {BAD, (long)"user.x", B, 1}},
	{"utimes", 235, {BAD, 0}},
	{"openat", 257, {-100, BAD, 0}},
	{"mkdirat", 258, {-100, BAD, 0755}},
	{"futimesat", 261, {-100, BAD, 0}},
	{"newfstatat", 262, {-100, BAD, B, 0}},
	{"unlinkat", 263, {-100, BAD, 0}},
	{"readlinkat", 267, {-100, BAD, B, 10}},
	{"faccessat", 269, {-100, BAD, 0}},
	{"utimensat", 280, {-100, BAD, 0, 0}},
	{"statx", 332, {-100, BAD, 0, 0x7ff, B}},
	{"execve", 59, {BAD, 0, 0}},
	{"openat2", 437, {-100, BAD, 0, 24}},
	{"faccessat2", 439, {-100, BAD, 0, 0}},
	{"fchmodat2", 452, {-100, BAD, 0644, 0}},
	{"mq_unlink", 241, {BAD}},
	{"memfd_create", 319, {BAD, 0}},
	{"getxattrat", 464, {-100, BAD, 0, (long)"user.x", B, 16}},
	{"file_getattr", 468, {-100, BAD, B, 24, 0}},
	/* Other pointers at no address: EFAULT. */
	{"pipe", 22, {BAD}},
	{"uname", 63, {BAD}},
	{"sysinfo", 99, {BAD}},
	{"sigaltstack", 131, {BAD, 0}},
	{"capget", 125, {BAD, BAD}},
	{"nanosleep", 35, {BAD, 0}},
	{"gettimeofday", 96, {BAD, 0}},
	{"clock_gettime", 228, {1, BAD}},
	/* Unknown flags, clocks, commands and sizes: EINVAL. */
	{"mmap", 9, {0, 0, 3, 0x22, NOFD, 0}},
	{"mprotect", 10, {1, 4096, 0}},
	{"munmap", 11, {1, 4096}},
	{"rt_sigaction", 13, {0, 0, 0, 8}},
	{"rt_sigaction SIGKILL", 13, {SIGKILL, B, 0, 8}},
	{"rt_sigprocmask", 14, {99, B, 0, 8}},
	{"rt_sigpending", 127, {B, 4}},
	{"rt_sigtimedwait", 128, {B, 0, 0, 4}},
	{"rt_sigsuspend", 130, {B, 4}},
	{"mremap", 25, {1, 4096, 4096, 0}},
	{"msync", 26, {1, 4096, 0}},
	{"mincore", 27, {1, 4096, B}},
	{"madvise", 28, {1, 4096, 0}},
	{"getitimer", 36, {99, B}},
	{"setitimer", 38, {99, B, 0}},
	{"socket", 41, {9999, 1, 0}},
	{"clone3", 435, {B, 0}},
	{"waitid", 247, {99, 0, B, 4}},
	{"getcwd", 79, {B, 1}},
	{"getrlimit", 97, {99, B}},
	{"getrusage", 98, {99, B}},
	{"getgroups", 115, {-1, 0}},
	{"getpriority", 140, {99, 0}},
	{"sched_getaffinity", 204, {0, 1, B}},
	{"set_robust_list", 273, {B, 1}},
	{"timer_create", 222, {99, 0, B}},
	{"timer_settime", 223, {0x7fff, 0, B, 0}},
	{"timer_gettime", 224, {0x7fff, B}},
	{"timer_getoverrun", 225, {0x7fff}},
	{"timer_delete", 226, {0x7fff}},
	{"clock_getres", 229, {99, B}},
	{"clock_nanosleep", 230, {99, 0, B, 0}},
	{"epoll_create", 213, {0}},
	{"eventfd2", 290, {0, 0x7fff}},
	{"epoll_create1", 291, {0x7fff}},
	{"pipe2", 293, {B, 0x7fff}},
	{"inotify_init1", 294, {0x7fff}},
	{"signalfd4", 289, {NOFD, B, 4, 0}},
	{"timerfd_create", 283, {99, 0}},
	{"prlimit64", 302, {0, 99, 0, B}},
	{"getrandom", 318, {B, 1, 0x7fff}},
	{"membarrier", 324, {0x7fff, 0}},
	{"pkey_alloc", 330, {0x7fff, 0}},
	{"ioprio_get", 252, {99, 0}},
	{"close_range", 436, {5, 4, 0}},
	{"memfd_secret", 447, {0x7fff}},
	{"mseal", 462, {1, 4096, 0}},
	{"prctl", 157, {0x7fffff, 0, 0, 0, 0}},
	{"arch_prctl", 158, {0x9999, 0}},
	{"rt_sigqueueinfo", 129, {NOPID, 99, B}},
	{"tgkill", 234, {-5, -5, 0}},
	{"futex", 202, {B, 0x7f, 0, 0, 0, 0}},
	{"futex_waitv", 449, {0, 0, 0, 0, 0}},
	/* Pids nobody has: ESRCH, ECHILD. */
	{"kill", 62, {NOPID, 0}},
	{"tkill", 200, {NOPID, 0}},
	{"getpgid", 121, {NOPID}},
	{"getsid", 124, {NOPID}},
	{"sched_getparam", 143, {NOPID, B}},
	{"sched_getscheduler", 145, {NOPID}},
	{"get_robust_list", 274, {NOPID, B, B}},
	{"pidfd_open", 434, {NOPID, 0}},
	{"wait4", 61, {NOPID, 0, 0, 0}},
	{"setpgid", 109, {NOPID, 0}},
	{"uprobe", 336, {0}},
	/* Numbers Linux lacks: ENOSYS. */
	{"epoll_ctl_old", 214, {0}},
	{"epoll_wait_old", 215, {0}},
	{"uselib", 134, {BAD}},
	{"nfsservctl", 180, {0}},
	{"lookup_dcookie", 212, {0}},
	{"create_module", 174, {0}},
	{"get_kernel_syms", 177, {0}},
	{"query_module", 178, {0}},
	{"_sysctl", 156, {BAD}},
	{"getpmsg", 181, {0}},
	{"putpmsg", 182, {0}},
	{"afs_syscall", 183, {0}},
	{"tuxcall", 184, {0}},
	{"security", 185, {0}},
	{"vserver", 236, {0}},
	{"number 400", 400, {0}},
	{"number 423", 423, {0}},
	{"number 1000", 1000, {0}},
	{"number 100000", 100000, {0}},
};

static void on_sigill(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	printf("SIGILL handler: signo %d code %d\n", sig, si->si_code);
}

static int uretprobe(int blocked)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = on_sigill;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGILL, &sa, NULL);
	if (blocked) {
		sigset_t s;
		sigemptyset(&s);
		sigaddset(&s, SIGILL);
		sigprocmask(SIG_BLOCK, &s, NULL);
	}
	errno = 0;
	long r = syscall(335);
	printf("uretprobe: %ld %s\n", r, r == -1 ? ename(errno) : "");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1)
		return uretprobe(strcmp(argv[1], "uretprobe-blocked") == 0);
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
		const struct call *c = &calls[i];
		errno = 0;
		long r = syscall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], c->a[5]);
		if (r == -1)
			printf("%s (%ld): -1 %s\n", c->name, c->nr, ename(errno));
		else
			printf("%s (%ld): %ld\n", c->name, c->nr, r);
	}
	return 0;
}
