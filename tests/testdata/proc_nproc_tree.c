/*
 * proc_nproc_tree.c — a tree of processes that fork at once into RLIMIT_NPROC, which
 * counts every task of the real user (clone(2): EAGAIN). Run as a user other than root,
 * it sets its soft limit to argv[1] and forks argv[2] workers, which all start at once
 * once they are all there; each forks children that wait, until fork fails, and reports how many it made and the error. Once every worker
 * has reported, the children are let go, and the workers reap them and end.
 * It prints one line a worker, in the workers' order ("worker 0: fork: EAGAIN after N
 * children"), then whether the workers reaped all their children.
 * Exit status: the number of failed checks (100 when the program cannot set up).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

static int gate[2];   /* children and workers wait until its write end closes */
static int start[2];  /* workers start forking once its write end closes: all at once */

static void wait_gate(void)
{
	char c;
	while (read(gate[0], &c, 1) < 0 && errno == EINTR)
		;
}

struct report { int worker, n, err; };

static int worker(int w, int out)
{
	close(gate[1]);
	close(start[1]);
	char c;
	while (read(start[0], &c, 1) < 0 && errno == EINTR)
		;
	close(start[0]);
	int n = 0, err = 0;
	for (;;) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			close(out);
			wait_gate();
			_exit(7);
		}
		n++;
	}
	struct report r = {w, n, err};
	if (write(out, &r, sizeof r) != sizeof r)
		_exit(100);
	close(out);
	wait_gate();
	int reaped = 0, st;
	while (wait(&st) > 0)
		reaped += WIFEXITED(st) && WEXITSTATUS(st) == 7;
	_exit(reaped == n ? 0 : 1);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 3 || geteuid() == 0) {
		printf("usage: proc_nproc_tree LIMIT WORKERS, as a user other than root\n");
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
	int workers = atoi(argv[2]);
	if (workers < 1 || workers > 64)
		return 100;
	int results[2];
	if (pipe(gate) != 0 || pipe(start) != 0 || pipe(results) != 0)
		return 100;
	for (int w = 0; w < workers; w++) {
		pid_t pid = fork();
		if (pid < 0) {
			/* The workers started so far are let go and reaped: none is left behind. */
			printf("fork worker %d: %s\n", w, ename(errno));
			close(gate[1]);
			close(start[1]);
			while (wait(NULL) > 0)
				;
			return 100;
		}
		if (pid == 0) {
			close(results[0]);
			worker(w, results[1]);
		}
	}
	close(results[1]);
	close(start[1]);
	struct report rep[64] = {{0}};
	int got = 0;
	struct report r;
	while (got < workers) {
		ssize_t m = read(results[0], &r, sizeof r);
		if (m < 0 && errno == EINTR)
			continue;
		if (m != sizeof r)
			break;
		if (r.worker >= 0 && r.worker < workers) {
			rep[r.worker] = r;
			got++;
		}
	}
	int failures = got != workers;
	for (int w = 0; w < workers; w++) {
		printf("worker %d: fork: %s after %d children\n", w, ename(rep[w].err), rep[w].n);
		failures += rep[w].err != EAGAIN;
	}
	close(gate[1]);
	int reaped = 0, st;
	while (wait(&st) > 0)
		reaped += WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("workers reaped all their children: %s\n", reaped == workers ? "yes" : "no");
	failures += reaped != workers;
	printf("failures: %d\n", failures);
	return failures;
}
