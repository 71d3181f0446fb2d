/*
 * golosmem.c — the application may not map over, unmap, protect or advise golos's memory.
 *
 * Under golos, golos's own image is linked at 0x7e0000000000 (text at 0x7e0000001000),
 * and the Go runtime's heap, its threads' stacks and its other mappings lie wherever the
 * host put them (Go 1.26 randomises the heap's base). To the application all of it is
 * memory it does not have, and its /proc/self/maps does not show it. So the program
 * cannot find golos's mappings itself; the test tells it where they are:
 *
 *   1. The program prints its own view of /proc/self/maps ("view: " + each line), checks
 *      that view ("maps: " lines: golos's image is not in it, the program's text and its
 *      [stack] are), prints "info: pid N" and "info: ready", and waits on stdin.
 *   2. The test reads the real map of process N from the host (/proc/N/maps: under golos
 *      the application runs inside golos's process, so N is golos's pid), takes away the
 *      ranges of the program's view, and writes what is left — golos's image, heap,
 *      stacks — to stdin, one "LO-HI PERMS NAME" line each, then "end".
 *   3. The program aims mmap(MAP_FIXED), MAP_FIXED_NOREPLACE, mremap, mprotect,
 *      madvise(MADV_DONTNEED) and munmap at each of those ranges and at golos's image,
 *      then does ordinary work with many syscalls (golos must still be alive and well),
 *      then checks that MAP_FIXED and MAP_FIXED_NOREPLACE over its own memory behave as
 *      Linux documents.
 * Each result is one line "what: ret errno-name" ("-" when the call succeeded).
 *
 * Natively the view is the whole map, so the list is empty, and nothing is at
 * 0x7e0000000000, so the MAP_FIXED calls there succeed: the "golos:" lines are
 * golos-only. The rest holds natively too.
 *
 * With an argument N (milliseconds), the program goes on making getppid syscalls for that
 * long at the end, so that golos's runtime has time to collect garbage on its heap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "ename.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE 4096UL
#define GOLOS_LOW 0x7e0000000000UL  /* golos's ELF header page is here, its text after */
#define GOLOS_TEXT 0x7e0000001000UL
#define GOLOS_SPAN (64UL << 20)     /* more than golos's text, data and bss */

static void show(const char *what, long r, int e)
{
	if (r == -1)
		printf("%s: -1 %s\n", what, ename(e));
	else
		printf("%s: %ld -\n", what, r);
}

/* Calls whose success value is an address print "ok" for it. */
static void showAddr(const char *what, long r, int e)
{
	if (r == -1)
		printf("%s: -1 %s\n", what, ename(e));
	else
		printf("%s: ok -\n", what);
}

#define CALL(what, call, how)                    \
	do {                                     \
		errno = 0;                       \
		long r_ = (long)(call);          \
		int e_ = errno;                  \
		how(what, r_, e_);               \
	} while (0)

/* A mapping: a line of /proc/self/maps, or a range the test sends. */
struct mapping {
	unsigned long lo, hi;
	char perms[8], name[256];
};

#define MAXMAPS 4096
static struct mapping maps[MAXMAPS];   /* the program's own view */
static int nmaps;
static struct mapping alien[MAXMAPS];  /* the ranges the test says are not the program's */
static int nalien;

/* Static buffers: reading the map must not change it (no malloc, no stdio buffers). */
static char mapsbuf[1 << 20];
static char inbuf[1 << 20];
static char outbuf[1 << 16];

