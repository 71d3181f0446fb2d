/*
 * sysv_shm.c — System V shared memory (shmget(2), shmat(2), shmdt(2), shmctl(2)):
 * an attach at an address the kernel picks and at a given one (also SHM_RND rounding),
 * two attaches of one segment seeing each other's writes, SHM_RDONLY (a write faults,
 * mprotect to writable is refused), SHM_REMAP over an existing mapping and the EINVAL
 * without it, /proc/self/maps showing the segment ("rw-s", its SYSV name) and not after
 * shmdt, shm_nattch as attaches and detaches come and go, mprotect and a partial munmap
 * of an attached segment, IPC_RMID while attached (still usable, gone after the last
 * detach), a fork whose child sees the same segment (both see each other's writes,
 * shm_nattch counts the child), an execve that detaches every segment, and bad input (bad ids, misaligned and wild addresses,
 * a wild buffer, unknown commands) with the errnos Linux gives.
 *
 * No address is printed, so the output is the same wherever the segments land. Exit
 * status: the number of failed checks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

#ifndef SHM_REMAP
#define SHM_REMAP 040000
#endif

#define PAGE 4096
#define SEGSZ (3 * PAGE + 100) /* rounded up to 4 pages when attached */

static int failures;

static void check(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

/* result prints what a call that should fail did: "-1 ENAME" or "ok". */
static void result(const char *what, long r)
{
	if (r == -1)
		printf("%s: -1 %s\n", what, ename(errno));
	else
		printf("%s: ok\n", what);
}

static sigjmp_buf jb;
static void on_segv(int sig)
{
	(void)sig;
	siglongjmp(jb, 1);
}

/* writable reports whether a byte at p can be written (a SIGSEGV says not). */
static int writable(volatile char *p)
{
	if (sigsetjmp(jb, 1))
		return 0;
	*p = *p;
	return 1;
}

/* in_maps returns the permissions of the /proc/self/maps line that starts at p and names
 * a SYSV file ("" if there is none). */
static const char *in_maps(void *p)
{
	static char perms[8];
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	perms[0] = 0;
	if (!f)
		return perms;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo;
		char pr[8];
		if (sscanf(line, "%lx-%*x %7s", &lo, pr) == 2 && lo == (unsigned long)p && strstr(line, "/SYSV"))
			strcpy(perms, pr);
	}
	fclose(f);
	return perms;
}

static long nattch(int id)
{
	struct shmid_ds ds;
	if (shmctl(id, IPC_STAT, &ds) == -1)
		return -1;
	return (long)ds.shm_nattch;
}

/* free_place returns an address with n free pages, found by mapping and unmapping them. */
static char *free_place(size_t n)
{
	char *p = mmap(NULL, n * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("mmap failed: %s\n", ename(errno));
		exit(100);
	}
	munmap(p, n * PAGE);
	return p;
}

static void put(int fd)
{
	char c = 'x';
	if (write(fd, &c, 1) != 1)
		exit(100);
}

