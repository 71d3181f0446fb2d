/*
 * files_proc.c — the /proc files that describe the process: its command line,
 * environment, executable and name.
 *
 * The program prints /proc/self/cmdline (and /proc/PID/cmdline, /proc/thread-self/cmdline)
 * split at its NULs, and whether it is argv; /proc/self/environ, whether it is envp, and
 * its FILES_PROC_* variables;
 * readlink /proc/self/exe, the first bytes read from /proc/self/exe, and whether it is
 * the file readlink names; /proc/self/comm, /proc/thread-self/comm, the name in
 * /proc/self/stat and /proc/self/status. Natively and under golos the output must be the
 * same: under golos they describe the application, not golos.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static char buf[1 << 20];

/* slurp reads a file into buf; its length, or -1. */
static ssize_t slurp(const char *p)
{
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = 0, r;
	while (n < (ssize_t)sizeof buf - 1 && (r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

/* same reports whether the NUL-separated list in buf[0:n] is exactly list. */
static int same(ssize_t n, char **list)
{
	ssize_t off = 0;
	for (int i = 0; list[i]; i++) {
		size_t l = strlen(list[i]) + 1;
		if (off + (ssize_t)l > n || memcmp(buf + off, list[i], l) != 0)
			return 0;
		off += l;
	}
	return off == n;
}

/* printable prints s with newlines and backslashes escaped. */
static void printable(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			fputs("\\n", stdout);
		else if (*s == '\\')
			fputs("\\\\", stdout);
		else
			putchar(*s);
	}
}

static void cmdline(const char *p, char **argv)
{
	ssize_t n = slurp(p);
	if (n < 0) {
		printf("%s: %s\n", p, strerror(errno));
		return;
	}
	printf("%s:", p);
	for (ssize_t off = 0; off < n; off += strlen(buf + off) + 1) {
		printf(" [");
		printable(buf + off);
		printf("]");
	}
	printf("\n%s is argv: %s\n", p, same(n, argv) ? "yes" : "no");
}

static void firstline(const char *what, const char *p)
{
	ssize_t n = slurp(p);
	if (n < 0) {
		printf("%s: %s\n", what, strerror(errno));
		return;
	}
	buf[strcspn(buf, "\n")] = 0;
	printf("%s: %s\n", what, buf);
}

int main(int argc, char **argv)
{
	(void)argc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	char p[64];
	cmdline("/proc/self/cmdline", argv);
	snprintf(p, sizeof p, "/proc/%d/cmdline", (int)getpid());
	printf("/proc/PID/cmdline is the same: ");
	ssize_t n = slurp(p);
	printf("%s\n", n >= 0 && same(n, argv) ? "yes" : "no");
	n = slurp("/proc/thread-self/cmdline");
	printf("/proc/thread-self/cmdline is the same: %s\n", n >= 0 && same(n, argv) ? "yes" : "no");

	n = slurp("/proc/self/environ");
	int count = 0;
	for (ssize_t off = 0; off < n; off += strlen(buf + off) + 1)
		count++;
	printf("/proc/self/environ: %d entries\n", count);
	printf("/proc/self/environ is envp: %s\n", n >= 0 && same(n, environ) ? "yes" : "no");
	for (ssize_t off = 0; off < n; off += strlen(buf + off) + 1) {
		if (strncmp(buf + off, "FILES_PROC_", 11) != 0)
			continue; /* the test's own variables only */
		printf("environ: ");
		printable(buf + off);
		printf("\n");
	}

	char exe[4096];
	ssize_t el = readlink("/proc/self/exe", exe, sizeof exe - 1);
	exe[el > 0 ? el : 0] = 0;
	printf("readlink /proc/self/exe: %s\n", el > 0 ? exe : strerror(errno));
	int fd = open("/proc/self/exe", O_RDONLY);
	unsigned char head[4] = {0};
	if (fd < 0) {
		printf("open /proc/self/exe: %s\n", strerror(errno));
	} else {
		ssize_t r = read(fd, head, 4);
		printf("read /proc/self/exe: %zd bytes: %02x %02x %02x %02x\n", r, head[0], head[1], head[2], head[3]);
		struct stat a, b;
		printf("/proc/self/exe is the file readlink names: %s\n",
		       fstat(fd, &a) == 0 && stat(exe, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino ? "yes" : "no");
		close(fd);
	}
	/* stat(2), fstatat(2) and statx(2) that follow /proc/self/exe reach that file too. */
	struct stat s, target;
	int have = stat(exe, &target) == 0;
	printf("stat /proc/self/exe is that file: %s\n",
	       have && stat("/proc/self/exe", &s) == 0 && s.st_dev == target.st_dev && s.st_ino == target.st_ino ? "yes" : "no");
	printf("fstatat /proc/self/exe is that file: %s\n",
	       have && fstatat(AT_FDCWD, "/proc/self/exe", &s, 0) == 0 && s.st_dev == target.st_dev && s.st_ino == target.st_ino ? "yes" : "no");
	unsigned char stx[256]; /* struct statx: stx_ino at byte 32 */
	unsigned long long ino = 0;
	if (syscall(SYS_statx, AT_FDCWD, "/proc/self/exe", 0, 0x100 /* STATX_INO */, stx) == 0)
		memcpy(&ino, stx + 32, sizeof ino);
	printf("statx /proc/self/exe is that file: %s\n", have && ino == (unsigned long long)target.st_ino ? "yes" : "no");

	firstline("/proc/self/comm", "/proc/self/comm");
	firstline("/proc/thread-self/comm", "/proc/thread-self/comm");
	n = slurp("/proc/self/stat");
	char *l = strchr(buf, '('), *r = strrchr(buf, ')');
	if (n > 0 && l && r)
		printf("/proc/self/stat name: %.*s\n", (int)(r - l + 1), l);
	n = slurp("/proc/self/status");
	char *name = n > 0 ? strstr(buf, "Name:") : NULL;
	if (name) {
		name[strcspn(name, "\n")] = 0;
		printf("/proc/self/status %s\n", name);
	}
	return 0;
}
