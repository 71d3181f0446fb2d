// A child of a fork with 64 MiB of written memory waits for a line on stdin, then reads
// all of that memory. The test kills what golos keeps that memory in for the child (the
// lazy fork's holder) in between: the child must die (SIGKILL, as if the OOM killer
// chose it), never wait for ever; the parent reports how its child ended.
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SIZE = 64 << 20 };

int main(void) {
	unsigned char *m = malloc(SIZE);
	if (!m)
		return 1;
	memset(m, 0x5a, SIZE);
	pid_t pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		printf("ready\n");
		fflush(stdout);
		char line[16];
		if (!fgets(line, sizeof line, stdin))
			_exit(3);
		long sum = 0;
		for (long i = 0; i < SIZE; i += 4096)
			sum += m[i];
		_exit(sum == 0x5aL * (SIZE / 4096) ? 0 : 2);
	}
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		perror("waitpid");
		return 1;
	}
	if (WIFSIGNALED(st))
		printf("the child was killed by signal %d\n", WTERMSIG(st));
	else
		printf("the child exited %d\n", WEXITSTATUS(st));
	return 0;
}
