/*
 * proctitle.c — a server renaming its process by writing over its argument strings, as
 * setproctitle does (redis's "redis-server *:6379", nginx's "nginx: worker process"),
 * and /proc/PID/cmdline and environ showing what is in that memory now.
 *
 * Linux reads /proc/PID/cmdline from the process's memory (fs/proc/base.c,
 * get_mm_cmdline): the argument strings as they are now, or, when the program has
 * overwritten their last NUL, the string that starts there up to the first NUL, which may
 * run on into the environment strings just above (get_mm_proctitle). /proc/PID/environ is
 * the environment strings' memory as it is now (environ_read).
 *
 * The program prints its own cmdline and a forked child's view of the parent's
 * (/proc/PPID/cmdline) and of its own, after each way of renaming: within the argument
 * strings, padded with NULs (redis); overflowing into the environment strings with no
 * NUL at the end of the arguments (nginx); and an environment string changed in place.
 * NULs are printed as '|', a run of N of them as |{N}.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* show prints file p, NULs as '|' and other bytes outside printable ASCII in hex. */
static void show(const char *what, const char *p)
{
	static char buf[1 << 16];
	int fd = open(p, O_RDONLY);
	if (fd < 0) {
		printf("%s: open failed\n", what);
		return;
	}
	ssize_t n = 0, r;
	while (n < (ssize_t)sizeof buf && (r = read(fd, buf + n, sizeof buf - n)) > 0)
		n += r;
	close(fd);
	printf("%s: %zd bytes: ", what, n);
	for (ssize_t i = 0; i < n; i++) {
		unsigned char c = buf[i];
		ssize_t run = 0;
		while (i + run < n && buf[i + run] == 0)
			run++;
		if (run > 3) { /* a run of NULs, as |{N} */
			printf("|{%zd}", run);
			i += run - 1;
		} else if (c == 0)
			putchar('|');
		else if (c < ' ' || c > '~')
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	putchar('\n');
	fflush(stdout);
}

/* both shows this process's cmdline, then a child's view of it and of its own. */
static void both(const char *step)
{
	char what[128];
	snprintf(what, sizeof what, "%s: self", step);
	show(what, "/proc/self/cmdline");
	pid_t pid = fork();
	if (pid == 0) {
		char p[64];
		snprintf(p, sizeof p, "/proc/%d/cmdline", (int)getppid());
		snprintf(what, sizeof what, "%s: parent seen by child", step);
		show(what, p);
		snprintf(what, sizeof what, "%s: child", step);
		show(what, "/proc/self/cmdline");
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: proctitle ARG ARG...\n");
		return 2;
	}
	/* The strings lie next to each other: the arguments, then the environment. */
	char *start = argv[0], *end = argv[argc - 1] + strlen(argv[argc - 1]) + 1;
	both("start");

	/* redis: the title in the argument strings, the rest of them NULs. */
	memset(start, 0, end - start);
	strcpy(start, "server *:6379");
	both("within");

	/* nginx: a title longer than the arguments, into the environment strings, whose
	 * values the program keeps elsewhere first. */
	char *envEnd = end;
	for (char **e = environ; *e; e++) {
		char *s = *e + strlen(*e) + 1;
		if (s > envEnd)
			envEnd = s;
	}
	if (environ[0] != end) {
		printf("environment not right after the arguments\n");
		return 1;
	}
	size_t room = envEnd - start, args = end - start;
	char title[] = "server: worker process ";
	if (room < args + 2) {
		printf("room %zu too small\n", room);
		return 1;
	}
	memset(start, 0, room);
	memcpy(start, title, sizeof title - 1);
	memset(start + sizeof title - 1, 'w', args - (sizeof title - 1));
	start[args] = '!'; /* the first byte of the environment strings */
	both("overflow");

	/* Only the last byte of the arguments: the title runs to the first NUL. */
	memset(start, 0, room);
	memset(start, 'x', end - start);
	both("no-nul");

	/* An environment string changed in place: environ shows it (the one variable). */
	memset(start, 0, room);
	strcpy(start, "a");
	strcpy(end, "PROCTITLE=changed");
	show("environ", "/proc/self/environ");
	return 0;
}
