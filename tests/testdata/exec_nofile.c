/*
 * exec_nofile.c — execve(2) under a small RLIMIT_NOFILE.
 *
 * "exec_nofile LIMIT PROG ARGS…" lowers RLIMIT_NOFILE to LIMIT (soft and hard) and
 * executes PROG with ARGS; "exec_nofile child" (as PROG, this program again) prints its
 * limit and what its first open(2) gives. Natively the kernel's own reference to the
 * executable and its interpreter counts against no limit (fs/exec.c), so the execve
 * works with any limit, even 3 with 0, 1 and 2 open; the new program's own opens then get
 * EMFILE as before the execve. A dynamic PROG's ld.so opens its libraries as the program
 * (one more descriptor at a time).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct rlimit rl;
	if (argc == 2 && strcmp(argv[1], "child") == 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		int fd = open("/dev/null", O_RDONLY);
		printf("child: limit %ld/%ld, open: %d %s\n", (long)rl.rlim_cur, (long)rl.rlim_max, fd,
		       fd < 0 ? strerror(errno) : "ok");
		return 0;
	}
	if (argc < 3)
		return 2;
	rl.rlim_cur = rl.rlim_max = strtoul(argv[1], NULL, 10);
	if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
		printf("setrlimit: %s\n", strerror(errno));
		return 1;
	}
	fflush(stdout);
	execv(argv[2], argv + 2);
	printf("limit %s: execve %s: %s\n", argv[1], argv[2], strerror(errno));
	return 1;
}
