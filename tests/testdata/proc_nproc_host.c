/*
 * proc_nproc_host.c — a process tree that runs into RLIMIT_NPROC, which counts every task
 * (thread) of the real user (clone(2): EAGAIN). Run as a user other than root (Linux does
 * not apply the limit to root), it sets its soft limit to argv[1] and then:
 *  - forks children that wait, until fork fails; prints the error and how many children
 *    it made ("fork: EAGAIN after N children"), lets them go and reaps them all;
 *  - creates threads that wait, until pthread_create fails; prints the error and the
 *    count, lets them go and joins them all.
 * Exit status: the number of failed checks (100 when the program cannot set up).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

static int gate[2];   /* children and threads wait until its write end closes */

static void wait_gate(void)
{
	char c;
	while (read(gate[0], &c, 1) < 0 && errno == EINTR)
		;
}

static void *waiter(void *arg)
{
	wait_gate();
	return arg;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 2 || geteuid() == 0) {
		printf("usage: proc_nproc_host LIMIT, as a user other than root\n");
		return 100;
	}
	struct rlimit rl;
	if (getrlimit(RLIMIT_NPROC, &rl) != 0) {
		printf("getrlimit: %s\n", ename(errno));
		return 100;
	}
	rl.rlim_cur = strtoul(argv[1], NULL, 10);
	if (setrlimit(RLIMIT_NPROC, &rl) != 0) {
		printf("setrlimit: %s\n", ename(errno));
		return 100;
	}
	int failures = 0;

	/* Children until fork fails. */
	if (pipe(gate) != 0)
		return 100;
	int n = 0, err = 0;
	for (;;) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			close(gate[1]);
			wait_gate();
			_exit(7);
		}
		n++;
	}
	printf("fork: %s after %d children\n", ename(err), n);
	failures += err != EAGAIN;
	close(gate[1]);
	int reaped = 0, st;
	while (wait(&st) > 0)
		reaped += WIFEXITED(st) && WEXITSTATUS(st) == 7;
	printf("children reaped: %s\n", reaped == n ? "all" : "not all");
	failures += reaped != n;
	close(gate[0]);

	/* Threads until pthread_create fails. */
	if (pipe(gate) != 0)
		return 100;
	static pthread_t threads[100000];
	n = 0;
	for (;;) {
		err = n < 100000 ? pthread_create(&threads[n], NULL, waiter, NULL) : E2BIG;
		if (err)
			break;
		n++;
	}
	printf("pthread_create: %s after %d threads\n", ename(err), n);
	failures += err != EAGAIN;
	close(gate[1]);
	int joined = 0;
	for (int i = 0; i < n; i++)
		joined += pthread_join(threads[i], NULL) == 0;
	printf("threads joined: %s\n", joined == n ? "all" : "not all");
	failures += joined != n;
	close(gate[0]);

	printf("failures: %d\n", failures);
	return failures;
}
