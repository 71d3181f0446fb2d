/*
 * proc_many.c — 1000 children alive (or zombies) at once: each calls _exit(i & 0xff);
 * the parent reaps them all with wait() and checks each one's status by its pid. Then
 * nothing is left: wait() and waitpid(-1, WNOHANG) fail with ECHILD, and /proc/self/fd
 * has as many entries as at the start (nothing leaked per child). Then 1000 more, each
 * reaped before the next is forked.
 *
 * Only counts are printed, never pids. Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

#define N 1000

static int failures;

static int fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	static pid_t pids[N];
	int start = fds();

	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			printf("fork %d failed: -1 %s\n", i, ename(errno));
			return 100;
		}
		if (pids[i] == 0)
			_exit(i & 0xff);
	}
	printf("forked %d children\n", N);

	int reaped = 0, right = 0, unknown = 0;
	for (;;) {
		int st;
		pid_t pid = wait(&st);
		if (pid < 0) {
			printf("then wait(): -1 %s\n", ename(errno));
			break;
		}
		reaped++;
		int i = 0;
		while (i < N && pids[i] != pid)
			i++;
		if (i == N) {
			unknown++;
			continue;
		}
		pids[i] = 0;
		right += WIFEXITED(st) && WEXITSTATUS(st) == (i & 0xff);
	}
	printf("reaped %d, with the right status %d, not ours %d\n", reaped, right, unknown);
	if (reaped != N || right != N || unknown != 0)
		failures++;
	int st;
	errno = 0;
	pid_t r = waitpid(-1, &st, WNOHANG);
	printf("waitpid(-1, WNOHANG): %d %s\n", r, ename(errno));
	if (r != -1 || errno != ECHILD)
		failures++;
	int end = fds();
	printf("entries of /proc/self/fd at the end == at the start: %s\n", end == start && end > 0 ? "yes" : "no");
	if (end != start)
		failures++;

	int ok = 0;
	for (int i = 0; i < N; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			printf("fork %d (one at a time) failed: -1 %s\n", i, ename(errno));
			return 100;
		}
		if (pid == 0)
			_exit((i * 7) & 0xff);
		ok += waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == ((i * 7) & 0xff);
	}
	printf("one at a time: %d forked and reaped with the right status\n", ok);
	if (ok != N)
		failures++;
	errno = 0;
	r = wait(&st);
	printf("then wait(): %d %s\n", r, ename(errno));
	end = fds();
	printf("entries of /proc/self/fd at the end == at the start: %s\n", end == start ? "yes" : "no");
	if (end != start)
		failures++;
	printf("failures: %d\n", failures);
	return failures;
}
