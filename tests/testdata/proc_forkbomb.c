/*
 * proc_forkbomb.c — a fork bomb that stops at the first failure: it forks children that
 * pause, until fork fails, prints the error and how many it made ("fork: EAGAIN after N
 * children"), then kills them all and reaps them. With argv[1] it stops at that many
 * children instead (a bound for a run without a limit).
 * Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

#define MAX 100000

static pid_t kids[MAX];

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int most = argc > 1 ? atoi(argv[1]) : MAX;
	if (most <= 0 || most > MAX)
		most = MAX;
	int n = 0, err = 0;
	while (n < most) {
		pid_t pid = fork();
		if (pid < 0) {
			err = errno;
			break;
		}
		if (pid == 0) {
			for (;;)
				pause();
		}
		kids[n++] = pid;
	}
	printf("fork: %s after %d children\n", err ? ename(err) : "no error", n);
	int killed = 0;
	for (int i = 0; i < n; i++)
		killed += kill(kids[i], SIGKILL) == 0;
	int reaped = 0, st;
	while (wait(&st) > 0)
		reaped += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	printf("children killed and reaped: %s\n", killed == n && reaped == n ? "all" : "not all");
	return (err != EAGAIN) + (killed != n || reaped != n);
}
