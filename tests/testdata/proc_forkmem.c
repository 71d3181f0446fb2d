/*
 * proc_forkmem.c — memory after fork(2): private memory is copied (64 MiB of malloc'd
 * memory changed by the child after the fork is unchanged in the parent, and the parent's
 * later changes are unseen by the child), a MAP_SHARED|MAP_ANONYMOUS mapping is shared
 * both ways (also under concurrent atomic increments), a MAP_PRIVATE file mapping changed
 * by the child is unchanged in the parent and in the file, a MAP_SHARED file mapping
 * changed by the child is changed in both, a __thread variable and a static global keep
 * their values (and addresses) in the child, protections are kept (a read-only page is
 * still read-only in the child).
 *
 * The parent and the child take turns through two pipes, so the output's order is fixed.
 * stdout is line-buffered so that nothing buffered is copied into the child. Exit status:
 * the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

#define BIG (64u << 20)
#define WORDS (BIG / sizeof(uint64_t))

static int failures;
static __thread int tls_value = 7;
static int global_value = 5;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static pid_t xfork(void)
{
	pid_t pid = fork();
	if (pid < 0) {
		printf("fork failed: -1 %s\n", ename(errno));
		exit(100);
	}
	return pid;
}

static uint64_t pattern(size_t i) { return (uint64_t)i * 0x9E3779B97F4A7C15ull ^ 0x5a5a5a5a5a5a5a5aull; }

/* all reports whether every word of a is pattern(i) + delta (or its complement). */
static int all(const uint64_t *a, uint64_t delta, int complement)
{
	for (size_t i = 0; i < WORDS; i++) {
		uint64_t want = pattern(i) + delta;
		if (complement)
			want = ~want;
		if (a[i] != want)
			return 0;
	}
	return 1;
}

static void put(int fd)
{
	char c = 'x';
	if (write(fd, &c, 1) != 1) {
		perror("write");
		exit(100);
	}
}

static void get(int fd)
{
	char c;
	if (read(fd, &c, 1) != 1) {
		printf("the other process did not answer\n");
		exit(100);
	}
}

static int reap(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static sigjmp_buf jb;
static void onsegv(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);

	uint64_t *big = malloc(BIG);
	if (!big) {
		printf("malloc(64 MiB) failed\n");
		return 100;
	}
	for (size_t i = 0; i < WORDS; i++)
		big[i] = pattern(i);

	volatile uint64_t *shared = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED) {
		perror("mmap shared");
		return 100;
	}
	shared[0] = 1111;

	char path[] = "/tmp/proc_forkmem.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0) {
		perror("mkstemp");
		return 100;
	}
	unlink(path);
	char page[4096];
	memset(page, 'A', sizeof page);
	if (write(fd, page, sizeof page) != sizeof page || write(fd, page, sizeof page) != sizeof page) {
		perror("write");
		return 100;
	}
	char *fpriv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char *fshared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
	char *ro = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fpriv == MAP_FAILED || fshared == MAP_FAILED || ro == MAP_FAILED) {
		perror("mmap");
		return 100;
	}
	fpriv[0] = 'P'; /* the parent's own private copy of the page, before the fork */
	ro[0] = 'R';
	mprotect(ro, 4096, PROT_READ);

	tls_value = 1234;
	global_value = 99;
	int *tls_addr = &tls_value;
	int *global_addr = &global_value;
	int local = 77;

	int p2c[2], c2p[2];
	if (pipe(p2c) != 0 || pipe(c2p) != 0) {
		perror("pipe");
		return 100;
	}

	pid_t pid = xfork();
	if (pid == 0) {
		close(p2c[1]);
		close(c2p[0]);
		check("child: 64 MiB inherited with the parent's pattern", all(big, 0, 0));
		for (size_t i = 0; i < WORDS; i++)
			big[i] = ~pattern(i);
		check("child: its copy changed and read back", all(big, 0, 1));
		check("child: __thread variable kept its value (1234)", tls_value == 1234);
		check("child: __thread variable at the same address", &tls_value == tls_addr);
		check("child: static global kept its value (99)", global_value == 99);
		check("child: static global at the same address", &global_value == global_addr);
		check("child: local variable kept its value (77)", local == 77);
		check("child: MAP_SHARED anonymous page has the parent's value", shared[0] == 1111);
		shared[1] = 2222;
		check("child: MAP_PRIVATE file page has the parent's private change", fpriv[0] == 'P' && fpriv[1] == 'A');
		fpriv[1] = 'C';
		fshared[0] = 'S';
		int faulted = 0;
		struct sigaction sa = {.sa_handler = onsegv};
		sigaction(SIGSEGV, &sa, NULL);
		if (sigsetjmp(jb, 1) == 0)
			*(volatile char *)ro = 'W';
		else
			faulted = 1;
		check("child: a read-only page is still read-only (write faults)", faulted && ro[0] == 'R');
		put(c2p[1]);
		get(p2c[0]); /* the parent has checked and changed its own copy */
		check("child: the parent's later changes are not seen", all(big, 0, 1));
		check("child: the parent's later write to the MAP_SHARED page is seen", shared[2] == 3333);
		check("child: the parent's later write to its MAP_PRIVATE file page is not seen", fpriv[2] == 'A');
		/* Concurrent increments of a shared counter. */
		put(c2p[1]);
		for (int i = 0; i < 100000; i++)
			__atomic_fetch_add(&shared[3], 1, __ATOMIC_SEQ_CST);
		exit(failures);
	}

	close(p2c[0]);
	close(c2p[1]);
	get(c2p[0]); /* the child has changed its copy */
	check("parent: its 64 MiB unchanged after the child's writes", all(big, 0, 0));
	check("parent: the child's write to the MAP_SHARED page is seen", shared[1] == 2222);
	check("parent: the child's write to its MAP_PRIVATE file page is not seen", fpriv[0] == 'P' && fpriv[1] == 'A');
	char buf[2] = {0};
	check("parent: the file itself unchanged by the child's MAP_PRIVATE write",
	      pread(fd, buf, 2, 0) == 2 && buf[0] == 'A' && buf[1] == 'A');
	check("parent: the child's write to the MAP_SHARED file page is seen", fshared[0] == 'S');
	check("parent: and is in the file", pread(fd, buf, 1, 4096) == 1 && buf[0] == 'S');
	for (size_t i = 0; i < WORDS; i++)
		big[i] = pattern(i) + 1;
	check("parent: its own copy changed and read back", all(big, 1, 0));
	shared[2] = 3333;
	fpriv[2] = 'Q';
	put(p2c[1]);
	get(c2p[0]); /* the child starts incrementing */
	for (int i = 0; i < 100000; i++)
		__atomic_fetch_add(&shared[3], 1, __ATOMIC_SEQ_CST);
	int status = reap(pid);
	printf("child exit status: %d\n", status);
	if (status != 0)
		failures++;
	printf("shared counter after 100000 atomic increments in each process: %llu\n",
	       (unsigned long long)shared[3]);
	if (shared[3] != 200000)
		failures++;
	check("parent: __thread variable and global unchanged", tls_value == 1234 && global_value == 99);
	check("parent: its copy still intact after the child exited", all(big, 1, 0));
	free(big);
	void *more = malloc(BIG);
	check("parent: malloc(64 MiB) again after the child exited", more != NULL && memset(more, 1, BIG) == more);
	printf("failures: %d\n", failures);
	return failures;
}
