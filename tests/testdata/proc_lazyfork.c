/*
 * proc_lazyfork.c — a child's memory is its parent's at the instant of the fork, whenever
 * the child first touches it (golos gives a forked child its private anonymous memory
 * lazily: docs/design.md, "Processes").
 *
 * The parent fills 64 MiB, forks, and rewrites all of it at once; only then does the
 * child read it: it must see the fork-time contents everywhere, and its own writes stay
 * its own. Before touching them itself, the child also has the kernel write into and read
 * from pages of another region (read(2) into the middle of a page, write(2) from one,
 * a read of /proc/self/mem),
 * drops pages with MADV_DONTNEED (they read zero afterwards), moves a region with
 * mremap(2), and forks a grandchild that reads pages neither has touched. Last, a
 * grandchild whose parent ends at once reads its memory after its parent is gone, and
 * this process, a subreaper, reaps it and nothing more (no helper of golos's); and a
 * child in a new user namespace (where golos's child falls back to the eager copy).
 *
 * The parent and the child take turns through two pipes. stdout is line-buffered.
 * Exit status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BIG (64u << 20)
#define WORDS (BIG / sizeof(uint64_t))
#define SMALL (4u << 20) /* each of the other regions */
#define PAGE 4096u

static int failures;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static uint64_t pattern(uint64_t i, uint64_t seed)
{
	return (i * 0x9e3779b97f4a7c15ull) ^ seed;
}

/* fill writes the pattern of seed into every word of p. */
static void fill(uint64_t *p, size_t words, uint64_t seed)
{
	for (size_t i = 0; i < words; i++)
		p[i] = pattern(i, seed);
}

/* holds reports whether every word of p holds the pattern of seed. */
static int holds(const uint64_t *p, size_t words, uint64_t seed)
{
	for (size_t i = 0; i < words; i++)
		if (p[i] != pattern(i, seed))
			return 0;
	return 1;
}

static void *region(void)
{
	void *p = mmap(NULL, SMALL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(100);
	}
	return p;
}

static void turn(int fd)
{
	char c = 1;
	if (write(fd, &c, 1) != 1) {
		perror("write");
		exit(100);
	}
}

static void await(int fd)
{
	char c;
	if (read(fd, &c, 1) != 1) {
		perror("read");
		exit(100);
	}
}

/* holds_from reports whether words [from, to) of p hold the pattern of seed. */
static int holds_from(const uint64_t *p, size_t from, size_t to, uint64_t seed)
{
	for (size_t i = from; i < to; i++)
		if (p[i] != pattern(i, seed))
			return 0;
	return 1;
}

static uint64_t *big, *io, *drop, *moved, *deep;

/* kernel_io: the kernel writes into and reads from untouched pages. */
static void kernel_io(void)
{
	/* read(2) of 100 bytes into the middle of an untouched page: the rest of the page
	 * keeps the fork-time contents. */
	int pp[2];
	char msg[100];
	memset(msg, 'k', sizeof msg);
	if (pipe(pp) != 0 || write(pp[1], msg, sizeof msg) != sizeof msg) {
		perror("pipe");
		exit(100);
	}
	char *at = (char *)io + 5 * PAGE + 1000;
	ssize_t n = read(pp[0], at, sizeof msg);
	int ok = n == (ssize_t)sizeof msg && memcmp(at, msg, sizeof msg) == 0;
	uint64_t *pg = io + 5 * PAGE / 8;
	for (size_t i = 0; i < PAGE / 8; i++) {
		size_t off = i * 8;
		if (off + 8 <= 1000 || off >= 1104)
			ok = ok && pg[i] == pattern(5 * PAGE / 8 + i, 11);
	}
	check("child: read(2) into an untouched page, the rest of the page as at the fork", ok);
	/* write(2) from an untouched page, read back. */
	static char back[PAGE];
	static uint64_t want[PAGE / 8];
	ok = write(pp[1], (char *)io + 9 * PAGE, PAGE) == PAGE && read(pp[0], back, PAGE) == PAGE;
	for (size_t i = 0; i < PAGE / 8; i++)
		want[i] = pattern(9 * PAGE / 8 + i, 11);
	check("child: write(2) from an untouched page gives its fork-time contents", ok && memcmp(back, want, PAGE) == 0);
	/* /proc/self/mem (proc(5)) read from an untouched page: the kernel reaches it as a
	 * debugger would (access_remote_vm), not as the process's own fault. */
	int mem = open("/proc/self/mem", O_RDONLY);
	for (size_t i = 0; i < PAGE / 8; i++)
		want[i] = pattern(SMALL / 2 / 8 + i, 11);
	ok = mem >= 0 && pread(mem, back, PAGE, (off_t)(uintptr_t)((char *)io + SMALL / 2)) == PAGE;
	check("child: /proc/self/mem read of an untouched page gives its fork-time contents", ok && memcmp(back, want, PAGE) == 0);
	if (mem >= 0)
		close(mem);
}

/* dontneed: untouched private pages dropped with MADV_DONTNEED read zero afterwards. */
static void dontneed(void)
{
	int zero = madvise(drop, SMALL / 2, MADV_DONTNEED) == 0;
	for (size_t i = 0; zero && i < SMALL / 2 / 8; i++)
		zero = drop[i] == 0;
	check("child: MADV_DONTNEED'd untouched pages read zero", zero);
	check("child: the pages after them as at the fork", holds_from(drop, SMALL / 2 / 8, SMALL / 8, 22));
}

