/*
 * host_title.c — a server that renames itself as redis does (setproctitle: the title
 * written over its argument strings, the rest of them NULs) and forks a worker, for a
 * look at them from the host: its ps, pgrep, podman top read /proc/PID/cmdline.
 *
 * It prints "ready", then "child PID", and waits for a line on its stdin; then it ends
 * the child and exits 0.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
	memset(start, 0, end - start);
	strcpy(start, "server *:6379");
	pid_t pid = fork();
	if (pid == 0) {
		pause();
		_exit(0);
	}
	printf("ready\nchild %d\n", (int)pid);
	fflush(stdout);
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		return 1;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return 0;
}
