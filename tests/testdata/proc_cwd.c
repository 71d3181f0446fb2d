/*
 * proc_cwd.c — paths to this process's files in /proc that are relative to a working
 * directory inside it (cd /proc/self; cat status; ls fd), that go through ".." after the
 * cwd and fd/N links (whose ".." is the target's parent, not /proc/self's), and
 * access(2)/faccessat(2)/faccessat2 of /proc/self/… paths: each must answer for this
 * program. It prints what it found; natively and under golos the output is the same.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ename.h"

/* threads prints the Threads: line of the status file at path (relative or not). */
static void threads(const char *how, const char *path)
{
	char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("%s: open %s\n", how, ename(errno));
		return;
	}
	long n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = 0;
	char *t = strstr(buf, "Threads:");
	char *e = t ? strchr(t, '\n') : NULL;
	if (e)
		*e = 0;
	printf("%s: %s\n", how, t ? t : "no Threads line");
}

/* fds counts the entries of the directory at path that name descriptors. */
static void fds(const char *how, const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		printf("%s: opendir %s\n", how, ename(errno));
		return;
	}
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	printf("%s: %d entries\n", how, n);
}

/* exe says whether the link at path (relative or not) is the program's /proc/self/exe. */
static void exe(const char *how, const char *path)
{
	char a[4096], b[4096];
	ssize_t an = readlink("/proc/self/exe", a, sizeof a);
	ssize_t bn = readlink(path, b, sizeof b);
	struct stat sa, sb;
	int st = stat("/proc/self/exe", &sa) == 0 && stat(path, &sb) == 0 && sa.st_ino == sb.st_ino;
	printf("%s: readlink %s, stat %s\n", how,
	       bn < 0 ? ename(errno) : an == bn && memcmp(a, b, an) == 0 ? "same" : "DIFFERENT",
	       st ? "same" : "DIFFERENT");
}

/* access_fds counts the descriptors 3..1023 that access(2) and friends find through
 * path format fmt (with %d for the descriptor) beyond the ones this program has open. */
static void access_fds(const char *how, int dirfd, const char *fmt, int flavour)
{
	int n = 0;
	for (int fd = 3; fd < 1024; fd++) {
		char p[64];
		snprintf(p, sizeof p, fmt, fd);
		int r;
		switch (flavour) {
		case 0:
			r = access(p, F_OK);
			break;
		case 1:
			r = faccessat(dirfd, p, F_OK, 0);
			break;
		default:
			r = syscall(SYS_faccessat2, dirfd, p, F_OK, AT_SYMLINK_NOFOLLOW);
		}
		n += r == 0;
	}
	printf("%s: %d descriptors\n", how, n);
}

int main(void)
{
	char tid[32], p[256];
	snprintf(tid, sizeof tid, "%ld", (long)syscall(SYS_gettid));

	/* 1. access(2) and friends of /proc/self/… paths answer for the program. */
	printf("access /proc/self/exe X_OK: %s\n", access("/proc/self/exe", X_OK) == 0 ? "ok" : ename(errno));
	access_fds("access /proc/self/fd/N", AT_FDCWD, "/proc/self/fd/%d", 0);
	access_fds("faccessat /proc/self/fdinfo/N", AT_FDCWD, "/proc/self/fdinfo/%d", 1);
	access_fds("faccessat2 /proc/thread-self/fd/N", AT_FDCWD, "/proc/thread-self/fd/%d", 2);
	int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	access_fds("faccessat (fd of /proc) self/fd/N", proc, "self/fd/%d", 1);
	close(proc);
	snprintf(p, sizeof p, "/proc/self/task/%s", tid);
	printf("access own task: %s\n", access(p, F_OK) == 0 ? "ok" : ename(errno));
	int others = 0;
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	while (d && (e = readdir(d)))
		others += e->d_name[0] != '.' && strcmp(e->d_name, tid) != 0;
	if (d)
		closedir(d);
	printf("other tasks listed: %d\n", others);

	/* 2. ".." after the cwd and fd/N links is the target's parent. */
	mkdir("sub", 0755);
	mkdir("sub/inner", 0755);
	close(open("sub/marker", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	chdir("sub/inner");
	struct stat st;
	printf("/proc/self/cwd/../marker: %s\n", stat("/proc/self/cwd/../marker", &st) == 0 ? "found" : ename(errno));
	int in = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(p, sizeof p, "/proc/self/fd/%d/../marker", in);
	printf("/proc/self/fd/N/../marker: %s\n", stat(p, &st) == 0 ? "found" : ename(errno));
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	printf("open /proc/self/fd/N/../marker: %s\n", fd >= 0 ? "ok" : ename(errno));
	if (fd >= 0)
		close(fd);
	snprintf(p, sizeof p, "/proc/self/fd/%d/..", in);
	printf("access /proc/self/fd/N/..: %s\n", access(p, W_OK) == 0 ? "ok" : ename(errno));
	close(in);
	chdir("../..");

	/* 3. A working directory inside /proc: paths relative to it are the program's. */
	threads("/proc/self/status", "/proc/self/status");
	if (chdir("/proc/self") != 0)
		printf("chdir /proc/self: %s\n", ename(errno));
	threads("cwd /proc/self: status", "status");
	threads("cwd /proc/self: ./status", "./status");
	fds("cwd /proc/self: fd", "fd");
	exe("cwd /proc/self: exe", "exe");
	exe("cwd /proc/self: ../self/exe", "../self/exe");
	access_fds("cwd /proc/self: access fd/N", AT_FDCWD, "fd/%d", 0);
	snprintf(p, sizeof p, "task/%s/status", tid);
	threads("cwd /proc/self: task/TID/status", p);
	if (chdir("fd") != 0)
		printf("chdir fd: %s\n", ename(errno));
	fds("cwd /proc/self/fd: .", ".");
	access_fds("cwd /proc/self/fd: access N", AT_FDCWD, "%d", 0);
	if (chdir("..") != 0)
		printf("chdir ..: %s\n", ename(errno));
	threads("cwd /proc/self/fd/..: status", "status");
	fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	fchdir(fd);
	close(fd);
	threads("fchdir /proc: self/status", "self/status");
	chdir("/");
	threads("cwd /: proc/self/status", "proc/self/status");
	fds("cwd /: proc/self/fd", "proc/self/fd");
	return 0;
}
