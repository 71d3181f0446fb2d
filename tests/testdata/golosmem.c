/*
 * golosmem.c — the application may not map over, unmap, protect or advise golos's memory.
 *
 * Under golos, golos's own image is linked at 0x7e0000000000 (text at 0x7e0000001000),
 * and the Go runtime's heap, its threads' stacks and its other mappings lie wherever the
 * host put them (Go 1.26 randomises the heap's base). To the application all of it is
 * memory it does not have. The program finds those mappings in /proc/self/maps as the
 * ones it cannot account for (not its executable's file, not holding its stack, TLS,
 * data, bss, brk or malloc memory, not the vDSO), aims mmap(MAP_FIXED), mremap, mprotect,
 * madvise(MADV_DONTNEED) and munmap at each of them and at golos's image, then does
 * ordinary work with many syscalls (golos must still be alive and well), then checks that
 * MAP_FIXED and MAP_FIXED_NOREPLACE over its own memory behave as Linux documents.
 * Each result is one line "what: ret errno-name" ("-" when the call succeeded).
 *
 * Natively there are no such mappings and nothing is at 0x7e0000000000, so the MAP_FIXED
 * calls there succeed: the "golos:" lines are golos-only. The rest holds natively too.
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

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define PAGE 4096UL
#define GOLOS_LOW 0x7e0000000000UL  /* golos's ELF header page is here, its text after */
#define GOLOS_TEXT 0x7e0000001000UL
#define GOLOS_SPAN (64UL << 20)     /* more than golos's text, data and bss */

static const char *ename(int e)
{
	switch (e) {
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EBADF: return "EBADF";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EBUSY: return "EBUSY";
	case EEXIST: return "EEXIST";
	case EINVAL: return "EINVAL";
	case ENOSYS: return "ENOSYS";
	}
	static char buf[32];
	snprintf(buf, sizeof buf, "errno%d", e);
	return buf;
}

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

/* A mapping of /proc/self/maps. */
struct mapping {
	unsigned long lo, hi, ino;
	char perms[8], name[128];
};

#define MAXMAPS 2048
static struct mapping maps[MAXMAPS];
static int nmaps;

static void read_maps(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (!f) {
		perror("/proc/self/maps");
		exit(2);
	}
	char line[512];
	while (nmaps < MAXMAPS && fgets(line, sizeof line, f)) {
		struct mapping *m = &maps[nmaps];
		int off = 0;
		if (sscanf(line, "%lx-%lx %7s %*x %*x:%*x %lu %n", &m->lo, &m->hi, m->perms, &m->ino, &off) < 4)
			continue;
		snprintf(m->name, sizeof m->name, "%s", line + off);
		m->name[strcspn(m->name, "\n")] = 0;
		nmaps++;
	}
	fclose(f);
}

static int contains(const struct mapping *m, const void *p)
{
	return m->lo <= (uintptr_t)p && (uintptr_t)p < m->hi;
}

static int data_var = 1;      /* .data */
static char bss_var[3 * 4096]; /* .bss, past the file's last page */

/* foreign reports whether m is none of the program's own memory. */
static int foreign(const struct mapping *m, unsigned long exe_ino, void *const *own, int nown)
{
	if (exe_ino != 0 && m->ino == exe_ino)
		return 0;
	if (strncmp(m->name, "[vdso]", 6) == 0 || strncmp(m->name, "[vvar", 5) == 0 ||
	    strncmp(m->name, "[vsyscall]", 10) == 0 || m->lo >= 0x800000000000UL)
		return 0;
	for (int i = 0; i < nown; i++)
		if (contains(m, own[i]))
			return 0;
	return 1;
}

enum { OP_MMAP_FIXED, OP_MMAP_NOREPLACE, OP_MREMAP, OP_MPROTECT, OP_MADVISE, OP_MUNMAP, NOPS };
static const char *const opname[NOPS] = {
	"mmap fixed over", "mmap fixed-noreplace over", "mremap own page onto", "mprotect PROT_NONE",
	"madvise MADV_DONTNEED", "munmap",
};

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
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* The program's own memory, before it maps anything itself. */
	int local = 0;
	void *heap = malloc(64);
	void *brk_end = sbrk(0);
	void *own[] = {&local, argv[0], argv, (void *)&errno, heap, (char *)brk_end - 1,
		       &data_var, bss_var, bss_var + sizeof bss_var - 1, (void *)main, (void *)stdout, (void *)"rodata"};
	unsigned long exe_ino = 0;
	{
		char exe[4096];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		struct stat st;
		if (n > 0) {
			exe[n] = 0;
			if (stat(exe, &st) == 0)
				exe_ino = st.st_ino;
		}
	}
	read_maps();
	static struct mapping alien[MAXMAPS];
	int nalien = 0;
	/* The break's area is the program's from its start: glibc puts a PROT_NONE page
	 * below the memory it takes with sbrk. */
	for (int i = nmaps - 1; i >= 0; i--)
		if (contains(&maps[i], (char *)brk_end - 1))
			for (int j = i; j > 0 && maps[j - 1].hi == maps[j].lo; j--)
				maps[j - 1].ino = (unsigned long)-1; /* marks it the program's */
	for (int i = 0; i < nmaps; i++)
		if (maps[i].ino != (unsigned long)-1 && foreign(&maps[i], exe_ino, own, sizeof own / sizeof own[0]))
			alien[nalien++] = maps[i];
	/* Where golos is, for the test's messages (golos does not hide its maps yet). */
	for (int i = 0; i < nalien; i++)
		printf("info: foreign %lx-%lx %s %s\n", alien[i].lo, alien[i].hi, alien[i].perms, alien[i].name);
	printf("golos: foreign mappings found: %s\n", nalien > 0 ? "yes" : "no");

	/* A page of the program's own, to aim mremap from and to check afterwards. */
	char *mine = mmap(NULL, PAGE, rw, anon, -1, 0);
	if (mine == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	memset(mine, 0x5a, PAGE);

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
	char exe[4096];
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
