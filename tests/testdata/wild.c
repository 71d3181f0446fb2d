/*
 * wild.c — wild pointers and sizes given to syscalls.
 *
 * Every call goes through libc's raw syscall(), so that libc neither checks nor rewrites
 * the arguments, and each prints one line "name: ret errno-name" ("-" when the call
 * succeeded). Every case is one whose result Linux fixes (see the man page of each call):
 * the same line must come out natively and under golos. Pointers used: 1, 16, a
 * non-canonical address, a kernel address, a PROT_NONE page, and buffers that run off
 * the end of a readable page into a PROT_NONE one. Sizes: zero, negative, beyond the
 * address space, wrapping around it, and int arguments with garbage in the upper 32 bits
 * of the register (Linux reads only the low 32: SYSCALL_DEFINE's int parameters; on
 * x86-64 the syscall number too, on the kernels of this test's time). No call here may
 * succeed in a way that changes the process (no fork, no signal delivered, no mapping of
 * the program's replaced); each was checked natively to give the same line every run and
 * in every flavour.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include "ename.h"

#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define PAGE 4096L

#define NONCANON 0x0000800000000000UL /* not canonical with 4-level or 5-level paging */
#define KERNEL 0xffff800000000000UL   /* canonical, kernel half */

/* The kernel's struct sigaction for rt_sigaction (not libc's). */
struct ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	uint64_t mask;
};

/* struct clone_args of clone3(2), CLONE_ARGS_SIZE_VER2 = 88 bytes. */
struct clone_args88 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		set_tid, set_tid_size, cgroup;
};

static void show(const char *name, long r, int e)
{
	if (r == -1)
		printf("%s: -1 %s\n", name, ename(e));
	else
		printf("%s: %ld -\n", name, r);
}

