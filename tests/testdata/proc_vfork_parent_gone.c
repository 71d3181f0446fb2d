// A vfork child of a process with 4 MiB of written memory says ready, waits for a line on
// stdin, then reads all of that memory and prints its sum. The test kills the parent (its
// golos) in between. Natively the child goes on in the memory it shared with the parent;
// under golos, where the parent's golos served that memory to the child as it touched
// it, the child must end (SIGKILL), never wait for ever for a page.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SIZE = 4 << 20 };

int main(void) {
	unsigned char *m = malloc(SIZE);
	if (!m)
		return 1;
	memset(m, 0x5a, SIZE);
	pid_t pid = vfork();
	if (pid == 0) {
		write(1, "ready\n", 6);
		char c;
		while (read(0, &c, 1) == 1 && c != '\n')
			;
		long sum = 0;
		for (long i = 0; i < SIZE; i++)
			sum += m[i];
		char out[32];
		int n = snprintf(out, sizeof out, "sum %ld\n", sum);
		write(1, out, n);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("the child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