/* move: mremap moves untouched pages, which keep their contents at the new place. */
static void move(void)
{
	void *to = mremap(moved, SMALL, 2 * SMALL, MREMAP_MAYMOVE);
	check("child: mremap'd untouched pages keep their contents", to != MAP_FAILED && holds(to, SMALL / 8, 33));
}

/* grandchild: a fork of the child sees pages neither it nor the child touched. */
static void grandchild(void)
{
	pid_t g = fork();
	if (g == 0)
		_exit(holds(deep, SMALL / 8, 44) ? 0 : 1);
	int st;
	check("grandchild: untouched pages as at the first fork",
	      g > 0 && waitpid(g, &st, 0) == g && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* orphan: a grandchild whose parent ends at once, before it has touched its memory,
 * has it all the same; this process, a subreaper, then reaps the child and the
 * grandchild, and nothing else. */
static void orphan(void)
{
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
		perror("prctl");
		exit(100);
	}
	fill(big, WORDS, 5);
	int res[2];
	if (pipe(res) != 0) {
		perror("pipe");
		exit(100);
	}
	pid_t c = fork();
	if (c == 0) {
		pid_t me = getpid();
		pid_t g = fork();
		if (g == 0) {
			while (getppid() == me)
				usleep(1000);
			char ok = holds(big, WORDS, 5) ? 'y' : 'n';
			if (write(res[1], &ok, 1) != 1)
				_exit(2);
			_exit(0);
		}
		fill(big, WORDS, 6); /* the child's own, after the grandchild's fork */
		_exit(g > 0 ? 0 : 1);
	}
	fill(big, WORDS, 7);
	int st;
	check("top: the child exited 0 right after its fork",
	      c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	char ok = 0;
	check("orphaned grandchild: its memory as at its fork, its parent gone", read(res[0], &ok, 1) == 1 && ok == 'y');
	pid_t g = waitpid(-1, &st, 0);
	check("top: waitpid(-1) reaped the grandchild, exit status 0", g > 0 && g != c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
	errno = 0;
	pid_t more = waitpid(-1, &st, WNOHANG);
	check("top: then waitpid(-1, WNOHANG) is ECHILD", more == -1 && errno == ECHILD);
}

/* userns: a child in a new user namespace, where golos's child cannot have userfaultfd(2)
 * for kernel-mode faults (CAP_SYS_PTRACE of the initial namespace), still gets the memory
 * as it was at the fork (the eager copy, after the snapshot was made for it). */
static void userns(void)
{
	fill(big, WORDS, 8);
	pid_t c = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
	if (c == 0)
		_exit(holds(big, WORDS, 8) ? 0 : 1);
	fill(big, WORDS, 9);
	int st;
	check("child in a new user namespace: its memory as at the fork",
	      c > 0 && waitpid(c, &st, 0) == c && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	big = malloc(BIG);
	if (big == NULL) {
		perror("malloc");
		return 100;
	}
	io = region(), drop = region(), moved = region(), deep = region();
	static void (*const first[])(void) = {kernel_io, dontneed, move, grandchild};
	for (unsigned round = 0; round < sizeof first / sizeof first[0]; round++) {
		fill(big, WORDS, 1);
		fill(io, SMALL / 8, 11);
		fill(drop, SMALL / 8, 22);
		fill(moved, SMALL / 8, 33);
		fill(deep, SMALL / 8, 44);
		int toChild[2], toParent[2];
		if (pipe(toChild) != 0 || pipe(toParent) != 0) {
			perror("pipe");
			return 100;
		}
		pid_t pid = fork();
		if (pid < 0) {
			perror("fork");
			return 100;
		}
		if (pid == 0) {
			failures = 0; /* the child's own, its exit status */
			/* First what the round is about, on pages not touched since the fork,
			 * while the parent rewrites its own. */
			first[round]();
			await(toChild[0]);
			if (round == 0) {
				check("child: 64 MiB as at the fork after the parent rewrote it", holds(big, WORDS, 1));
				fill(big, WORDS, 3);
				check("child: its own writes are its own", holds(big, WORDS, 3));
			}
			turn(toParent[1]);
			_exit(failures);
		}
		fill(big, WORDS, 2);
		fill(io, SMALL / 8, 12);
		fill(drop, SMALL / 8, 23);
		fill(moved, SMALL / 8, 34);
		fill(deep, SMALL / 8, 45);
		turn(toChild[1]);
		await(toParent[0]);
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
			printf("parent: the child did not exit\n");
			return 100;
		}
		failures += WEXITSTATUS(st);
		close(toChild[0]), close(toChild[1]), close(toParent[0]), close(toParent[1]);
	}
	check("parent: its own rewrite kept after the child's writes", holds(big, WORDS, 2));
	check("parent: its other regions as it rewrote them",
	      holds(io, SMALL / 8, 12) && holds(drop, SMALL / 8, 23) && holds(moved, SMALL / 8, 34) &&
		      holds(deep, SMALL / 8, 45));
	orphan();
	userns();
	printf("failures: %d\n", failures);
	return failures;
}
