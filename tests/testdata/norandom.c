/*
 * norandom.c — personality(ADDR_NO_RANDOMIZE), as setarch -R and gdb set it: the call
 * succeeds, the persona is kept across execve, and the program's layout (code, heap,
 * an anonymous mapping, the stack) is then the same at every execve (personality(2);
 * fs/binfmt_elf.c randomizes only without it). The program execs itself twice and
 * compares what the two children saw.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/wait.h>
#include <unistd.h>

static int run_child(const char *self, char *out, size_t n)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl(self, self, "child", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	size_t got = 0;
	ssize_t r;
	while (got < n - 1 && (r = read(p[0], out + got, n - 1 - got)) > 0)
		got += r;
	out[got] = 0;
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		int local;
		void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		printf("persona %#x code %p heap %p mmap %p stack %p\n", personality(0xffffffff),
		       (void *)main, malloc(16), m, (void *)&local);
		return 0;
	}
	int before = personality(0xffffffff);
	int r = personality(before | ADDR_NO_RANDOMIZE);
	printf("set: %s, was %#x, now %#x\n", r == -1 ? "failed" : "ok", before, personality(0xffffffff));
	char a[512], b[512];
	int ra = run_child("/proc/self/exe", a, sizeof a), rb = run_child("/proc/self/exe", b, sizeof b);
	printf("children exited %d %d, persona in them %s\n", ra, rb,
	       strstr(a, "persona 0x40000 ") ? "0x40000" : "other");
	printf("layout the same at both execs: %s\n", strcmp(a, b) == 0 ? "yes" : "no");
	if (strcmp(a, b) != 0)
		printf("  %s  %s", a, b);
	return 0;
}