/* T prints the call's result and errno; the call's own text names it. */
#define T(call)                                  \
	do {                                     \
		errno = 0;                       \
		long r_ = (long)(call);          \
		int e_ = errno;                  \
		show(#call, r_, e_);             \
	} while (0)

/* TB prints only whether the call succeeded, for calls whose success value varies
 * (an address, a descriptor). */
#define TB(call)                                                                    \
	do {                                                                        \
		errno = 0;                                                          \
		long r_ = (long)(call);                                             \
		int e_ = errno;                                                     \
		printf("%s: %s %s\n", #call, r_ == -1 ? "-1" : "ok", r_ == -1 ? ename(e_) : "-"); \
	} while (0)

int main(void)
{
	char buf[256];
	long self = syscall(SYS_getpid);

	/* Two pages: the first readable and writable, the second PROT_NONE. */
	char *pg = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pg == MAP_FAILED || mprotect(pg + PAGE, PAGE, PROT_NONE) != 0) {
		perror("mmap");
		return 2;
	}
	char *none = pg + PAGE;  /* PROT_NONE */
	char *edge4 = none - 4;  /* 4 bytes before the PROT_NONE page */
	char *edge8 = none - 8;
	char *edge16 = none - 16;
	/* "/proc/self/exe" without its NUL, ending at the PROT_NONE page. */
	static const char exe[] = "/proc/self/exe";
	char *unterminated = none - (sizeof exe - 1);
	memcpy(unterminated, exe, sizeof exe - 1);
	/* A path longer than PATH_MAX. */
	static char longpath[PATH_MAX + 100];
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[0] = '/';

	setvbuf(stdout, NULL, _IOLBF, 0);

	/* readlink(2), readlinkat(2): golos answers /proc/self/exe itself. */
	T(syscall(SYS_readlink, "/proc/self/exe", (char *)1, 100));
	T(syscall(SYS_readlink, "/proc/self/exe", (char *)NONCANON, 100));
	T(syscall(SYS_readlink, "/proc/self/exe", (char *)KERNEL, 100));
	T(syscall(SYS_readlink, "/proc/self/exe", none, 100));
	T(syscall(SYS_readlink, "/proc/self/exe", edge4, 100));
	T(syscall(SYS_readlink, (char *)16, buf, 100));
	T(syscall(SYS_readlink, (char *)KERNEL, buf, 100));
	T(syscall(SYS_readlink, unterminated, buf, 100));
	T(syscall(SYS_readlink, longpath, buf, 100));
	T(syscall(SYS_readlink, "/proc/self/exe", buf, 0));
	T(syscall(SYS_readlink, "/proc/self/exe", buf, -1L));         /* bufsiz is an int: -1 */
	T(syscall(SYS_readlink, "/proc/self/exe", buf, 1L << 32));    /* int 0 */
	T(syscall(SYS_readlink, "/proc/self/exe", buf, (1L << 32) | 1)); /* int 1: truncated */
	T(syscall(SYS_readlink, "/proc/self/exe", buf, 1));
	T(syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", (char *)1, 100));
	T(syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", none, 100));
	T(syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", edge4, 100));
	T(syscall(SYS_readlinkat, AT_FDCWD, (char *)16, buf, 100));
	T(syscall(SYS_readlinkat, AT_FDCWD, unterminated, buf, 100));
	T(syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", buf, 0));
	T(syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", buf, -1L));
	T(syscall(SYS_readlinkat, -1, "proc/self/exe", buf, 100));   /* relative: EBADF */

	/* open(2), openat(2) */
	T(syscall(SYS_open, (char *)16, O_RDONLY));
	T(syscall(SYS_open, (char *)NONCANON, O_RDONLY));
	T(syscall(SYS_open, (char *)KERNEL, O_RDONLY));
	T(syscall(SYS_open, none, O_RDONLY));
	T(syscall(SYS_open, unterminated, O_RDONLY));
	T(syscall(SYS_open, longpath, O_RDONLY));
	T(syscall(SYS_openat, AT_FDCWD, (char *)16, O_RDONLY));
	T(syscall(SYS_openat, AT_FDCWD, unterminated, O_RDONLY));
	T(syscall(SYS_openat, -1, "proc/self/exe", O_RDONLY));
	/* Short paths that end where a PROT_NONE page begins: golos looks at the first bytes
	 * of a path before it lets an open through (for /proc/), and must not fail one that
	 * is shorter than that look. Then "/pro" unterminated at the same place. */
	char *pg2 = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pg2 == MAP_FAILED || mprotect(pg2 + PAGE, PAGE, PROT_NONE) != 0) {
		perror("mmap");
		return 2;
	}
	memcpy(pg2 + PAGE - 2, "/", 2);
	TB(syscall(SYS_open, pg2 + PAGE - 2, O_RDONLY | O_DIRECTORY));
	TB(syscall(SYS_openat, AT_FDCWD, pg2 + PAGE - 2, O_RDONLY | O_DIRECTORY));
	memcpy(pg2 + PAGE - 6, "/proc", 6);
	TB(syscall(SYS_openat, AT_FDCWD, pg2 + PAGE - 6, O_RDONLY | O_DIRECTORY));
	memcpy(pg2 + PAGE - 4, "/pro", 4);
	T(syscall(SYS_open, pg2 + PAGE - 4, O_RDONLY));
	T(syscall(SYS_openat, AT_FDCWD, pg2 + PAGE - 4, O_RDONLY));

	/* rt_sigaction(2) */
	struct ksigaction sa = {.handler = SIG_IGN}, old;
	T(syscall(SYS_rt_sigaction, SIGUSR1, (void *)1, NULL, 8));
	T(syscall(SYS_rt_sigaction, SIGUSR1, (void *)KERNEL, NULL, 8));
	T(syscall(SYS_rt_sigaction, SIGUSR1, edge16, NULL, 8));
	T(syscall(SYS_rt_sigaction, SIGUSR1, NULL, (void *)1, 8));
	T(syscall(SYS_rt_sigaction, SIGUSR1, NULL, none, 8));
	T(syscall(SYS_rt_sigaction, SIGUSR1, &sa, NULL, 7));
	T(syscall(SYS_rt_sigaction, SIGUSR1, &sa, NULL, 16));
	T(syscall(SYS_rt_sigaction, SIGUSR1, NULL, (void *)1, 0));
	T(syscall(SYS_rt_sigaction, SIGKILL, (void *)1, NULL, 8)); /* EFAULT before EINVAL */
	T(syscall(SYS_rt_sigaction, 65, (void *)1, NULL, 8));
	T(syscall(SYS_rt_sigaction, SIGKILL, &sa, NULL, 8));
	T(syscall(SYS_rt_sigaction, SIGSTOP, &sa, NULL, 8));
	T(syscall(SYS_rt_sigaction, 0, &sa, NULL, 8));
	T(syscall(SYS_rt_sigaction, 65, &sa, NULL, 8));
	T(syscall(SYS_rt_sigaction, -1L, &sa, NULL, 8));
	T(syscall(SYS_rt_sigaction, 0, NULL, &old, 8));
	T(syscall(SYS_rt_sigaction, 65, NULL, &old, 8));
	T(syscall(SYS_rt_sigaction, SIGKILL, NULL, &old, 8));

	/* rt_sigprocmask(2) */
	uint64_t set = 1UL << (SIGUSR2 - 1), oset;
	T(syscall(SYS_rt_sigprocmask, SIG_BLOCK, (void *)1, NULL, 8));
	T(syscall(SYS_rt_sigprocmask, SIG_BLOCK, edge4, NULL, 8));
	T(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, (void *)1, 8));
	T(syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, none, 8));
	T(syscall(SYS_rt_sigprocmask, 99, &set, NULL, 8));
	T(syscall(SYS_rt_sigprocmask, -1L, &set, NULL, 8));
	T(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 7));
	T(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 16));
	T(syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &oset, 0));

	/* rt_sigpending(2) */
	T(syscall(SYS_rt_sigpending, (void *)1, 8));
	T(syscall(SYS_rt_sigpending, none, 8));
	T(syscall(SYS_rt_sigpending, &oset, 16));

	/* sigaltstack(2) */
	stack_t ss = {.ss_sp = buf, .ss_size = 100, .ss_flags = 0};
	stack_t badflags = {.ss_sp = pg, .ss_size = 1 << 16, .ss_flags = 0x1234};
	T(syscall(SYS_sigaltstack, (void *)1, NULL));
	T(syscall(SYS_sigaltstack, edge8, NULL));
	T(syscall(SYS_sigaltstack, NULL, (void *)1));
	T(syscall(SYS_sigaltstack, NULL, none));
	T(syscall(SYS_sigaltstack, &ss, NULL));       /* smaller than MINSIGSTKSZ: ENOMEM */
	T(syscall(SYS_sigaltstack, &badflags, NULL)); /* EINVAL */

	/* kill(2), tgkill(2), tkill(2), rt_sigqueueinfo(2) */
	T(syscall(SYS_kill, self, 99));
	T(syscall(SYS_kill, self, -1L));
	T(syscall(SYS_kill, self, 0));
	T(syscall(SYS_kill, (long)INT_MIN, SIGUSR1)); /* -INT_MIN is excluded: ESRCH */
	T(syscall(SYS_tgkill, self, 999999, SIGUSR1));
	T(syscall(SYS_tgkill, self, 0, SIGUSR1));
	T(syscall(SYS_tgkill, 0, 999999, SIGUSR1));
	T(syscall(SYS_tgkill, self, syscall(SYS_gettid), 99));
	T(syscall(SYS_tgkill, self, syscall(SYS_gettid), 0));
	T(syscall(SYS_tkill, 0, SIGUSR1));
	T(syscall(SYS_tkill, -5L, SIGUSR1));
	T(syscall(SYS_tkill, syscall(SYS_gettid), 99));
	T(syscall(SYS_rt_sigqueueinfo, self, SIGUSR1, (void *)1));
	T(syscall(SYS_rt_sigqueueinfo, self, SIGUSR1, none));
	T(syscall(SYS_rt_tgsigqueueinfo, self, syscall(SYS_gettid), SIGUSR1, (void *)1));

	/* arch_prctl(2) */
	T(syscall(SYS_arch_prctl, ARCH_GET_FS, (void *)1));
	T(syscall(SYS_arch_prctl, ARCH_GET_FS, (void *)KERNEL));
	T(syscall(SYS_arch_prctl, ARCH_GET_FS, none));
	T(syscall(SYS_arch_prctl, 0x9999, 0));
	T(syscall(SYS_arch_prctl, ARCH_SET_FS, KERNEL));
	T(syscall(SYS_arch_prctl, ARCH_SET_FS, 0xffffffffffffffffUL));

	/* mmap(2), munmap(2), mprotect(2), madvise(2), mremap(2), brk(2) */
	T(syscall(SYS_mmap, NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	T(syscall(SYS_mmap, NULL, 1L << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	T(syscall(SYS_mmap, NULL, -PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	T(syscall(SYS_mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 1));
	T(syscall(SYS_mmap, NULL, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0)); /* neither SHARED nor PRIVATE */
	T(syscall(SYS_mmap, NULL, PAGE, PROT_READ, MAP_PRIVATE, 999, 0));
	T(syscall(SYS_mmap, pg + 1, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	T(syscall(SYS_mmap, pg, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	T(syscall(SYS_munmap, (void *)1, PAGE));
	T(syscall(SYS_munmap, pg, 0));
	T(syscall(SYS_munmap, pg, 1L << 62));
	T(syscall(SYS_munmap, pg, -PAGE));
	T(syscall(SYS_munmap, KERNEL, PAGE));
	T(syscall(SYS_mprotect, pg + 1, PAGE, PROT_READ));
	T(syscall(SYS_mprotect, pg, 0, PROT_READ));
	T(syscall(SYS_mprotect, pg, PAGE, 0x12345678));
	T(syscall(SYS_madvise, pg + 1, PAGE, MADV_DONTNEED));
	T(syscall(SYS_madvise, pg, 0, MADV_DONTNEED));
	T(syscall(SYS_madvise, pg, PAGE, 9999));
	T(syscall(SYS_madvise, pg, -PAGE, MADV_DONTNEED));
	T(syscall(SYS_madvise, pg, 1L << 62, MADV_DONTNEED));
	T(syscall(SYS_mprotect, pg, -PAGE, PROT_READ)); /* end wraps: ENOMEM, nothing changed */
	{
		/* Linux changes the mapped pages before it finds the hole: a page of its own,
		 * with holes on both sides. */
		char *q = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		munmap(q, PAGE);
		munmap(q + 2 * PAGE, PAGE);
		q += PAGE;
		T(syscall(SYS_mprotect, q, 1L << 62, PROT_READ));
		T(syscall(SYS_mprotect, q, KERNEL, PROT_READ));
		/* MAP_FIXED beyond the address space: nothing can be mapped, nothing replaced. */
		T(syscall(SYS_mmap, q, 1L << 62, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
		T(syscall(SYS_mmap, KERNEL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
		T(syscall(SYS_mmap, NONCANON, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
		T(syscall(SYS_mremap, q, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, KERNEL));
		printf("isolated page kept: %s\n", q[0] == 0 ? "yes" : "no");
	}
	T(syscall(SYS_mremap, pg + 1, PAGE, 2 * PAGE, 0));
	T(syscall(SYS_mremap, pg, PAGE, 0, 0));
	T(syscall(SYS_mremap, pg, PAGE, 2 * PAGE, 0x80)); /* unknown flag */
	{
		long cur = syscall(SYS_brk, 0);
		long r = syscall(SYS_brk, -1L);
		printf("brk(-1) leaves the break: %s\n", r == cur ? "yes" : "no");
		r = syscall(SYS_brk, KERNEL);
		printf("brk(kernel address) leaves the break: %s\n", r == cur ? "yes" : "no");
		r = syscall(SYS_brk, 4096);
		printf("brk(4096) leaves the break: %s\n", r == cur ? "yes" : "no");
	}
	/* The PROT_NONE page and its neighbour are still as they were. */
	printf("page still writable: %s\n", (pg[0] = 7, pg[0] == 7) ? "yes" : "no");

	/* read(2), write(2), readv/writev, pread, getcwd, uname, fstat, clocks, ... */
	int devnull = open("/dev/null", O_RDWR);
	T(syscall(SYS_write, 1, (void *)1, 10));
	T(syscall(SYS_write, 1, none, 10));
	T(syscall(SYS_write, 1, (void *)KERNEL, 10));
	T(syscall(SYS_write, devnull, (void *)1, 10)); /* /dev/null reads nothing: 10 */
	T(syscall(SYS_read, 0, (void *)1, 10));        /* stdin is empty: 0 */
	T(syscall(SYS_read, devnull, (void *)KERNEL, 10));
	T(syscall(SYS_pread64, 0, (void *)1, 10, -1L));
	T(syscall(SYS_writev, 1, (void *)1, 1));
	T(syscall(SYS_writev, 1, none, 1));
	T(syscall(SYS_writev, 1, buf, -1L));
	T(syscall(SYS_readv, 0, buf, 1025));
	T(syscall(SYS_getcwd, (void *)1, 4096));
	T(syscall(SYS_getcwd, buf, 1));
	T(syscall(SYS_uname, (void *)1));
	T(syscall(SYS_uname, edge16));
	T(syscall(SYS_fstat, 0, (void *)1));
	T(syscall(SYS_newfstatat, AT_FDCWD, (char *)16, buf, 0));
	T(syscall(SYS_stat, unterminated, buf));
	T(syscall(SYS_access, (char *)16, F_OK));
	T(syscall(SYS_clock_gettime, CLOCK_MONOTONIC, (void *)1));
	T(syscall(SYS_clock_gettime, 9999, buf));
	T(syscall(SYS_gettimeofday, (void *)1, NULL));
	T(syscall(SYS_nanosleep, (void *)1, NULL));
	T(syscall(SYS_getrandom, (void *)1, 16, 0));
	T(syscall(SYS_getrandom, buf, 16, 0x12340000));
	T(syscall(SYS_futex, (void *)1, 0 /* FUTEX_WAIT */, 0, NULL));
	T(syscall(SYS_poll, (void *)1, 1, 0));
	T(syscall(SYS_pipe2, (void *)1, 0));
	T(syscall(SYS_pipe2, buf, 0x7fff0000));
	T(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, (void *)1));
	/* struct rlimit, struct timespec and sigset_t that golos reads itself */
	T(syscall(SYS_prlimit64, 0, RLIMIT_AS, (void *)1, NULL));
	T(syscall(SYS_prlimit64, 0, RLIMIT_AS, NULL, (void *)1));
	T(syscall(SYS_prlimit64, 0, RLIMIT_DATA, edge4, NULL));
	T(syscall(SYS_getrlimit, RLIMIT_DATA, (void *)KERNEL));
	T(syscall(SYS_setrlimit, RLIMIT_AS, (void *)1));
	T(syscall(SYS_getrlimit, RLIMIT_NOFILE, none));
	T(syscall(SYS_rt_sigsuspend, (void *)1, 8));
	T(syscall(SYS_rt_sigtimedwait, (void *)1, NULL, NULL, 8));
	T(syscall(SYS_rt_sigtimedwait, &set, NULL, (void *)1, 8));
	T(syscall(SYS_rt_sigtimedwait, &set, NULL, edge4, 8));
	T(syscall(SYS_sched_getaffinity, 0, 8, (void *)1));
	T(syscall(SYS_set_robust_list, (void *)1, 1));
	T(syscall(SYS_close, 99999));
	T(syscall(SYS_dup2, 1, -1L));

	/* int arguments: Linux uses only the low 32 bits of the register (a caller of the
	 * variadic syscall() passes an int such as AT_FDCWD zero-extended), and the syscall
	 * number itself is an int. */
	long hi = 1L << 32;
	uint64_t fsbase = 0, empty = 0;
	T(syscall(SYS_readlinkat, (long)(unsigned)AT_FDCWD, "/proc/self/exe", buf, 1));
	T(syscall(SYS_readlinkat, (long)AT_FDCWD, "/proc/self/exe", buf, 1));
	T(syscall(SYS_readlinkat, hi | (unsigned)AT_FDCWD, "/proc/self/exe", buf, 1));
	TB(syscall(SYS_openat, hi | (unsigned)AT_FDCWD, "/proc/self/exe", hi | O_RDONLY));
	T(syscall(SYS_kill, hi | self, 0));
	T(syscall(SYS_kill, self, hi | 0));
	T(syscall(SYS_tgkill, hi | self, hi | syscall(SYS_gettid), 0));
	T(syscall(SYS_tkill, hi | syscall(SYS_gettid), hi | 0));
	T(syscall(SYS_rt_sigaction, hi | SIGUSR1, NULL, &old, 8));
	T(syscall(SYS_rt_sigprocmask, hi | SIG_BLOCK, &empty, NULL, 8));
	T(syscall(SYS_arch_prctl, hi | ARCH_GET_FS, &fsbase));
	/* A negative int passed zero-extended is still negative to Linux. */
	T(syscall(SYS_readlink, "/proc/self/exe", buf, 0xffffffffL));
	T(syscall(SYS_kill, self, 0xffffffffL));
	T(syscall(SYS_tkill, 0xfffffffbL, SIGUSR1));
	T(syscall(SYS_tgkill, self, 0xfffffffbL, SIGUSR1));
	T(syscall(SYS_tgkill, 0xfffffffbL, syscall(SYS_gettid), SIGUSR1));
	T(syscall(SYS_rt_sigaction, 0xffffffffL, &sa, NULL, 8));
	T(syscall(SYS_rt_sigprocmask, 0xffffffffL, &set, NULL, 8));
	T(syscall(SYS_close, 0xffffffffL));
	printf("syscall number with high bits is getppid: %s\n",
	       syscall(hi | SYS_getppid) == getppid() ? "yes" : "no");
	T(syscall(-1L));
	T(syscall(0xffffffffL));

	/* clone3(2): none of these may create anything. */
	struct clone_args88 ca;
	memset(&ca, 0, sizeof ca);
	T(syscall(SYS_clone3, (void *)1, 88));
	T(syscall(SYS_clone3, none, 88));
	T(syscall(SYS_clone3, edge16, 88));
	T(syscall(SYS_clone3, edge16, 96)); /* the tail past 88 is not readable: EFAULT */
	T(syscall(SYS_clone3, edge16, 64));
	T(syscall(SYS_clone3, &ca, 8));     /* below CLONE_ARGS_SIZE_VER0: EINVAL */
	T(syscall(SYS_clone3, &ca, 0));
	T(syscall(SYS_clone3, pg, PAGE + 1)); /* above a page: E2BIG */
	struct clone_args88 unknown_flag = {.flags = 1UL << 40};
	T(syscall(SYS_clone3, &unknown_flag, 88));
	struct clone_args88 bad_exit_signal = {.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM, .exit_signal = 99};
	T(syscall(SYS_clone3, &bad_exit_signal, 88));
	struct clone_args88 thread_without_vm = {.flags = CLONE_THREAD | CLONE_SIGHAND};
	T(syscall(SYS_clone3, &thread_without_vm, 88));

	printf("done\n");
	return 0;
}
