/*
 * proc_paths.c — every spelling of a path to this process's files in /proc reaches the
 * same file: "/proc//self/maps", "/proc/./self/maps", "/proc/self/./maps",
 * "/proc/self//exe", "/proc/thread-self/…", "/proc/PID/…", "/proc/self/task/TID/…",
 * "/proc/PID/task/TID/…", and paths relative to a descriptor of /proc or /proc/self.
 * For each it prints whether the content (maps, cmdline, status's Threads line), the link
 * (exe) or the file's identity (stat of exe) is that of the plain spelling. Then, for every
 * descriptor 3..1023, it counts those that answer through /proc (open, readlink, stat of
 * …/fd/N and …/fdinfo/N, by several spellings): natively the open ones, under golos the
 * same ones, never golos's own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char want[1 << 16], got[1 << 16];

static long slurp(int dirfd, const char *path, char *buf, long size)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	long n = 0, r;
	while (n < size && (r = read(fd, buf + n, size - n)) > 0)
		n += r;
	close(fd);
	return n;
}

static void threads_line(char *buf, long n)
{
	buf[n < (long)sizeof want ? n : (long)sizeof want - 1] = 0;
	char *t = strstr(buf, "Threads:");
	if (!t) {
		buf[0] = 0;
		return;
	}
	char *e = strchr(t, '\n');
	if (e)
		*e = 0;
	memmove(buf, t, strlen(t) + 1);
}

static const char *label; /* printed instead of the spelling when set (a pid in it) */

static void same(int dirfd, const char *spelling, const char *base)
{
	long wn = slurp(AT_FDCWD, base, want, sizeof want - 1);
	long gn = slurp(dirfd, spelling, got, sizeof got - 1);
	if (strstr(base, "status")) {
		threads_line(want, wn);
		threads_line(got, gn);
		wn = strlen(want);
		gn = gn < 0 ? gn : (long)strlen(got);
	}
	int eq = wn >= 0 && gn == wn && memcmp(want, got, wn) == 0;
	printf("%-40s %s\n", label ? label : spelling, eq ? "same" : gn < 0 ? strerror(-gn) : "DIFFERENT");
}

static void link_same(int dirfd, const char *spelling)
{
	char a[4096], b[4096];
	ssize_t an = readlink("/proc/self/exe", a, sizeof a);
	ssize_t bn = readlinkat(dirfd, spelling, b, sizeof b);
	struct stat sa, sb;
	int st = stat("/proc/self/exe", &sa) == 0 && fstatat(dirfd, spelling, &sb, 0) == 0 &&
		 sa.st_ino == sb.st_ino && sa.st_dev == sb.st_dev;
	printf("readlink %-31s %s, stat %s\n", label ? label : spelling,
	       bn < 0 ? strerror(errno) : an == bn && memcmp(a, b, an) == 0 ? "same" : "DIFFERENT",
	       st ? "same" : "DIFFERENT");
}

int main(void)
{
	char p[256];
	int pid = getpid(), tid = syscall(SYS_gettid);
	const char *files[] = {"maps", "cmdline", "status"};
	for (int i = 0; i < 3; i++) {
		const char *f = files[i];
		char base[64];
		snprintf(base, sizeof base, "/proc/self/%s", f);
		const char *fmts[] = {"/proc//self/%s", "/proc/./self/%s", "/proc/self/./%s", "/proc/self//%s",
				      "/proc/thread-self/%s", "/proc/self/../self/%s", "/proc/thread-self/../../../self/%s",
				      "/proc/self/%s/"};
		for (unsigned j = 0; j < sizeof fmts / sizeof *fmts; j++) {
			snprintf(p, sizeof p, fmts[j], f);
			same(AT_FDCWD, p, base);
		}
		snprintf(p, sizeof p, "/proc/%d/%s", pid, f);
		label = "/proc/PID/FILE";
		same(AT_FDCWD, p, base);
		snprintf(p, sizeof p, "/proc/self/task/%d/%s", tid, f);
		label = "/proc/self/task/TID/FILE";
		same(AT_FDCWD, p, base);
		snprintf(p, sizeof p, "/proc/%d/task/%d/%s", pid, tid, f);
		label = "/proc/PID/task/TID/FILE";
		same(AT_FDCWD, p, base);
		label = 0;
		int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int self = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		int selfpath = open("/proc//self/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		snprintf(p, sizeof p, "self/%s", f);
		same(proc, p, base);
		snprintf(p, sizeof p, "./self/./%s", f);
		same(proc, p, base);
		same(self, f, base);
		same(selfpath, f, base);
		close(proc);
		close(self);
		close(selfpath);
	}
	const char *exes[] = {"/proc/self//exe", "/proc/./self/exe", "/proc/thread-self/exe"};
	for (unsigned j = 0; j < sizeof exes / sizeof *exes; j++)
		link_same(AT_FDCWD, exes[j]);
	snprintf(p, sizeof p, "/proc/%d/task/%d/exe", pid, tid);
	label = "/proc/PID/task/TID/exe";
	link_same(AT_FDCWD, p);
	label = 0;
	int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	link_same(proc, "self/exe");
	close(proc);

	int answered = 0, fddir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (int fd = 3; fd < 1024; fd++) {
		const char *fmts[] = {"/proc/self/fd/%d", "/proc/self/task/%d/fd/%d", "/proc/%d/task/%d/fd/%d",
				      "/proc/%d/fd/%d", "/proc//thread-self/fdinfo/%d", "/proc/self/fd/./%d"};
		int n = 0;
		for (unsigned j = 0; j < sizeof fmts / sizeof *fmts; j++) {
			switch (j) {
			case 1:
				snprintf(p, sizeof p, fmts[j], tid, fd);
				break;
			case 2:
				snprintf(p, sizeof p, fmts[j], pid, tid, fd);
				break;
			case 3:
				snprintf(p, sizeof p, fmts[j], pid, fd);
				break;
			default:
				snprintf(p, sizeof p, fmts[j], fd);
			}
			int o = open(p, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
			if (o >= 0) {
				close(o);
			}
			/* a descriptor that exists but cannot be opened (a socket) answers otherwise */
			n += o >= 0 || errno != ENOENT;
			char l[256];
			struct stat st;
			n += readlink(p, l, sizeof l) >= 0 || errno != ENOENT;
			n += lstat(p, &st) == 0 || errno != ENOENT;
		}
		char name[16];
		snprintf(name, sizeof name, "%d", fd);
		struct stat st;
		n += fstatat(fddir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 || errno != ENOENT;
		if (n)
			answered++;
	}
	close(fddir);
	printf("descriptors 3..1023 that answered through /proc: %d\n", answered);
	return 0;
}
