/*
 * proc_shared_unpriv.c — shared memory without a path (MAP_SHARED|MAP_ANONYMOUS, a
 * shared mapping of /dev/zero, a memfd whose descriptor is closed) stays shared with a
 * fork's child, and with the child's own child, for a process without privileges: the
 * pattern of PostgreSQL's postmaster (its main shared memory, then a fork per backend,
 * and a popen from a backend). Linux's fork shares such a mapping whatever the user
 * (kernel/fork.c, dup_mmap); only CAP_CHECKPOINT_RESTORE may open the mapping's file
 * through /proc/self/map_files (fs/proc/base.c, proc_map_files_get_link).
 *
 * A program started as root first becomes nobody (uid and gid 65534, no supplementary
 * groups), which drops its capabilities (capabilities(7), "Effect of user ID changes"),
 * unless its argument is "stay".
 * Exit status: the number of failed checks (100 when the program cannot set up).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

#define SIZE (3 * 4096)

static int failures;

/* fdcount: how many descriptors the process has open (its /proc/self/fd, less the
 * directory's own). */
static int fdcount(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

/* check forks a child that writes who it is at the end of mem (and, with grandchild,
 * forks one that writes it further on), and says whether the parent sees the writes. */
static void check(const char *what, char *mem, int grandchild)
{
	strcpy(mem, "parent");
	int before = fdcount();
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		printf("%s: fork: %s\n", what, ename(errno));
		failures++;
		return;
	}
	if (pid == 0) {
		int status = 0;
		strcpy(mem + SIZE - 64, "child");
		if (fdcount() != before)
			status |= 1;
		if (grandchild) {
			pid_t g = fork();
			if (g < 0)
				_exit(4);
			if (g == 0) {
				strcpy(mem + 4096, "grandchild");
				_exit(strcmp(mem, "parent") == 0 ? 0 : 2);
			}
			int st;
			if (waitpid(g, &st, 0) != g || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
				status |= 8;
		}
		_exit(status | (strcmp(mem, "parent") == 0 ? 0 : 2));
	}
	int st;
	if (waitpid(pid, &st, 0) != pid) {
		printf("%s: waitpid: %s\n", what, ename(errno));
		failures++;
		return;
	}
	int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
	printf("%s: child %s, saw the parent's memory: %s, same descriptors: %s; parent sees \"%s\"",
	       what, WIFEXITED(st) ? "exited" : "was killed",
	       WIFEXITED(st) && !(WEXITSTATUS(st) & 2) ? "yes" : "no",
	       WIFEXITED(st) && !(WEXITSTATUS(st) & 1) ? "yes" : "no", mem + SIZE - 64);
	if (grandchild)
		printf(", \"%s\"", mem + 4096);
	printf("\n");
	failures += !ok || strcmp(mem + SIZE - 64, "child") != 0 ||
		    (grandchild && strcmp(mem + 4096, "grandchild") != 0);
}

/* mapsName is the name /proc/self/maps gives the mapping at addr, or "?". */
static const char *mapsName(void *addr)
{
	static char name[256];
	strcpy(name, "?");
	FILE *f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		return name;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		int off = 0;
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %n", &lo, &hi, &off) >= 2 &&
		    lo == (unsigned long)addr) {
			line[strcspn(line, "\n")] = 0;
			snprintf(name, sizeof name, "%s", off ? line + off : "");
			break;
		}
	}
	fclose(f);
	return name;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (geteuid() == 0 && !(argc > 1 && strcmp(argv[1], "stay") == 0)) {
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0) {
			printf("becoming nobody failed: %s\n", ename(errno));
			return 100;
		}
	}
	printf("privileged: %s\n", geteuid() == 0 ? "yes" : "no");

	char *anon = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (anon == MAP_FAILED) {
		printf("mmap shared anonymous: %s\n", ename(errno));
		return 100;
	}
	printf("shared anonymous memory in /proc/self/maps: %s\n", mapsName(anon));
	check("shared anonymous", anon, 1);

	int zero = open("/dev/zero", O_RDWR);
	char *z = zero < 0 ? MAP_FAILED : mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, zero, 0);
	if (z == MAP_FAILED) {
		printf("mmap /dev/zero: %s\n", ename(errno));
		return 100;
	}
	close(zero);
	check("/dev/zero", z, 0);

	int mfd = memfd_create("test", MFD_CLOEXEC);
	if (mfd < 0 || ftruncate(mfd, SIZE) != 0) {
		printf("memfd: %s\n", ename(errno));
		return 100;
	}
	char *mf = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (mf == MAP_FAILED) {
		printf("mmap memfd: %s\n", ename(errno));
		return 100;
	}
	close(mfd);
	check("memfd, closed", mf, 1);

	/* Moved elsewhere (mremap), it is still the same memory. */
	char *to = mmap(NULL, SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *moved = to == MAP_FAILED ? MAP_FAILED : mremap(anon, SIZE, SIZE, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (moved == MAP_FAILED) {
		printf("mremap: %s\n", ename(errno));
		return 100;
	}
	check("shared anonymous, moved", moved, 0);

	/* Unmapped and mapped again, many times: nothing held stays behind. */
	int fds = fdcount();
	for (int i = 0; i < 200; i++) {
		char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED || munmap(m, SIZE) != 0) {
			printf("map and unmap: %s\n", ename(errno));
			return 100;
		}
	}
	printf("descriptors after 200 maps and unmaps: %+d\n", fdcount() - fds);
	failures += fdcount() != fds;

	munmap(moved, SIZE);
	munmap(z, SIZE);
	munmap(mf, SIZE);
	printf("failures: %d\n", failures);
	return failures;
}
