/*
 * proc_nproc.c — fork(2) refused by RLIMIT_NPROC: with the soft limit at 0, fork fails
 * with EAGAIN (and so does pthread_create: threads count too); with the soft limit back
 * at the hard one, fork works again.
 *
 * Linux does not apply RLIMIT_NPROC to root (nor to CAP_SYS_RESOURCE or CAP_SYS_ADMIN),
 * so a program started as root first becomes nobody (uid and gid 65534, no supplementary
 * groups): the outcome is then the same as root or not. For nobody, a limit of 0 is
 * always reached, whatever else runs as nobody on the machine (the program is one).
 * Exit status: the number of failed checks (100 when the program cannot set up).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

static void *nothing(void *arg) { return arg; }

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int failures = 0;
	if (geteuid() == 0) {
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
			printf("becoming nobody failed: %s\n", ename(errno));
			return 100;
		}
	}
	printf("privileged: %s\n", geteuid() == 0 ? "yes" : "no");

	struct rlimit old, rl;
	if (getrlimit(RLIMIT_NPROC, &old) != 0) {
		printf("getrlimit: %s\n", ename(errno));
		return 100;
	}
	rl = old;
	rl.rlim_cur = 0;
	if (setrlimit(RLIMIT_NPROC, &rl) != 0) {
		printf("setrlimit(RLIMIT_NPROC, 0): %s\n", ename(errno));
		return 100;
	}
	errno = 0;
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	printf("fork with RLIMIT_NPROC 0: %d %s\n", pid < 0 ? -1 : 1, ename(errno));
	if (pid > 0)
		waitpid(pid, NULL, 0);
	failures += pid >= 0 || errno != EAGAIN;

	pthread_t t;
	int err = pthread_create(&t, NULL, nothing, NULL);
	printf("pthread_create with RLIMIT_NPROC 0: %s\n", err ? ename(err) : "succeeded");
	if (err == 0)
		pthread_join(t, NULL);
	failures += err != EAGAIN;

	if (setrlimit(RLIMIT_NPROC, &old) != 0) {
		printf("setrlimit back: %s\n", ename(errno));
		return 100;
	}
	pid = fork();
	if (pid == 0)
		_exit(6);
	int st = 0;
	if (pid > 0)
		waitpid(pid, &st, 0);
	printf("fork with the limit back: %s, child status %d\n", pid > 0 ? "succeeded" : ename(errno),
	       pid > 0 && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	failures += pid <= 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 6;
	printf("failures: %d\n", failures);
	return failures;
}
