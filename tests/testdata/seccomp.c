// seccomp(2) and prctl(PR_SET_SECCOMP): filters, their actions and their precedence, the
// checks on a filter, and what keeps a filter: new threads, fork, execve (from one thread
// and from several), TSYNC. What is killed is killed in a child, whose end the parent
// reports.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>
#include "ename.h"

// From the kernel's uapi headers (linux/filter.h, seccomp.h, audit.h, capability.h),
// which musl's include path lacks.
struct sock_filter {
	unsigned short code;
	unsigned char jt, jf;
	unsigned k;
};
struct sock_fprog {
	unsigned short len;
	struct sock_filter *filter;
};
struct seccomp_data {
	int nr;
	unsigned arch;
	unsigned long long instruction_pointer, args[6];
};
struct seccomp_notif_sizes {
	unsigned short seccomp_notif, seccomp_notif_resp, seccomp_data;
};
struct cap_header {
	unsigned version;
	int pid;
};
struct cap_data {
	unsigned effective, permitted, inheritable;
};
#define BPF_LD 0x00
#define BPF_ALU 0x04
#define BPF_JMP 0x05
#define BPF_RET 0x06
#define BPF_W 0x00
#define BPF_ABS 0x20
#define BPF_DIV 0x30
#define BPF_MOD 0x90
#define BPF_JA 0x00
#define BPF_JEQ 0x10
#define BPF_K 0x00
#define BPF_STMT(code, k) {(unsigned short)(code), 0, 0, k}
#define BPF_JUMP(code, k, jt, jf) {(unsigned short)(code), jt, jf, k}
#define SECCOMP_SET_MODE_STRICT 0
#define SECCOMP_SET_MODE_FILTER 1
#define SECCOMP_GET_ACTION_AVAIL 2
#define SECCOMP_GET_NOTIF_SIZES 3
#define SECCOMP_FILTER_FLAG_TSYNC 1
#define SECCOMP_RET_KILL_PROCESS 0x80000000U
#define SECCOMP_RET_KILL_THREAD 0x00000000U
#define SECCOMP_RET_TRAP 0x00030000U
#define SECCOMP_RET_ERRNO 0x00050000U
#define SECCOMP_RET_TRACE 0x7ff00000U
#define SECCOMP_RET_LOG 0x7ffc0000U
#define SECCOMP_RET_ALLOW 0x7fff0000U
#define AUDIT_ARCH_X86_64 0xc000003eU
#ifndef PR_GET_SECCOMP
#define PR_GET_SECCOMP 21
#endif

#define LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define LOAD_ARCH BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch))
#define LOAD_ARG0 BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0]))
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static long sc(unsigned op, unsigned flags, void *args) { return syscall(SYS_seccomp, op, flags, args); }

static long install(struct sock_filter *f, unsigned short n, unsigned flags) {
	struct sock_fprog p = {.len = n, .filter = f};
	return sc(SECCOMP_SET_MODE_FILTER, flags, &p);
}

// one_call is a filter that gives action to syscall nr (with arg0 == arg0 when want_arg)
// and allows the rest; a wrong architecture is killed.
static long one_call(int nr, unsigned action, int want_arg, unsigned arg0, unsigned flags) {
	struct sock_filter f[] = {
		LOAD_ARCH,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		LOAD_NR,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 4),
		LOAD_ARG0,
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, arg0, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, want_arg ? 1 : 0, want_arg ? 1 : 0),
		BPF_STMT(BPF_RET | BPF_K, action),
		ALLOW,
	};
	if (!want_arg) { // skip the argument test: jump straight to the action
		f[4] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 3, 4);
	}
	return install(f, sizeof f / sizeof f[0], flags);
}

// status_line prints the lines of /proc/self/status that start with prefix.
static void status_line(const char *prefix) {
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	while (f && fgets(line, sizeof line, f))
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			printf("  /proc/self/status %s", line);
	if (f)
		fclose(f);
}

static const char *res(long r) { return r < 0 ? ename(errno) : "ok"; }

static volatile int sys_signo, sys_code, sys_syscall, sys_errno, sys_addr_ok;
static volatile unsigned sys_arch;
static volatile long sys_rax;
static void on_sigsys(int sig, siginfo_t *si, void *uc) {
	sys_signo = sig;
	sys_code = si->si_code;
	sys_syscall = si->si_syscall;
	sys_arch = si->si_arch;
	sys_errno = si->si_errno;
	unsigned char *ip = si->si_call_addr; // just past the syscall instruction
	sys_addr_ok = ip && ip[-2] == 0x0f && ip[-1] == 0x05;
	sys_rax = ((ucontext_t *)uc)->uc_mcontext.gregs[REG_RAX];
}

