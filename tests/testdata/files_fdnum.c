/*
 * files_fdnum.c — the descriptor numbers a program gets, and how many it may have.
 *
 * The program prints the descriptors its first open(2)s, pipe2, dup, eventfd2,
 * memfd_create and epoll_create1 return; those open(2) returns after 20,000 open/close
 * pairs (a program at work for a while); the descriptors /proc/self/fd lists (when
 * /proc is there); RLIMIT_NOFILE; and how many descriptors it can open before EMFILE,
 * which is the soft limit less those open already when no one else holds any in its
 * range; and whether dup2(2) onto the free numbers below 300 works. Natively and under
 * golos the output must be the same.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

/* nopen counts the descriptors open now (fcntl F_GETFD on each below the limit). */
static int nopen(int limit)
{
	int n = 0;
	for (int fd = 0; fd < limit; fd++)
		n += fcntl(fd, F_GETFD) != -1;
	return n;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY), c = open("/dev/null", O_RDONLY);
	printf("first opens of /dev/null: %d %d %d\n", a, b, c);
	int p[2];
	pipe2(p, 0);
	printf("pipe2: %d %d\n", p[0], p[1]);
	printf("dup(0): %d\n", dup(0));
	printf("eventfd2: %ld\n", syscall(SYS_eventfd2, 0, 0));
	printf("memfd_create: %ld\n", syscall(SYS_memfd_create, "fdnum", 0));
	printf("epoll_create1: %ld\n", syscall(SYS_epoll_create1, 0));
	printf("open /proc/self/maps: %d\n", open("/proc/self/maps", O_RDONLY));
	for (int i = 0; i < 20000; i++)
		close(open("/dev/null", O_RDONLY));
	a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);
	printf("opens after 20000 open/close pairs: %d %d\n", a, b);

	DIR *d = opendir("/proc/self/fd");
	if (d) {
		int fds[4096], n = 0;
		struct dirent *e;
		while ((e = readdir(d)) && n < 4096)
			if (e->d_name[0] != '.')
				fds[n++] = atoi(e->d_name);
		closedir(d);
		qsort(fds, n, sizeof fds[0], cmp);
		printf("/proc/self/fd lists:");
		for (int i = 0; i < n; i++)
			printf(" %d", fds[i]);
		printf("\n");
	} else {
		printf("/proc/self/fd: %s\n", strerror(errno));
	}

	/* dup2(2) onto every free number up to 299, as a shell's `exec 60>file` does: golos's
	 * own descriptors must not be in the way (EBADF). */
	int refused = 0;
	for (int n = 3; n < 300; n++) {
		if (fcntl(n, F_GETFD) != -1)
			continue;
		if (dup2(0, n) != n) {
			fprintf(stderr, "dup2(0, %d): %s\n", n, strerror(errno));
			refused++;
		} else {
			close(n);
		}
	}
	printf("dup2 onto the free numbers below 300 refused: %d\n", refused);

	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	printf("RLIMIT_NOFILE: soft %llu hard %llu\n", (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
	if (rl.rlim_cur > 65536) {
		/* Keep the count below bounded: golos puts its own descriptors below 65536. */
		rl.rlim_cur = 65536;
		printf("RLIMIT_NOFILE soft limit lowered to 65536: %s\n", setrlimit(RLIMIT_NOFILE, &rl) == 0 ? "ok" : strerror(errno));
	}
	int limit = (int)rl.rlim_cur;
	int before = nopen(limit), more = 0, fd, first = -1, last = -1;
	while ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		if (first < 0)
			first = fd;
		last = fd;
		more++;
	}
	int e = errno;
	printf("open until it fails: %s after %d more\n", e == EMFILE ? "EMFILE" : strerror(e), more);
	printf("open before + opened == soft limit: %s\n", before + more == limit ? "yes" : "no");
	printf("the last one opened is soft limit - 1: %s\n", last == limit - 1 ? "yes" : "no");
	fprintf(stderr, "open before %d, opened %d (%d..%d), soft limit %d\n", before, more, first, last, limit);
	for (int i = first; i <= last; i++)
		close(i);
	printf("open after closing them: %d\n", open("/dev/null", O_RDONLY));
	return 0;
}
