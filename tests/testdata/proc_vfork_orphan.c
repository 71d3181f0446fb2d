/* A vfork child outlives its parent: the child (CLONE_VM|CLONE_VFORK, as posix_spawn's)
 * says "ready", sleeps, and execs `argv[1] child lived`; the test kills the parent with
 * SIGKILL while the child sleeps. Natively the child is a process of its own, which goes
 * on to its execve once its parent is gone (reparented to init or a subreaper). argv[2]
 * is how many MiB the parent writes first (4 when not given). */
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *prog;
static char stack[64 << 10];

static int child(void *arg)
{
	(void)arg;
	write(1, "ready\n", 6);
	struct timespec ts = {1, 0};
	nanosleep(&ts, NULL);
	char *argv[] = {prog, "child", "lived", NULL};
	execv(prog, argv);
	_exit(127);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: proc_vfork_orphan /bin/echo\n");
		return 2;
	}
	prog = argv[1];
	/* Memory enough that golos serves the child its pages rather than copy them
	 * (vforkLazyMin), written as a program's heap is. */
	size_t size = (argc > 2 ? atoi(argv[2]) : 4) << 20;
	char *m = malloc(size);
	if (!m)
		return 1;
	memset(m, 0x5a, size);
	pid_t pid = clone(child, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, NULL);
	if (pid < 0) {
		perror("clone");
		return 1;
	}
	int st;
	waitpid(pid, &st, 0);
	printf("parent: the child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
