/*
 * proc_cloneflags.c — clone(2) and clone3(2) of a process (no CLONE_THREAD) with flags
 * other than fork's and vfork's: CLONE_NEWUTS (the child's hostname is its own),
 * CLONE_NEWPID (the child is pid 1), CLONE_PARENT (the child is its grandparent's, whose
 * wait finds it; its parent's gets ECHILD), clone3's CLONE_CLEAR_SIGHAND (a handled
 * signal is SIG_DFL in the child, an ignored one stays ignored), and the combinations
 * Linux refuses with EINVAL (CLONE_SIGHAND without CLONE_VM, CLONE_NEWNS with
 * CLONE_FS). Run as root (the namespaces need CAP_SYS_ADMIN).
 *
 * The UTS namespace stays the child's across execve, also one made while another thread
 * runs (arguments "uts-threaded", then "uts-exec").
 *
 * With the argument "unshared": clone with CLONE_FILES, CLONE_FS, and CLONE_VM without
 * CLONE_VFORK, each printing its result (what golos cannot give, and says so).
 *
 * Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

static int failures;

static void expect(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "NO");
	if (!ok)
		failures++;
}

/* rawclone is clone(2) with no new stack: the child goes on as after fork. */
static long rawclone(unsigned long flags)
{
	return syscall(SYS_clone, flags, 0, NULL, NULL, 0);
}

/* struct clone_args (include/uapi/linux/sched.h), CLONE_ARGS_SIZE_VER0. */
struct cargs {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif

static void on_usr1(int sig)
{
	(void)sig;
}

/* reap waits for pid; its exit status, or -1. */
static int reap(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int unshared(void)
{
	static const struct {
		const char *name;
		unsigned long flags;
	} cases[] = {
	    {"CLONE_FILES", CLONE_FILES},
	    {"CLONE_FS", CLONE_FS},
	    {"CLONE_VM", CLONE_VM},
	    {"CLONE_SIGHAND|CLONE_VM", CLONE_SIGHAND | CLONE_VM},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		long r = rawclone(cases[i].flags | SIGCHLD);
		if (r == 0)
			_exit(0);
		printf("clone %s: %s\n", cases[i].name, r > 0 ? "a child" : ename(errno));
		if (r > 0)
			reap(r);
	}
	return 0;
}

static void *sleeper(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

/* utsExec runs in the child of a CLONE_NEWUTS clone, after one execve ("uts-threaded"):
 * it starts a thread and makes another execve, after which ("uts-exec") the program sets
 * the hostname. Exit status 0 when the name is set and seen. */
static int utsExec(const char *step)
{
	if (strcmp(step, "uts-threaded") == 0) {
		pthread_t th;
		if (pthread_create(&th, NULL, sleeper, NULL) != 0)
			return 4;
		char *args[] = {"proc_cloneflags", "uts-exec", NULL};
		execv("/proc/self/exe", args);
		return 3;
	}
	struct utsname u;
	if (sethostname("golos-uts-exec", 14) != 0)
		return 1;
	uname(&u);
	return strcmp(u.nodename, "golos-uts-exec") == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && strncmp(argv[1], "uts-", 4) == 0)
		return utsExec(argv[1]);
	if (argc > 1 && strcmp(argv[1], "unshared") == 0)
		return unshared();

	/* CLONE_NEWUTS: the child's hostname is its own. */
	struct utsname before, after;
	uname(&before);
	long pid = rawclone(CLONE_NEWUTS | SIGCHLD);
	if (pid == 0) {
		struct utsname u;
		if (sethostname("golos-uts-test", 14) != 0)
			_exit(1);
		uname(&u);
		_exit(strcmp(u.nodename, "golos-uts-test") == 0 ? 0 : 2);
	}
	expect("CLONE_NEWUTS: the child set its own hostname", pid > 0 && reap(pid) == 0);
	pid = rawclone(CLONE_NEWUTS | SIGCHLD);
	if (pid == 0) {
		char *args[] = {"proc_cloneflags", "uts-threaded", NULL};
		execv("/proc/self/exe", args);
		_exit(3);
	}
	expect("CLONE_NEWUTS: after execve, with a thread and without, the child sets its own hostname", pid > 0 && reap(pid) == 0);
	uname(&after);
	expect("CLONE_NEWUTS: the parent's hostname is unchanged", strcmp(before.nodename, after.nodename) == 0);

	/* CLONE_NEWPID: the child is the first process of its namespace. */
	pid = rawclone(CLONE_NEWPID | SIGCHLD);
	if (pid == 0)
		_exit(getpid() == 1 && getppid() == 0 ? 0 : 1);
	expect("CLONE_NEWPID: the child's pid is 1 and its parent's 0", pid > 0 && reap(pid) == 0);

	/* CLONE_PARENT: a middle process makes a child of its own parent's. */
	int fds[2];
	if (pipe(fds) != 0)
		return 100;
	pid_t top = getpid();
	pid_t middle = fork();
	if (middle == 0) {
		long c = rawclone(CLONE_PARENT | SIGCHLD);
		if (c == 0) {
			char ok = getppid() == top ? 'y' : 'n';
			write(fds[1], &ok, 1);
			_exit(7);
		}
		errno = 0;
		int ws = waitpid(c, NULL, 0);
		_exit(c > 0 && ws == -1 && errno == ECHILD ? 0 : 1);
	}
	char ok = 0;
	read(fds[0], &ok, 1);
	expect("CLONE_PARENT: the child's parent is its grandparent", ok == 'y');
	int codes = 0;
	for (int i = 0; i < 2; i++) {
		int st;
		pid_t w = wait(&st);
		if (w == middle && WIFEXITED(st) && WEXITSTATUS(st) == 0)
			codes |= 1; /* the middle's waitpid of it gave ECHILD */
		else if (w > 0 && w != middle && WIFEXITED(st) && WEXITSTATUS(st) == 7)
			codes |= 2;
	}
	expect("CLONE_PARENT: the middle cannot wait for it, the grandparent reaps both", codes == 3);

	/* clone3 with CLONE_CLEAR_SIGHAND. */
	struct sigaction sa = {.sa_handler = on_usr1};
	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGUSR2, SIG_IGN);
	struct cargs ca = {.flags = CLONE_CLEAR_SIGHAND, .exit_signal = SIGCHLD};
	pid = syscall(SYS_clone3, &ca, sizeof ca);
	if (pid == 0) {
		struct sigaction a1, a2;
		sigaction(SIGUSR1, NULL, &a1);
		sigaction(SIGUSR2, NULL, &a2);
		_exit(a1.sa_handler == SIG_DFL && a2.sa_handler == SIG_IGN ? 0 : 1);
	}
	expect("CLONE_CLEAR_SIGHAND: handled SIGUSR1 is SIG_DFL, ignored SIGUSR2 still ignored", pid > 0 && reap(pid) == 0);
	struct sigaction a1;
	sigaction(SIGUSR1, NULL, &a1);
	expect("CLONE_CLEAR_SIGHAND: the parent's handler stays", a1.sa_handler == on_usr1);

	/* What Linux refuses. */
	pid = rawclone(CLONE_SIGHAND | SIGCHLD);
	if (pid == 0)
		_exit(0);
	printf("CLONE_SIGHAND without CLONE_VM: %s\n", pid < 0 ? ename(errno) : "a child");
	pid = rawclone(CLONE_NEWNS | CLONE_FS | SIGCHLD);
	if (pid == 0)
		_exit(0);
	printf("CLONE_NEWNS with CLONE_FS: %s\n", pid < 0 ? ename(errno) : "a child");

	printf("failures: %d\n", failures);
	return failures;
}
