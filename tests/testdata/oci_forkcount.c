/*
 * oci_forkcount.c — forks children that wait, one after the other, until fork(2) fails or
 * it has made as many as its argument asks, and says how many it made and how the next
 * failed: a container's pids limit (the pids cgroup controller's pids.max) makes fork
 * fail with EAGAIN (fork(2), kernel/cgroup/pids.c). Its children are killed and reaped
 * before it exits.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int most = argc > 1 ? atoi(argv[1]) : 100;
	pid_t *kids = calloc(most > 0 ? most : 1, sizeof *kids);
	int n = 0, err = 0;
	while (n < most) {
		pid_t pid = fork();
		if (pid == 0) {
			pause();
			_exit(0);
		}
		if (pid < 0) {
			err = errno;
			break;
		}
		kids[n++] = pid;
	}
	for (int i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	if (err)
		printf("forked %d, then %s\n", n, err == EAGAIN ? "EAGAIN" : strerror(err));
	else
		printf("forked %d, all asked\n", n);
	return 0;
}