static void report(const char *what, pid_t pid) {
	int st;
	waitpid(pid, &st, 0);
	if (WIFSIGNALED(st))
		printf("%s: killed by %s\n", what, strsignal(WTERMSIG(st)));
	else
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
}

static void *thread_getppid(void *arg) {
	long r = syscall(SYS_getppid);
	*(int *)arg = r < 0 ? errno : 0;
	return NULL;
}

static void *thread_wait(void *arg) {
	volatile int *go = arg;
	while (!*go)
		usleep(1000);
	long r = syscall(SYS_getppid);
	*go = r < 0 ? errno : 0;
	return NULL;
}

int main(int argc, char **argv) {
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		long r = syscall(SYS_getppid);
		printf("  after execve: getppid %s (errno %d), PR_GET_SECCOMP %d\n", res(r), r < 0 ? errno : 0,
		       (int)prctl(PR_GET_SECCOMP));
		return 0;
	}
	printf("PR_GET_SECCOMP before: %d\n", (int)prctl(PR_GET_SECCOMP));

	// Checks on a filter.
	struct sock_filter bad_load[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), ALLOW};
	struct sock_filter no_ret[] = {LOAD_NR};
	struct sock_filter div0[] = {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), ALLOW};
	struct sock_filter back[] = {BPF_JUMP(BPF_JMP | BPF_JA, 5, 0, 0), ALLOW};
	struct sock_filter mod[] = {BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3), ALLOW};
	struct sock_filter allow[] = {ALLOW};
	struct sock_fprog empty = {.len = 0, .filter = allow};
	printf("a load past seccomp_data: %s\n", res(install(bad_load, 2, 0)));
	printf("no return at the end: %s\n", res(install(no_ret, 1, 0)));
	printf("a division by a constant 0: %s\n", res(install(div0, 2, 0)));
	printf("a jump out of the program: %s\n", res(install(back, 2, 0)));
	printf("BPF_MOD, which seccomp does not allow: %s\n", res(install(mod, 2, 0)));
	printf("an empty filter: %s\n", res(sc(SECCOMP_SET_MODE_FILTER, 0, &empty)));
	printf("a filter at an unmapped address: %s\n", res(sc(SECCOMP_SET_MODE_FILTER, 0, (void *)8)));
	printf("unknown flags: %s\n", res(install(allow, 1, 0x1000)));
	printf("an unknown operation: %s\n", res(sc(99, 0, NULL)));
	unsigned act = SECCOMP_RET_LOG;
	printf("SECCOMP_GET_ACTION_AVAIL(SECCOMP_RET_LOG): %s\n", res(sc(SECCOMP_GET_ACTION_AVAIL, 0, &act)));
	act = 0x12340000;
	printf("SECCOMP_GET_ACTION_AVAIL(0x12340000): %s\n", res(sc(SECCOMP_GET_ACTION_AVAIL, 0, &act)));
	struct seccomp_notif_sizes sizes;
	long r = sc(SECCOMP_GET_NOTIF_SIZES, 0, &sizes);
	printf("SECCOMP_GET_NOTIF_SIZES: %s, seccomp_data %u\n", res(r), sizes.seccomp_data);

	// Without no_new_privs and without CAP_SYS_ADMIN, no filter.
	pid_t pid = fork();
	if (pid == 0) {
		struct cap_header h = {.version = 0x20080522}; // _LINUX_CAPABILITY_VERSION_3
		struct cap_data d[2] = {0};
		syscall(SYS_capset, &h, d);
		printf("  without no_new_privs or CAP_SYS_ADMIN: %s\n", res(install(allow, 1, 0)));
		_exit(0);
	}
	report("that child", pid);

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		printf("PR_SET_NO_NEW_PRIVS: %s\n", ename(errno));

	// ERRNO, for one call and for one argument.
	printf("filter: getppid -> ERRNO(1234): %s\n", res(one_call(SYS_getppid, SECCOMP_RET_ERRNO | 1234, 0, 0, 0)));
	r = syscall(SYS_getppid);
	printf("  getppid: %s, errno %d\n", res(r), r < 0 ? errno : 0);
	printf("  getpid works: %s\n", syscall(SYS_getpid) == getpid() ? "yes" : "no");
	printf("PR_GET_SECCOMP: %d\n", (int)prctl(PR_GET_SECCOMP));
	status_line("Seccomp");
	printf("filter: fchdir(12345) -> ERRNO(ENOTDIR): %s\n",
	       res(one_call(SYS_fchdir, SECCOMP_RET_ERRNO | ENOTDIR, 1, 12345, 0)));
	printf("  fchdir(12345): %s; fchdir(12346): %s\n", res(syscall(SYS_fchdir, 12345)), res(syscall(SYS_fchdir, 12346)));
	// The newest filter decides among equal actions.
	printf("filter: getppid -> ERRNO(5): %s\n", res(one_call(SYS_getppid, SECCOMP_RET_ERRNO | 5, 0, 0, 0)));
	r = syscall(SYS_getppid);
	printf("  getppid: errno %d\n", r < 0 ? errno : 0);
	// ALLOW never overrides ERRNO; ERRNO loses to TRAP.
	printf("filter: getppid -> ALLOW: %s\n", res(one_call(SYS_getppid, SECCOMP_RET_ALLOW, 0, 0, 0)));
	r = syscall(SYS_getppid);
	printf("  getppid: errno %d\n", r < 0 ? errno : 0);

	struct sigaction sa = {.sa_sigaction = on_sigsys, .sa_flags = SA_SIGINFO};
	sigaction(SIGSYS, &sa, NULL);
	printf("filter: getpriority -> TRAP(42): %s\n", res(one_call(SYS_getpriority, SECCOMP_RET_TRAP | 42, 0, 0, 0)));
	errno = 0;
	r = syscall(SYS_getpriority, 0, 0);
	// The handler sees the registers of the call (RAX its number: syscall_rollback), and
	// the call returns what the frame's RAX holds when the handler returns.
	printf("  getpriority returned %ld; SIGSYS: signo %d, si_code SYS_SECCOMP %s, si_syscall %s, si_arch %s, "
	       "si_errno %d, si_call_addr just past a syscall instruction %s, RAX in the frame the call's number %s\n",
	       r, sys_signo, sys_code == 1 ? "yes" : "no", sys_syscall == SYS_getpriority ? "right" : "wrong",
	       sys_arch == AUDIT_ARCH_X86_64 ? "right" : "wrong", sys_errno, sys_addr_ok ? "yes" : "no",
	       sys_rax == SYS_getpriority ? "yes" : "no");
	printf("filter: getppid -> TRACE (no tracer): %s\n", res(one_call(SYS_getppid, SECCOMP_RET_TRACE, 0, 0, 0)));
	r = syscall(SYS_getppid);
	printf("  getppid: %s\n", res(r));
	printf("strict mode on top of filters: %s\n", res(sc(SECCOMP_SET_MODE_STRICT, 0, NULL)));

	// A new thread has the filters.
	int terr = -1;
	pthread_t th;
	pthread_create(&th, NULL, thread_getppid, &terr);
	pthread_join(th, NULL);
	printf("a new thread's getppid: errno %d\n", terr);

	// A fork's child has them, and keeps them across execve, from one thread or several.
	pid = fork();
	if (pid == 0) {
		r = syscall(SYS_getppid);
		printf("  fork's child: getppid errno %d\n", r < 0 ? errno : 0);
		execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
		printf("  execve: %s\n", ename(errno));
		_exit(1);
	}
	report("that child", pid);
	pid = fork();
	if (pid == 0) {
		volatile int go = 0;
		pthread_create(&th, NULL, thread_wait, (void *)&go);
		execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
		_exit(1);
	}
	report("that child (with two threads at its execve)", pid);

	// The actions that kill, each in a child.
	pid = fork();
	if (pid == 0) {
		one_call(SYS_getpid, SECCOMP_RET_KILL_PROCESS, 0, 0, 0);
		syscall(SYS_getpid);
		_exit(0);
	}
	report("KILL_PROCESS on getpid", pid);
	pid = fork();
	if (pid == 0) {
		one_call(SYS_getpid, SECCOMP_RET_KILL_THREAD, 0, 0, 0);
		syscall(SYS_getpid);
		_exit(0);
	}
	report("KILL_THREAD on getpid, the only thread", pid);
	pid = fork();
	if (pid == 0) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGSYS);
		sigprocmask(SIG_BLOCK, &set, NULL);
		one_call(SYS_getpid, SECCOMP_RET_TRAP, 0, 0, 0);
		syscall(SYS_getpid);
		_exit(0);
	}
	report("TRAP with SIGSYS blocked", pid);
	pid = fork();
	if (pid == 0) {
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_STRICT, 0, NULL) == 0) {
			// in strict mode only read, write, _exit and rt_sigreturn
		}
		syscall(SYS_write, 1, "  strict mode: write works\n", 27);
		syscall(SYS_getpid);
		syscall(SYS_exit, 0);
	}
	report("strict mode, then getpid", pid);

	// TSYNC: a filter for every thread.
	pid = fork();
	if (pid == 0) {
		volatile int go = 0;
		pthread_create(&th, NULL, thread_wait, (void *)&go);
		r = one_call(SYS_getppid, SECCOMP_RET_ERRNO | 7, 0, 0, SECCOMP_FILTER_FLAG_TSYNC);
		go = 1;
		pthread_join(th, NULL);
		printf("  TSYNC: %s, the other thread's getppid: errno %d\n", res(r), go);
		_exit(0);
	}
	report("that child", pid);
	return 0;
}