/* read_all reads fd to its end into buf (NUL-terminated) and returns the length. */
static size_t read_all(int fd, char *buf, size_t size)
{
	size_t n = 0;
	while (n < size - 1) {
		ssize_t r = read(fd, buf + n, size - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
	}
	buf[n] = 0;
	return n;
}

/* parse_line fills m from "LO-HI PERMS ..." (a maps line, or a line of the test's list:
 * "LO-HI PERMS NAME"); the name is the rest of the line after the maps columns. */
static int parse_line(const char *line, struct mapping *m, int maps_format)
{
	int off = 0;
	if (maps_format) {
		if (sscanf(line, "%lx-%lx %7s %*x %*x:%*x %*u %n", &m->lo, &m->hi, m->perms, &off) < 3)
			return 0;
	} else if (sscanf(line, "%lx-%lx %7s %n", &m->lo, &m->hi, m->perms, &off) < 3) {
		return 0;
	}
	snprintf(m->name, sizeof m->name, "%s", off ? line + off : "");
	m->name[strcspn(m->name, "\n")] = 0;
	return 1;
}

/* read_view reads the program's /proc/self/maps into maps[] and prints it. */
static void read_view(void)
{
	int fd = open("/proc/self/maps", O_RDONLY);
	if (fd < 0) {
		perror("/proc/self/maps");
		exit(2);
	}
	read_all(fd, mapsbuf, sizeof mapsbuf);
	close(fd);
	for (char *line = mapsbuf, *next; *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = 0;
		printf("view: %s\n", line);
		if (nmaps < MAXMAPS && parse_line(line, &maps[nmaps], 1))
			nmaps++;
	}
}

/* read_foreign reads the test's list from stdin: lines "LO-HI PERMS NAME", then "end". */
static void read_foreign(void)
{
	size_t n = 0;
	/* Up to "end\n" (the test keeps stdin open no longer than that, but may). */
	while (n < sizeof inbuf - 1) {
		ssize_t r = read(0, inbuf + n, sizeof inbuf - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += r;
		inbuf[n] = 0;
		if (strcmp(inbuf, "end\n") == 0 || (n >= 5 && strstr(inbuf, "\nend\n")))
			break;
	}
	inbuf[n] = 0;
	for (char *line = inbuf, *next; *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = 0;
		if (strcmp(line, "end") == 0)
			break;
		if (nalien < MAXMAPS && parse_line(line, &alien[nalien], 0))
			nalien++;
	}
}

static int contains(const struct mapping *m, const void *p)
{
	return m->lo <= (uintptr_t)p && (uintptr_t)p < m->hi;
}

/* view_holding returns the mapping of the view that holds p, or NULL. */
static const struct mapping *view_holding(const void *p)
{
	for (int i = 0; i < nmaps; i++)
		if (contains(&maps[i], p))
			return &maps[i];
	return NULL;
}

static int data_var = 1;      /* .data */
static char bss_var[3 * 4096]; /* .bss, past the file's last page */

enum {
	OP_MMAP_FIXED, OP_MMAP_NOREPLACE, OP_MREMAP, OP_MPROTECT, OP_MADVISE, OP_MEM_READ, OP_MEM_WRITE,
	OP_MUNMAP, NOPS
};
static const char *const opname[NOPS] = {
	"mmap fixed over", "mmap fixed-noreplace over", "mremap own page onto", "mprotect PROT_NONE",
	"madvise MADV_DONTNEED", "pread /proc/self/mem at", "pwrite /proc/self/mem at", "munmap",
};

static int self_mem = -1; /* /proc/self/mem, opened in main */

/* aim makes call op on the whole of mapping m. */
static long aim(int op, const struct mapping *m, char *mine)
{
	const long rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
	unsigned long len = m->hi - m->lo;
	switch (op) {
	case OP_MMAP_FIXED: return syscall(SYS_mmap, m->lo, len, rw, anon | MAP_FIXED, -1, 0);
	case OP_MMAP_NOREPLACE: return syscall(SYS_mmap, m->lo, len, rw, anon | MAP_FIXED_NOREPLACE, -1, 0);
	case OP_MREMAP: return syscall(SYS_mremap, mine, PAGE, PAGE, MREMAP_MAYMOVE | MREMAP_FIXED, m->lo);
	case OP_MPROTECT: return syscall(SYS_mprotect, m->lo, len, PROT_NONE);
	case OP_MADVISE: return syscall(SYS_madvise, m->lo, len, MADV_DONTNEED);
	case OP_MEM_READ: {
		char b[64];
		return pread(self_mem, b, sizeof b, (off_t)m->lo);
	}
	case OP_MEM_WRITE: {
		/* Natively nothing is mapped there (EIO); a write that got through would land in
		   golos's memory, page protections or not. */
		char b[8] = {0};
		return pwrite(self_mem, b, sizeof b, (off_t)m->lo);
	}
	case OP_MUNMAP: return syscall(SYS_munmap, m->lo, len);
	}
	return -2;
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	const long rw = PROT_READ | PROT_WRITE, anon = MAP_PRIVATE | MAP_ANONYMOUS;
	setvbuf(stdout, outbuf, _IOLBF, sizeof outbuf);

	/* The program's own memory, before it reads its map: mappings of several sizes where
	 * the kernel picks the place (one of them moved by mremap), which the test checks
	 * lie apart from golos's writable memory. */
	int local = 0;
	void *small = mmap(NULL, PAGE, rw, anon, -1, 0);
	void *mid = mmap(NULL, 65536, rw, anon, -1, 0);
	void *huge = mmap(NULL, 2 << 20, rw, anon, -1, 0);
	void *odd = mmap(NULL, (3 << 20) + PAGE, rw, anon, -1, 0);
	void *grown = mmap(NULL, PAGE, rw, anon, -1, 0);
	if (grown != MAP_FAILED) {
		grown = mremap(grown, PAGE, 1 << 20, MREMAP_MAYMOVE);
		if (grown == MAP_FAILED)
			printf("info: mremap grow: %s\n", strerror(errno));
	}
	void *heap = malloc(64);
	void *brk_end = sbrk(0);
	void *own[] = {&local, small, mid, huge, (char *)odd + (3 << 20), grown, argv[0], argv, (void *)&errno, heap, (char *)brk_end - 1,
		       &data_var, bss_var, bss_var + sizeof bss_var - 1, (void *)main, (void *)stdout, (void *)"rodata"};
	const int nown = sizeof own / sizeof own[0];
	static char exe[4096];
	ssize_t exelen = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[exelen > 0 ? exelen : 0] = 0;
	printf("info: the program's view of /proc/self/maps follows\n");

	/* 1. The program's view of its memory, and what it must and must not show. */
	read_view();
	int golos_seen = 0;
	for (int i = 0; i < nmaps; i++)
		golos_seen += maps[i].lo < GOLOS_LOW + GOLOS_SPAN && maps[i].hi > GOLOS_LOW;
	printf("maps: nothing at golos's image 0x%lx-0x%lx: %s\n", GOLOS_LOW, GOLOS_LOW + GOLOS_SPAN,
	       golos_seen ? "no" : "yes");
	const struct mapping *text = view_holding((void *)main);
	printf("maps: the program's text is an executable mapping of its file: %s\n",
	       text && text->perms[2] == 'x' && strcmp(text->name, exe) == 0 ? "yes" : "no");
	if (text)
		printf("info: text %lx-%lx %s %s (the program is %s)\n", text->lo, text->hi, text->perms, text->name, exe);
	const struct mapping *stk = view_holding(&local);
	printf("maps: the program's stack is marked [stack]: %s\n",
	       stk && strcmp(stk->name, "[stack]") == 0 ? "yes" : "no");
	if (stk)
		printf("info: stack %lx-%lx %s %s\n", stk->lo, stk->hi, stk->perms, stk->name);
	int unseen = 0;
	for (int i = 0; i < nown; i++)
		if (!view_holding(own[i])) {
			printf("info: own address %p is in no mapping of the view\n", own[i]);
			unseen++;
		}
	printf("maps: every address of the program's own is in its view: %s\n", unseen ? "no" : "yes");

	/* 2. The test's list of the ranges that are not the program's. */
	printf("info: pid %d\n", (int)getpid());
	printf("info: ready\n");
	read_foreign();
	/* A range holding the program's own memory would mean the view left it out: say so,
	 * and leave it alone rather than destroy the program. */
	int held = 0;
	for (int i = 0; i < nalien; i++) {
		for (int j = 0; j < nown; j++)
			if (contains(&alien[i], own[j])) {
				printf("info: foreign %lx-%lx %s %s holds own address %p: left alone\n",
				       alien[i].lo, alien[i].hi, alien[i].perms, alien[i].name, own[j]);
				alien[i].lo = alien[i].hi = 0;
				held++;
				break;
			}
	}
	int k = 0;
	for (int i = 0; i < nalien; i++)
		if (alien[i].hi != 0)
			alien[k++] = alien[i];
	nalien = k;
	for (int i = 0; i < nalien; i++)
		printf("info: foreign %lx-%lx %s %s\n", alien[i].lo, alien[i].hi, alien[i].perms, alien[i].name);
	printf("golos: foreign mappings found: %s\n", nalien > 0 ? "yes" : "no");
	printf("golos: foreign ranges holding the program's own memory: %d\n", held);

	/* A page of the program's own, to aim mremap from and to check afterwards. */
	char *mine = mmap(NULL, PAGE, rw, anon, -1, 0);
	if (mine == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	memset(mine, 0x5a, PAGE);

	self_mem = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	/* Every foreign mapping: to the application it is not there. */
	for (int op = 0; op < NOPS; op++) {
		int nsame = 0;
		long r0 = 0;
		int e0 = 0;
		for (int i = 0; i < nalien; i++) {
			errno = 0;
			long r = aim(op, &alien[i], mine);
			int e = errno;
			if (r != -1 && op == OP_MREMAP)
				mine = (char *)r; /* it moved: golos let the page land on its own memory */
			if (i == 0)
				r0 = r, e0 = e;
			nsame += r == r0 && e == e0;
			if (r != -1 && op != OP_MUNMAP)
				r = 0; /* an address */
			printf("detail: %s %lx-%lx %s %s: %ld %s\n", opname[op], alien[i].lo, alien[i].hi,
			       alien[i].perms, alien[i].name, r, r == -1 ? ename(e) : "-");
		}
		if (nalien == 0)
			printf("golos: %s each foreign mapping: none\n", opname[op]);
		else if (nsame < nalien)
			printf("golos: %s each foreign mapping: differs, see the detail lines\n", opname[op]);
		else if (r0 == -1)
			printf("golos: %s each foreign mapping: -1 %s\n", opname[op], ename(e0));
		else
			printf("golos: %s each foreign mapping: %s -\n", opname[op], op == OP_MUNMAP ? "0" : "ok");
	}
	printf("golos: own page intact after the mremaps: %s\n",
	       mine[0] == 0x5a && mine[PAGE - 1] == 0x5a ? "yes" : "no");

	/* golos's image, where golos is linked: 0x7e0000000000 and the 64 MiB above. */
	CALL("golos: mmap fixed 64MiB at 0x7e0000000000",
	     syscall(SYS_mmap, GOLOS_LOW, GOLOS_SPAN, rw, anon | MAP_FIXED, -1, 0), showAddr);
	CALL("golos: mmap fixed 1 page at 0x7e0000001000",
	     syscall(SYS_mmap, GOLOS_TEXT, PAGE, PROT_READ, anon | MAP_FIXED, -1, 0), showAddr);
	CALL("golos: mprotect 1 page at 0x7e0000001000 PROT_NONE",
	     syscall(SYS_mprotect, GOLOS_TEXT, PAGE, PROT_NONE), show);
	CALL("golos: mprotect 64MiB at 0x7e0000000000 PROT_READ",
	     syscall(SYS_mprotect, GOLOS_LOW, GOLOS_SPAN, PROT_READ), show);
	CALL("golos: madvise 64MiB at 0x7e0000000000 MADV_DONTNEED",
	     syscall(SYS_madvise, GOLOS_LOW, GOLOS_SPAN, MADV_DONTNEED), show);
	/* Unmapping golos: the application cannot see golos's pages, so to it they are free
	 * space, and unmapping free space is not an error. */
	CALL("golos: munmap 64MiB at 0x7e0000000000", syscall(SYS_munmap, GOLOS_LOW, GOLOS_SPAN), show);

	/* Ordinary work: golos must still be there to answer all of it. */
	int fd = open("/dev/null", O_WRONLY);
	static const char line[] = "a line written to /dev/null\n";
	long total = 0;
	for (int i = 0; i < 10000; i++)
		total += syscall(SYS_write, fd, line, sizeof line - 1);
	close(fd);
	printf("work: 10000 writes of %zu bytes: %ld bytes\n", sizeof line - 1, total);
	long same = 0;
	ssize_t n0 = readlink("/proc/self/exe", exe, sizeof exe);
	for (int i = 0; i < 2000; i++) {
		char again[4096];
		ssize_t n = readlink("/proc/self/exe", again, sizeof again);
		same += n == n0 && memcmp(again, exe, n) == 0;
	}
	printf("work: 2000 readlinks of /proc/self/exe the same: %ld\n", same);
	long cycles = 0;
	for (int i = 0; i < 1000; i++) {
		char *p = mmap(NULL, (1 + i % 16) * PAGE, rw, anon, -1, 0);
		if (p == MAP_FAILED)
			continue;
		p[0] = 1;
		p[(i % 16) * PAGE] = 2;
		cycles += munmap(p, (1 + i % 16) * PAGE) == 0;
	}
	printf("work: 1000 mmap/touch/munmap cycles: %ld\n", cycles);

	/* MAP_FIXED over the program's own mapping replaces it, at the same address. */
	char *four = mmap(NULL, 4 * PAGE, rw, anon, -1, 0);
	memset(four, 0xab, 4 * PAGE);
	long r = syscall(SYS_mmap, four + PAGE, PAGE, rw, anon | MAP_FIXED, -1, 0);
	printf("own: mmap fixed over own page returns its address: %s\n",
	       r == (long)(four + PAGE) ? "yes" : "no");
	if (r == (long)(four + PAGE)) {
		printf("own: replaced page reads zero: %s\n", four[PAGE] == 0 && four[2 * PAGE - 1] == 0 ? "yes" : "no");
		printf("own: neighbours kept: %s\n",
		       four[PAGE - 1] == (char)0xab && four[2 * PAGE] == (char)0xab ? "yes" : "no");
	}
	/* MAP_FIXED_NOREPLACE over it fails with EEXIST; over a hole it maps there. */
	CALL("own: mmap fixed-noreplace over own page",
	     syscall(SYS_mmap, four + 2 * PAGE, PAGE, rw, anon | MAP_FIXED_NOREPLACE, -1, 0), showAddr);
	munmap(four + 3 * PAGE, PAGE);
	r = syscall(SYS_mmap, four + 3 * PAGE, PAGE, rw, anon | MAP_FIXED_NOREPLACE, -1, 0);
	printf("own: mmap fixed-noreplace into a hole returns its address: %s\n",
	       r == (long)(four + 3 * PAGE) ? "yes" : "no");
	CALL("own: munmap 4 own pages", syscall(SYS_munmap, four, 4 * PAGE), show);
	CALL("own: mprotect unmapped pages", syscall(SYS_mprotect, four, PAGE, PROT_READ), show);
	CALL("own: madvise unmapped pages", syscall(SYS_madvise, four, PAGE, MADV_DONTNEED), show);

	if (argc > 1) {
		uint64_t end = now_ms() + strtoul(argv[1], NULL, 10);
		while (now_ms() < end)
			syscall(SYS_getppid);
	}
	printf("done\n");
	return 0;
}
