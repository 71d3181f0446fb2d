/*
 * proc_fork_nofile.c — fork(2) and posix_spawn(3) under a small RLIMIT_NOFILE.
 *
 * "proc_fork_nofile LIMIT" lowers RLIMIT_NOFILE to LIMIT (soft and hard), forks a child
 * that opens /dev/null and exits, opens /dev/null itself, then spawns "proc_fork_nofile
 * child" with posix_spawn(3) (a vfork with glibc, which needs no descriptor; musl's uses
 * a pipe, EMFILE under a limit of 3). Natively a fork opens nothing, so it works under
 * any limit, and each process's first open gets EMFILE, or descriptor 3, as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

extern char **environ;

static void first_open(const char *who)
{
	int fd = open("/dev/null", O_RDONLY);
	printf("%s: open: %d %s\n", who, fd, fd < 0 ? ename(errno) : "ok");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "child") == 0) {
		first_open("spawned");
		return 0;
	}
	if (argc != 2)
		return 2;
	struct rlimit rl = {strtoul(argv[1], NULL, 10), strtoul(argv[1], NULL, 10)};
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		printf("setrlimit: %s\n", ename(errno));
		return 1;
	}
	pid_t pid = fork();
	if (pid < 0) {
		printf("fork: %s\n", ename(errno));
		return 1;
	}
	if (pid == 0) {
		first_open("forked");
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("forked child: status %#x\n", st);
	first_open("parent");
	char *args[] = {argv[0], "child", NULL};
	int e = posix_spawn(&pid, argv[0], NULL, NULL, args, environ);
	if (e != 0) {
		printf("posix_spawn: %s\n", ename(e));
		return 0;
	}
	waitpid(pid, &st, 0);
	printf("spawned child: status %#x\n", st);
	return 0;
}
