/*
 * proc_nonblock_std.c — a process whose standard descriptors are non-blocking forks and
 * runs commands, as lighttpd's workers and servers writing to a socket do: O_NONBLOCK is
 * a flag of the open file description (fcntl(2)), which the child shares, so the child
 * starts with non-blocking descriptors 0, 1 and 2, and they stay non-blocking.
 * Exit status: the number of failed checks (100 when the program cannot set up).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int in[2], out[2];
	if (pipe(in) != 0 || pipe(out) != 0) {
		printf("pipe: %s\n", ename(errno));
		return 100;
	}
	/* 0 and 2 the pipes' ends, non-blocking; 1 stays the test's stdout, whose flags
	 * are not the program's to change. */
	if (dup2(in[0], 0) != 0 || dup2(out[1], 2) != 2 ||
	    fcntl(0, F_SETFL, O_NONBLOCK) != 0 || fcntl(2, F_SETFL, O_NONBLOCK | O_WRONLY) != 0) {
		printf("set up: %s\n", ename(errno));
		return 100;
	}
	close(in[0]);
	close(out[1]);
	int failures = 0;

	pid_t pid = fork();
	if (pid == 0) {
		int fl0 = fcntl(0, F_GETFL), fl2 = fcntl(2, F_GETFL);
		printf("child: stdin non-blocking: %s, stderr non-blocking: %s\n",
		       fl0 & O_NONBLOCK ? "yes" : "no", fl2 & O_NONBLOCK ? "yes" : "no");
		char b[8];
		ssize_t n = read(0, b, sizeof b);
		printf("child: read from the empty pipe: %zd %s\n", n, n < 0 ? ename(errno) : "");
		dprintf(2, "to stderr\n");
		_exit(0);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) != pid) {
		printf("fork: %s\n", ename(errno));
		return 100;
	}
	printf("child status: %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	failures += !WIFEXITED(st) || WEXITSTATUS(st) != 0;

	/* A command run from here (fork and execve) writes to the non-blocking stderr. */
	int r = system("echo from a command >&2; echo command ran");
	printf("system: %d\n", r);
	failures += r != 0;

	char buf[256];
	ssize_t n = read(out[0], buf, sizeof buf - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("stderr's pipe has: %s", buf);
	failures += strcmp(buf, "to stderr\nfrom a command\n") != 0;
	printf("failures: %d\n", failures);
	return failures;
}
