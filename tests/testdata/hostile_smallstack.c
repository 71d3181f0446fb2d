/*
 * hostile_smallstack.c — lowers its soft RLIMIT_STACK to 12 KiB, 8 KiB and 4 KiB, as a
 * program that wants small stacks for its threads might, and forks under each. Natively
 * the fork's child keeps its parent's stack: each child says its limit and exits.
 * golos's child started a runtime that needs more stack than that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long limit_kib(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_STACK, &rl);
	return (unsigned long)rl.rlim_cur / 1024;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int kib = 12; kib >= 4; kib -= 4) {
		struct rlimit rl;
		getrlimit(RLIMIT_STACK, &rl);
		rl.rlim_cur = kib * 1024;
		if (setrlimit(RLIMIT_STACK, &rl) != 0) {
			printf("setrlimit: %s\n", strerror(errno));
			return 1;
		}
		pid_t p = fork();
		if (p < 0) {
			printf("fork under %d KiB: %s\n", kib, strerror(errno));
			continue;
		}
		if (p == 0) {
			printf("child: RLIMIT_STACK %lu KiB\n", limit_kib());
			_exit(3);
		}
		int st;
		waitpid(p, &st, 0);
		printf("fork under %d KiB: child exited %d\n", kib, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
	}
	return 0;
}
