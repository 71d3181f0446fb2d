/*
 * proc_orphan.c — an orphaned grandchild: the top process forks a child, which forks a
 * grandchild and exits at once. The grandchild waits (at most 10 s) until its parent is
 * gone, that is until getppid() is no longer the child's pid, and reports through a pipe
 * it inherited from the top process whether it was reparented and whether its new parent
 * is the top process (it is not: the top process is no subreaper). The top process reaps
 * the child, then reads the pipe to its end (the grandchild's exit closes it) and prints
 * what came, then makes sure the grandchild is not its child (waitpid: ECHILD).
 *
 * Only facts are printed, never a pid. Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ename.h"

static int failures;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* say writes s to fd whole, or ends the process. */
static void say(int fd, const char *s)
{
	size_t n = strlen(s);
	if (write(fd, s, n) != (ssize_t)n)
		_exit(101);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	pid_t top = getpid();
	int fds[2];
	if (pipe(fds) != 0) {
		perror("pipe");
		return 100;
	}
	pid_t child = fork();
	if (child < 0) {
		printf("fork: -1 %s\n", ename(errno));
		return 100;
	}
	if (child == 0) {
		pid_t me = getpid();
		close(fds[0]);
		pid_t gc = fork();
		if (gc < 0)
			_exit(100);
		if (gc > 0)
			_exit(0); /* the grandchild is an orphan from now on */
		char line[256];
		int waited = 0;
		while (getppid() == me && waited < 10000) {
			sleep_ms(10);
			waited += 10;
		}
		pid_t pp = getppid();
		snprintf(line, sizeof line, "grandchild: reparented (getppid() changed): %s\n", pp != me ? "yes" : "no");
		say(fds[1], line);
		snprintf(line, sizeof line, "grandchild: its new parent is the top process: %s\n",
			 pp == top ? "yes" : "no");
		say(fds[1], line);
		snprintf(line, sizeof line, "grandchild: still in the top process's process group: %s\n",
			 getpgrp() == getpgid(top) ? "yes" : "no");
		say(fds[1], line);
		_exit(0);
	}
	close(fds[1]);
	int st = 0;
	pid_t r = waitpid(child, &st, 0);
	check("top: the child exited 0 right after its fork", r == child && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* The grandchild's lines, up to the end of the pipe (its exit). */
	char buf[1024];
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fds[0], buf + len, sizeof buf - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = 0;
	fputs(buf, stdout);
	check("top: the grandchild's report came through the inherited pipe",
	      strstr(buf, "reparented (getppid() changed): yes") != NULL);

	errno = 0;
	r = waitpid(-1, &st, WNOHANG);
	printf("top: waitpid(-1, WNOHANG) after the child was reaped: %d %s\n", r, ename(errno));
	printf("failures: %d\n", failures);
	return failures;
}
