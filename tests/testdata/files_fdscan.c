/*
 * files_fdscan.c — which descriptors are open, asked every way a program asks.
 *
 * For every descriptor number below the soft RLIMIT_NOFILE (getrlimit(2); at most
 * 1 << 20) the program calls fstat(3) (glibc makes it newfstatat(2) with AT_EMPTY_PATH,
 * musl fstat(2)), fstatat(fd, "", AT_EMPTY_PATH), statx(fd, "", AT_EMPTY_PATH),
 * fcntl(F_GETFD) and fstatat(fd, ".", 0), and prints the numbers any of them found open,
 * with what each said; then the names a readdir(3) of /proc/self/fd lists (and of
 * /proc/thread-self/fd, /proc/PID/fd, /proc/self/task/TID/fd). Natively: the descriptors
 * the program inherited, and the directory's own. Under golos: the same.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void list(const char *dir, const char *as)
{
	if (!as)
		as = dir;
	DIR *d = opendir(dir);
	if (!d) {
		printf("%s: %s\n", as, strerror(errno));
		return;
	}
	int self = dirfd(d);
	printf("%s:", as);
	struct dirent *e;
	while ((e = readdir(d)))
		if (atoi(e->d_name) != self || e->d_name[0] == '.')
			printf(" %s", e->d_name);
	printf(" (and its own)\n");
	closedir(d);
}

int main(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1;
	long lim = rl.rlim_cur > (1 << 20) ? (1 << 20) : (long)rl.rlim_cur;
	printf("soft limit %ld\n", lim);
	for (long fd = 0; fd < lim; fd++) {
		struct stat st;
		char stx[256]; /* struct statx, which musl does not declare */
		char what[6] = "------";
		int open = 0;
		if (fstat(fd, &st) == 0)
			what[0] = 'f', open = 1;
		else if (errno != EBADF)
			what[0] = '?';
		if (fstatat(fd, "", &st, AT_EMPTY_PATH) == 0)
			what[1] = 'a', open = 1;
		else if (errno != EBADF)
			what[1] = '?';
		if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH, 0x7ff /* STATX_BASIC_STATS */, stx) == 0)
			what[2] = 'x', open = 1;
		else if (errno != EBADF)
			what[2] = '?';
		if (fcntl(fd, F_GETFD) >= 0)
			what[3] = 'c', open = 1;
		else if (errno != EBADF)
			what[3] = '?';
		/* "." relative to fd: ENOTDIR for an open non-directory, EBADF for a closed one */
		if (fstatat(fd, ".", &st, 0) == 0 || errno == ENOTDIR)
			what[4] = 'd', open = 1;
		else if (errno != EBADF)
			what[4] = '?';
		if (syscall(SYS_fstat, fd, &st) == 0)
			what[5] = 'F', open = 1;
		else if (errno != EBADF)
			what[5] = '?';
		if (open || memchr(what, '?', 6))
			printf("fd %ld: %.6s\n", fd, what);
	}
	char p[64];
	list("/proc/self/fd", 0);
	list("/proc/thread-self/fd", 0);
	snprintf(p, sizeof p, "/proc/%d/fd", getpid());
	list(p, "/proc/PID/fd");
	snprintf(p, sizeof p, "/proc/self/task/%d/fd", (int)syscall(SYS_gettid));
	list(p, "/proc/self/task/TID/fd");
	return 0;
}
