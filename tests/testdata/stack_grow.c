/*
 * stack_grow.c — the main stack as Linux makes it (fs/exec.c, setup_arg_pages): a region
 * that starts at the strings' pages and 128 KiB more and grows down on faults below it
 * (VM_GROWSDOWN), up to RLIMIT_STACK (mm/mmap.c, acct_stack_growth), so that memory
 * below it is free until the stack gets there: mmap(MAP_FIXED_NOREPLACE) there succeeds.
 * An mmap hint is taken there too, but for the stack_guard_gap below the stack.
 * golos mapped the whole 8 MiB at exec, and with a page without access below it, so such
 * an mmap failed with EEXIST, a stack did not stop at an RLIMIT_STACK lowered at run time,
 * and smaps lacked the "gd" flag. Also: a signal handler whose frame lies below the
 * stack's start, the growth in a fork's child, and /proc/self/maps's [stack] line
 * following the growth.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

static unsigned long lo, hi;
static int gd;

/* find reads the [stack] line of /proc/self/smaps and whether it grows down ("gd"). */
static void find(void)
{
	char line[512];
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");
	gd = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, ' ') == line + strcspn(line, " ")) {
			in = strstr(line, " [stack]\n") != NULL;
			if (in)
				lo = a, hi = b;
		} else if (in && strncmp(line, "VmFlags:", 8) == 0)
			gd = strstr(line, " gd ") != NULL;
	}
	fclose(f);
}

/* touch uses n bytes of stack below its caller's, a page at a time from the top down. */
static void __attribute__((noinline)) touch(size_t n)
{
	volatile char *p = alloca(n);
	for (size_t i = n; i >= 4096; i -= 4096)
		p[i - 4096] = 1;
	p[0] = 1;
}

static volatile uintptr_t deepest;

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static void __attribute__((noinline)) recurse(void)
{
	volatile char pad[4000];
	pad[0] = 1;
	deepest = (uintptr_t)pad;
	recurse();
	pad[1] = 2;
}

static uintptr_t start_sp;
static char altstack[65536];

static void on_segv(int sig)
{
	(void)sig;
	/* How far the stack got below the stack pointer the test started at, in KiB. */
	unsigned long kib = (start_sp - deepest) >> 10;
	printf("overflow: SIGSEGV after between 900 KiB and 1 MiB: %s\n", kib >= 900 && kib < 1024 ? "yes" : "no");
	if (!(kib >= 900 && kib < 1024))
		printf("  (%lu KiB)\n", kib);
	fflush(stdout);
	_exit(0);
}

static volatile uintptr_t handler_sp;

/* raise_deep raises SIGUSR1 with n bytes more of stack in use below its caller's. */
static void __attribute__((noinline)) raise_deep(size_t n)
{
	volatile char *p = alloca(n);
	p[0] = 1;
	raise(SIGUSR1);
	p[1] = 1;
}

static void on_usr1(int sig)
{
	volatile char big[65536];
	big[0] = big[65535] = (char)sig;
	handler_sp = (uintptr_t)big;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int here;
	find();
	struct rlimit rl;
	getrlimit(RLIMIT_STACK, &rl);
	printf("[stack] at the start smaller than RLIMIT_STACK: %s, grows down: %s\n",
	       rl.rlim_cur == RLIM_INFINITY || hi - lo < rl.rlim_cur / 2 ? "yes" : "no", gd ? "yes" : "no");

	/* RLIMIT_STACK lowered at run time bounds the growth from then on (first: a child's
	 * stack is as large as its parent's). */
	pid_t pid = fork();
	if (pid == 0) {
		struct rlimit one = {1 << 20, rl.rlim_max};
		if (setrlimit(RLIMIT_STACK, &one) != 0)
			perror("setrlimit");
		stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
		sigaltstack(&ss, NULL);
		struct sigaction sa = {.sa_handler = on_segv, .sa_flags = SA_ONSTACK};
		sigaction(SIGSEGV, &sa, NULL);
		find();
		start_sp = hi; /* the stack's size counts from its top */
		recurse();
		_exit(1);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("overflow child: %s %d\n", WIFEXITED(st) ? "exited" : "killed", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));

	/* A hint in the stack_guard_gap below the stack is not taken, so that the stack can
	 * still grow (mm/mmap.c, vm_start_gap); one 2 MiB below its start is. */
	unsigned long h1 = lo - (512 << 10), h2 = lo - (2 << 20);
	void *a = mmap((void *)h1, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *b = mmap((void *)h2, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("mmap hint in the guard gap below the stack: %s; 2 MiB below it: %s\n",
	       a == (void *)h1 ? "taken" : "elsewhere", b == (void *)h2 ? "taken" : "elsewhere");
	munmap(a, 4096);
	munmap(b, 4096);

	/* 4 MiB below the stack's top, within RLIMIT_STACK but far below the stack as it is:
	 * free until the stack grows there. */
	unsigned long at = (hi - (4 << 20)) & ~4095UL;
	void *m = mmap((void *)at, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	printf("mmap MAP_FIXED_NOREPLACE 4 MiB below the stack's top: %s\n",
	       m == MAP_FAILED ? ename(errno) : m == (void *)at ? "at the address" : "elsewhere");
	if (m != MAP_FAILED)
		munmap(m, 4096);

	unsigned long lo0 = lo;
	touch(1 << 20);
	find();
	printf("after using 1 MiB more: [stack] starts lower: %s, holds this frame: %s\n", lo < lo0 ? "yes" : "no",
	       (uintptr_t)&here >= lo && (uintptr_t)&here < hi ? "yes" : "no");

	/* A handler on the main stack, its frame below the stack's start. */
	lo0 = lo;
	signal(SIGUSR1, on_usr1);
	raise_deep((uintptr_t)&here - lo - 16384);
	find();
	printf("signal handler ran on the stack below its start: %s, which grew: %s\n",
	       handler_sp != 0 && handler_sp < lo0 ? "yes" : "no", lo < lo0 ? "yes" : "no");

	pid = fork();
	if (pid == 0) {
		touch(3 << 20);
		find();
		printf("child: used 3 MiB of stack, [stack] grows down: %s\n", gd ? "yes" : "no");
		_exit(0);
	}
	waitpid(pid, &st, 0);
	printf("child: %s\n", WIFEXITED(st) ? "exited" : WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "?");
	return 0;
}
