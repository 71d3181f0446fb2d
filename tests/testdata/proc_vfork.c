/*
 * proc_vfork.c — a vfork(2) child runs in its parent's memory until it execs or ends:
 * what it writes the parent sees afterwards (not allowed by POSIX, done by shells and by
 * libc's posix_spawn to report errors). The child writes a zero-initialised global
 * (.bss), an initialised one (.data), a small and a large (mmap'd) malloc'd block, a
 * local of the frame both return to, and a global buffer through read(2) (the kernel's
 * write), then tries to execve a missing file and leaves errno in a global; the parent
 * prints what it sees. Then, with 4 MiB of memory written (golos then serves a vfork
 * child its pages as it touches them rather than copying them all), a child that reads
 * all of it and writes two bytes and a global. Then posix_spawn's errors reported by its
 * child: a missing file on PATH (posix_spawnp), and a file action that fails (opening a
 * missing file).
 *
 * Exit status: 0; the output says what was seen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

extern char **environ;

static volatile int bss_value;
static volatile int data_value = 1;
static volatile int exec_errno;
static char read_buf[16];
static volatile int big_right;

#define BIG (4 << 20)

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	volatile int *small = malloc(sizeof *small);
	volatile char *large = malloc(1 << 20);
	*small = 0;
	large[0] = large[(1 << 20) - 1] = 0;
	int fds[2];
	if (!small || !large || pipe(fds) != 0)
		return 100;
	write(fds[1], "via read", 8);
	volatile int local = 0;

	pid_t pid = vfork();
	if (pid == 0) {
		bss_value = 11;
		data_value = 12;
		*small = 13;
		large[0] = 14;
		large[(1 << 20) - 1] = 15;
		local = 16;
		if (read(fds[0], read_buf, 8) != 8)
			_exit(1);
		char *argv[] = {"missing", NULL};
		execve("/nonexistent-golos-test/missing", argv, environ);
		exec_errno = errno;
		_exit(0);
	}
	if (pid < 0) {
		printf("vfork: %s\n", ename(errno));
		return 100;
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	printf(".bss global: %d\n.data global: %d\nsmall malloc: %d\nlarge malloc: %d %d\nlocal: %d\n", bss_value,
	       data_value, *small, large[0], large[(1 << 20) - 1], local);
	printf("read(2) into a global: \"%s\"\n", read_buf);
	printf("errno of its execve: %s\n", ename(exec_errno));

	volatile unsigned char *big = malloc(BIG);
	if (!big)
		return 100;
	for (int i = 0; i < BIG; i++)
		big[i] = (unsigned char)(i * 7 + 3);
	pid = vfork();
	if (pid == 0) {
		int right = 1;
		for (int i = 1; i < BIG - 1; i++)
			right &= big[i] == (unsigned char)(i * 7 + 3);
		big_right = right;
		big[0] = 21;
		big[BIG - 1] = 22;
		_exit(0);
	}
	if (pid < 0) {
		printf("vfork: %s\n", ename(errno));
		return 100;
	}
	waitpid(pid, &st, 0);
	printf("4 MiB block: child exited %d, read it right: %s, its writes: %d %d\n",
	       WIFEXITED(st) ? WEXITSTATUS(st) : -1, big_right ? "yes" : "no", big[0], big[BIG - 1]);

	char *argv[] = {"missing-golos-test", NULL};
	int err = posix_spawnp(&pid, "missing-golos-test", NULL, NULL, argv, environ);
	printf("posix_spawnp of a missing program: %s\n", err ? ename(err) : "succeeded");
	if (err == 0)
		waitpid(pid, NULL, 0);

	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/nonexistent-golos-test/in", O_RDONLY, 0);
	char *true_argv[] = {"true", NULL};
	err = posix_spawn(&pid, "/bin/true", &fa, NULL, true_argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	/* glibc reports the failed action; musl's child exits 127 and reports it too. */
	printf("posix_spawn with a failing open action: %s\n", err ? ename(err) : "succeeded");
	if (err == 0) {
		waitpid(pid, &st, 0);
		printf("  child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	}
	return 0;
}
