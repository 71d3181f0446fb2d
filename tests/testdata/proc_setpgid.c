/* setpgid(2) of a child by its parent, as a shell's job control makes it right after the
 * fork: the child joins the group at once (a kill of the group finds it), may be moved
 * back, and the errors: EPERM for a group that does not exist or a child that made its
 * own session, ESRCH for a process that is not a child, EACCES once the child has called
 * execve. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

static const char *res(int r)
{
	return r == 0 ? "ok" : ename(errno);
}

/* waiter forks a child that waits for a byte on a pipe (after setsid when asked) and
 * returns it, with the pipe's write end in *go. */
static pid_t waiter(int *go, int own_session)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t c = fork();
	if (c == 0) {
		char b;
		close(p[1]);
		if (own_session)
			setsid();
		read(p[0], &b, 1);
		_exit(0);
	}
	close(p[0]);
	*go = p[1];
	return c;
}

int main(void)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int go, st;
	pid_t c = waiter(&go, 0);
	printf("setpgid(child, child): %s\n", res(setpgid(c, c)));
	printf("the child leads its group: %d\n", getpgid(c) == c);
	printf("kill(-child, 0): %s\n", res(kill(-c, 0)));
	printf("setpgid(child, parent's group): %s\n", res(setpgid(c, getpgrp())));
	printf("back in the parent's group: %d\n", getpgid(c) == getpgrp());
	printf("setpgid(child, 0): %s\n", res(setpgid(c, 0)));
	printf("the child leads its group again: %d\n", getpgid(c) == c);
	printf("setpgid(child, a group that is not there): %s\n", res(setpgid(c, 999999)));
	printf("setpgid(parent's parent, 0): %s\n", res(setpgid(getppid(), 0)));
	write(go, "x", 1);
	waitpid(c, &st, 0);

	c = waiter(&go, 1);
	usleep(200000); /* its setsid */
	printf("setpgid(child in its own session, child): %s\n", res(setpgid(c, c)));
	write(go, "x", 1);
	waitpid(c, &st, 0);

	/* A child that has called execve: its close-on-exec pipe's end closes then. */
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return 1;
	c = fork();
	if (c == 0) {
		execl("/bin/sleep", "sleep", "1", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char b;
	while (read(p[0], &b, 1) > 0)
		;
	printf("setpgid(child after its execve, child): %s\n", res(setpgid(c, c)));
	kill(c, SIGKILL);
	waitpid(c, &st, 0);
	return 0;
}