static void get(int fd)
{
	char c;
	if (read(fd, &c, 1) != 1)
		exit(100);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && !strcmp(argv[1], "exec")) {
		/* After the execve below: the segments the old image had attached are not. */
		int id = atoi(argv[2]);
		printf("shm_nattch after execve: %ld\n", nattch(id));
		shmctl(id, IPC_RMID, NULL);
		return atoi(argv[3]);
	}
	struct sigaction sa = {.sa_handler = on_segv};
	sigaction(SIGSEGV, &sa, NULL);

	int id = shmget(IPC_PRIVATE, SEGSZ, IPC_CREAT | 0600);
	if (id == -1) {
		printf("shmget failed: %s\n", ename(errno));
		return 100;
	}
	struct shmid_ds ds;
	check("IPC_STAT gives the size asked for", shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_segsz == SEGSZ);
	check("no attaches yet", nattch(id) == 0);

	/* An attach where the kernel chooses. */
	char *a = shmat(id, NULL, 0);
	check("shmat(NULL) attaches", a != (void *)-1);
	if (a == (void *)-1)
		return 100;
	check("the address is page-aligned", ((uintptr_t)a & (PAGE - 1)) == 0);
	check("a new segment reads as zeros", a[0] == 0 && a[SEGSZ - 1] == 0);
	memset(a, 'A', SEGSZ);
	printf("maps shows the attach as: %s\n", in_maps(a));
	check("shm_nattch is 1", nattch(id) == 1);
	check("the rounded-up last page is there too", writable(a + 4 * PAGE - 1));

	/* A second attach at an address of the program's choosing sees the same memory. */
	char *want = free_place(4);
	char *b = shmat(id, want, 0);
	check("shmat at a free address attaches there", b == want);
	check("the second attach sees the first's writes", b != (void *)-1 && b[0] == 'A' && b[SEGSZ - 1] == 'A');
	b[1] = 'B';
	check("the first sees the second's", a[1] == 'B');
	check("shm_nattch is 2", nattch(id) == 2);
	check("shmdt of the second attach", shmdt(b) == 0);
	printf("maps after shmdt: '%s'\n", in_maps(b));
	check("shm_nattch is 1 again", nattch(id) == 1);
	check("the detached range is free again (MAP_FIXED_NOREPLACE there succeeds)",
	      mmap(b, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == b);
	munmap(b, PAGE);

	/* SHM_RND rounds a misaligned address down; without it, EINVAL. */
	result("shmat at a misaligned address", (long)shmat(id, want + 123, 0));
	b = shmat(id, want + 123, SHM_RND);
	check("shmat with SHM_RND attaches at the rounded address", b == want);
	if (b != (void *)-1)
		shmdt(b);

	/* Read-only. */
	char *r = shmat(id, NULL, SHM_RDONLY);
	check("shmat(SHM_RDONLY) attaches", r != (void *)-1);
	if (r != (void *)-1) {
		printf("maps shows the read-only attach as: %s\n", in_maps(r));
		check("it reads the segment", r[0] == 'A' && r[1] == 'B');
		check("a write to it faults", !writable(r));
		result("mprotect of it to writable", mprotect(r, PAGE, PROT_READ | PROT_WRITE));
		check("shmdt of it", shmdt(r) == 0);
	}

	/* Over an existing mapping: EINVAL, unless SHM_REMAP. */
	char *m = mmap(NULL, 4 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m[0] = 'M';
	result("shmat over a mapping without SHM_REMAP", (long)shmat(id, m, 0));
	check("the mapping is untouched", m[0] == 'M');
	b = shmat(id, m, SHM_REMAP);
	check("shmat with SHM_REMAP replaces it", b == m);
	check("and shows the segment", b != (void *)-1 && b[0] == 'A');
	result("shmat(NULL, SHM_REMAP)", (long)shmat(id, NULL, SHM_REMAP));

	/* mprotect and a partial munmap of an attach; shmdt takes the rest. */
	check("mprotect of the attach's first page to read-only", mprotect(b, PAGE, PROT_READ) == 0);
	check("a write there faults", !writable(b));
	check("the next page is still writable", writable(b + PAGE));
	check("munmap of the attach's last page", munmap(b + 3 * PAGE, PAGE) == 0);
	/* Linux counts each mapping of the segment (a split one twice: shm_open). */
	printf("shm_nattch with the attach split in two: %ld\n", nattch(id));
	check("shmdt detaches the rest", shmdt(b) == 0);
	check("shm_nattch is 1 after it", nattch(id) == 1);
	check("the middle pages are gone",
	      mmap(b + PAGE, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == b + PAGE);
	munmap(b, 4 * PAGE);
	result("shmdt where nothing is attached", shmdt(b));

	/* IPC_RMID while attached: the segment stays until the last detach. */
	check("IPC_RMID while attached", shmctl(id, IPC_RMID, NULL) == 0);
	check("IPC_STAT still works", shmctl(id, IPC_STAT, &ds) == 0);
	check("it says SHM_DEST", (ds.shm_perm.mode & SHM_DEST) != 0);
	check("the memory is still there", a[0] == 'A' && a[1] == 'B');

	/* fork: the child has the same segment, attached once more. */
	int p2c[2], c2p[2];
	if (pipe(p2c) || pipe(c2p))
		return 100;
	pid_t pid = fork();
	if (pid == 0) {
		failures = 0;
		check("child: sees the parent's memory", a[0] == 'A' && a[1] == 'B');
		check("child: shm_nattch is 2", nattch(id) == 2);
		printf("child: maps shows the attach as: %s\n", in_maps(a));
		a[2] = 'C';
		put(c2p[1]);
		get(p2c[0]);
		check("child: sees the parent's write after the fork", a[3] == 'P');
		check("child: shmdt", shmdt(a) == 0);
		check("child: shm_nattch is 1 after its detach", nattch(id) == 1);
		_exit(failures);
	}
	get(c2p[0]);
	check("parent: sees the child's write", a[2] == 'C');
	a[3] = 'P';
	put(p2c[1]);
	int st;
	waitpid(pid, &st, 0);
	check("parent: the child's checks passed", WIFEXITED(st) && WEXITSTATUS(st) == 0);
	check("parent: shm_nattch is 1 after the child ended", nattch(id) == 1);
	check("parent: shmdt of the last attach", shmdt(a) == 0);
	result("IPC_STAT after the last detach of a removed segment", shmctl(id, IPC_STAT, &ds));

	/* fork with a segment mapped in two parts of different protection. */
	int id2 = shmget(IPC_PRIVATE, 2 * PAGE, IPC_CREAT | 0600);
	char *c = shmat(id2, NULL, 0);
	check("second segment attached", c != (void *)-1);
	if (c != (void *)-1) {
		c[0] = 'x';
		c[PAGE] = 'y';
		mprotect(c, PAGE, PROT_READ);
		pid = fork();
		if (pid == 0) {
			failures = 0;
			check("child: both parts there", c[0] == 'x' && c[PAGE] == 'y');
			check("child: the first part is still read-only", !writable(c));
			c[PAGE] = 'z';
			_exit(failures);
		}
		waitpid(pid, &st, 0);
		check("parent: the child's checks passed", WIFEXITED(st) && WEXITSTATUS(st) == 0);
		check("parent: sees the child's write to the second part", c[PAGE] == 'z');
		check("parent: shmdt detaches both parts", shmdt(c) == 0);
	}
	shmctl(id2, IPC_RMID, NULL);

	/* Bad input. */
	result("shmat(-1)", (long)shmat(-1, NULL, 0));
	result("shmat of a removed id", (long)shmat(id, NULL, 0));
	result("shmat(0x7ffffff0)", (long)shmat(0x7ffffff0, NULL, 0));
	int id3 = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
	result("shmat at a wild address", (long)shmat(id3, (void *)0xffffffffffff0000ul, 0));
	result("shmat at a wild address with SHM_REMAP", (long)shmat(id3, (void *)0xffffffffffff0000ul, SHM_REMAP));
	result("shmat at the end of the user address space", (long)shmat(id3, (void *)0x7ffffffff000ul, 0));
	result("shmat at page 1 with SHM_REMAP", (long)shmat(id3, (void *)0x1000, SHM_REMAP));
	result("shmat at 0x123 with SHM_RND and SHM_REMAP", (long)shmat(id3, (void *)0x123, SHM_RND | SHM_REMAP));
	result("shmdt at a misaligned address", shmdt((void *)0x1001));
	result("shmdt at a wild address", shmdt((void *)0xffffffffffff0000ul));
	result("shmdt of the stack", shmdt((void *)((uintptr_t)&st & ~(uintptr_t)(PAGE - 1))));
	result("shmctl IPC_STAT to a wild buffer", shmctl(id3, IPC_STAT, (void *)16));
	result("shmctl with an unknown command", shmctl(id3, 12345, &ds));
	result("shmget of a huge size", shmget(IPC_PRIVATE, (size_t)1 << 62, IPC_CREAT | 0600));
	result("shmget of a missing key", shmget(0x60105eed, PAGE, 0600));
	shmctl(id3, IPC_RMID, NULL);

	printf("failures: %d\n", failures);

	/* execve detaches every segment (shmat(2): "Upon execve(2), all attached shared
	 * memory segments are detached from the process"). */
	int id4 = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
	shmat(id4, NULL, 0);
	shmat(id4, NULL, SHM_RDONLY);
	printf("shm_nattch before execve: %ld\n", nattch(id4));
	char idarg[16], farg[16];
	snprintf(idarg, sizeof idarg, "%d", id4);
	snprintf(farg, sizeof farg, "%d", failures);
	execl("/proc/self/exe", argv[0], "exec", idarg, farg, (char *)NULL);
	printf("execve: %s\n", ename(errno));
	shmctl(id4, IPC_RMID, NULL);
	return 100;
}
