/*
 * proc_nofile_fork.c — fork and exec after the program has lowered RLIMIT_NOFILE far
 * below where it started (to 16, as CPython's test_subprocess lowers it below its open
 * descriptors): the child runs, execs /bin/sh, and the parent sees its status.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = 16;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		printf("setrlimit: %s\n", ename(errno));
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			printf("fork %d: %s\n", i, ename(errno));
			return 1;
		}
		if (pid == 0) {
			if (i == 2)
				execl("/bin/sh", "sh", "-c", "echo sh ran; exit 9", (char *)NULL);
			_exit(i);
		}
		int st;
		waitpid(pid, &st, 0);
		printf("fork %d: child exited %d\n", i, WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st));
	}
	return 0;
}
