/*
 * exec_busy.c — how execve(2) of each file named in argv ends, from a forked child: first
 * as the file is, then while this process holds it open for writing, where Linux's
 * execve fails with ETXTBSY (fs/exec.c, do_open_execat: deny_write_access). For a file
 * whose segments Linux cannot finish loading (its bss in a page past the end of the
 * file), execve has passed its point of no return and the child dies of SIGSEGV.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

static void run(const char *path, const char *how)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = {(char *)path, NULL};
		char *envp[] = {NULL};
		execve(path, argv, envp);
		dprintf(1, "%s%s: execve %s\n", path, how, ename(errno));
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		printf("%s%s: waitpid %s\n", path, how, ename(errno));
	} else if (WIFSIGNALED(st)) {
		printf("%s%s: killed by signal %d\n", path, how, WTERMSIG(st));
	} else if (WEXITSTATUS(st) != 0) {
		printf("%s%s: exit %d\n", path, how, WEXITSTATUS(st));
	}
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		run(argv[i], "");
		int w = open(argv[i], O_WRONLY);
		if (w < 0) {
			printf("%s: open for writing: %s\n", argv[i], ename(errno));
			continue;
		}
		run(argv[i], " (open for writing)");
		close(w);
		run(argv[i], " (closed again)");
	}
	return 0;
}
