/*
 * files_daemon.c — closes every descriptor as a daemon does, then carries on.
 *
 * usage: files_daemon REPORT [N]
 *
 * With N, the program first makes N open/close pairs on /dev/null (a daemon that has
 * been at work for a while), and N more after it closed everything, then sleeps 300 ms.
 * The program closes descriptors 0 to 1023, then 0 to sysconf(_SC_OPEN_MAX)-1 (65535 at
 * most), noting
 * which closes succeed; opens /dev/null three times (it gets 0, 1 and 2, as a daemon
 * wants); opens REPORT (O_CREAT|O_TRUNC); makes more descriptor syscalls (pipe2, dup,
 * dup2, fcntl F_DUPFD, eventfd2, memfd_create, /proc/self/maps, stat, read and write
 * through a pipe, close and open again); and writes a line per step to REPORT, since its
 * standard streams are /dev/null by then. It exits 0 when it got that far.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static char report[1 << 16];
static size_t rlen;

static void say(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(report + rlen, sizeof report - rlen, fmt, ap);
	va_end(ap);
	if (n > 0 && rlen + n < sizeof report)
		rlen += n;
}

/* closeall closes descriptors lo..hi-1 and reports those whose close succeeded. */
static void closeall(const char *what, int hi)
{
	char ok[4096] = "";
	size_t n = 0;
	int bad = 0, other = 0;
	for (int fd = 0; fd < hi; fd++) {
		if (syscall(SYS_close, fd) == 0)
			n += snprintf(ok + n, sizeof ok - n, " %d", fd);
		else if (errno == EBADF)
			bad++;
		else
			other++;
	}
	say("%s: closed:%s\n", what, n ? ok : " none");
	say("%s: other errors than EBADF: %d\n", what, other);
	(void)bad;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	long busy = argc > 2 ? atol(argv[2]) : 0;
	for (long i = 0; i < busy; i++)
		close(open("/dev/null", O_RDONLY));
	closeall("close 0..1023", 1024);
	/* Up to 65536 at most: golos puts its own descriptors below that, and a million closes
	 * would only make the test slow where the limit is that high. */
	long max = sysconf(_SC_OPEN_MAX);
	closeall("close 0..min(OPEN_MAX, 65536)-1", max > 65536 ? 65536 : (int)max);

	int a = open("/dev/null", O_RDWR), b = open("/dev/null", O_RDWR), c = open("/dev/null", O_RDWR);
	say("open /dev/null three times: %d %d %d\n", a, b, c);
	int rep = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (rep < 0)
		return 3;
	say("open the report: %d\n", rep);
	if (busy) {
		long ok = 0;
		for (long i = 0; i < busy; i++) {
			int fd = open("/dev/null", O_RDONLY);
			ok += fd >= 0 && close(fd) == 0;
		}
		struct timespec ts = {0, 300000000};
		nanosleep(&ts, NULL);
		say("%ld open/close pairs, then 300 ms of sleep: %ld\n", busy, ok);
	}

	int p[2];
	say("pipe2: %d", pipe2(p, O_CLOEXEC));
	say(" -> %d %d\n", p[0], p[1]);
	say("write to the pipe: %zd\n", write(p[1], "ping", 4));
	char buf[16] = "";
	say("read from the pipe: %zd \"%.4s\"\n", read(p[0], buf, sizeof buf), buf);
	say("dup(0): %d\n", dup(0));
	say("dup2(1, 100): %d\n", dup2(1, 100));
	say("fcntl(2, F_DUPFD, 50): %d\n", fcntl(2, F_DUPFD, 50));
	say("eventfd2: %ld\n", syscall(SYS_eventfd2, 0, 0));
	say("memfd_create: %ld\n", syscall(SYS_memfd_create, "files_daemon", 0));
	int maps = open("/proc/self/maps", O_RDONLY);
	ssize_t mn = maps >= 0 ? read(maps, buf, sizeof buf - 1) : -1;
	say("open /proc/self/maps: %d, reads a map: %s\n", maps, mn > 0 && memchr(buf, '-', mn) ? "yes" : "no");
	struct stat st;
	say("stat /dev/null: character device: %s\n", stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode) ? "yes" : "no");
	say("write to stdout (/dev/null): %zd\n", write(1, "discarded\n", 10));
	say("close 4 and 5: %d %d\n", close(p[0]), close(p[1]));
	say("open /dev/null again: %d\n", open("/dev/null", O_RDONLY));
	say("close 1000 (never opened): %d %s\n", close(1000), errno == EBADF ? "EBADF" : "?");
	say("done\n");
	if (write(rep, report, rlen) != (ssize_t)rlen)
		return 4;
	return 0;
}
