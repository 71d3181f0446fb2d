/*
 * files_poll.c — which descriptors are open, as poll(2), ppoll(2), select(2) and
 * pselect(2) see them.
 *
 * For every descriptor number below the soft RLIMIT_NOFILE (at most 4096) the program
 * asks, each on that one descriptor with no time to wait: poll(3) (p), poll through
 * syscall(2) (q: a site left to trap), ppoll(3) without a signal mask (P) and with one
 * (M), select(3) (s), select through syscall(2) (t), pselect(3) without a mask (S) and
 * with one (m). A closed descriptor gets POLLNVAL from the polls (poll(2)) and EBADF
 * from the selects (select(2)), except that select ignores the numbers at or above the
 * size of the process's descriptor table (fs/select.c, core_sys_select): those answer 0
 * (or EBADF, see selans).
 * Runs of numbers that answer alike are printed as one line. Then one poll of as many
 * descriptors as the limit lets it take at once (a negative one among them, which poll
 * ignores) prints its result and the numbers without POLLNVAL. Natively: the descriptors the
 * program inherited. Under golos: the same, never golos's own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAXFD 4096

static unsigned long set[MAXFD / (8 * sizeof(unsigned long))];

static void setonly(int fd)
{
	memset(set, 0, sizeof set);
	set[fd / (8 * sizeof(unsigned long))] = 1UL << (fd % (8 * sizeof(unsigned long)));
}

/* A poll's answer: 'c' for closed (POLLNVAL), the letter for open, '?' for a failure. */
static char pollans(int r, struct pollfd *p, char open)
{
	if (r < 0)
		return '?';
	return r == 1 && p->revents == POLLNVAL ? '-' : open;
}

/* table is the size of the descriptor table as the program started: 64 entries, or the
 * power of two above its highest descriptor (fs/file.c). */
static int table = 64;

/* A select's answer: '-' for EBADF, the letter for any count, '?' for another failure.
 * A number at or above the table's size may answer either way: Linux ignores it (a
 * count of 0), golos, which grows the table at its start (docs/design.md), says EBADF,
 * as Linux does below the table's size. */
static char selans(int r, int fd, char open)
{
	if (r < 0 && errno == EBADF && fd >= table)
		return open;
	if (r < 0)
		return errno == EBADF ? '-' : '?';
	return open;
}

static void answers(int fd, char *what)
{
	struct pollfd p;
	struct timespec zero = {0, 0};
	struct timeval tz;
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);

	p = (struct pollfd){fd, POLLIN, 0};
	what[0] = pollans(poll(&p, 1, 0), &p, 'p');
	p = (struct pollfd){fd, POLLIN, 0};
	what[1] = pollans(syscall(SYS_poll, &p, 1, 0), &p, 'q');
	p = (struct pollfd){fd, POLLIN, 0};
	what[2] = pollans(ppoll(&p, 1, &zero, NULL), &p, 'P');
	p = (struct pollfd){fd, POLLIN, 0};
	what[3] = pollans(ppoll(&p, 1, &zero, &mask), &p, 'M');
	setonly(fd);
	tz = (struct timeval){0, 0};
	what[4] = selans(select(fd + 1, (fd_set *)set, NULL, NULL, &tz), fd, 's');
	setonly(fd);
	tz = (struct timeval){0, 0};
	what[5] = selans(syscall(SYS_select, fd + 1, NULL, set, NULL, &tz), fd, 't');
	setonly(fd);
	what[6] = selans(pselect(fd + 1, NULL, NULL, (fd_set *)set, &zero, NULL), fd, 'S');
	setonly(fd);
	what[7] = selans(pselect(fd + 1, (fd_set *)set, NULL, NULL, &zero, &mask), fd, 'm');
	what[8] = 0;
}

int main(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return 1;
	int lim = rl.rlim_cur > MAXFD ? MAXFD : (int)rl.rlim_cur;
	for (int fd = 0; fd < lim; fd++)
		while (fcntl(fd, F_GETFD) != -1 && fd >= table)
			table *= 2;
	printf("soft limit %ld, asked %d\n", (long)rl.rlim_cur, lim);
	char prev[9] = "", cur[9];
	int from = 0;
	for (int fd = 0; fd <= lim; fd++) {
		if (fd < lim)
			answers(fd, cur);
		if (fd == lim || (fd > 0 && strcmp(cur, prev) != 0)) {
			printf("fd %d..%d: %s\n", from, fd - 1, prev);
			from = fd;
		}
		memcpy(prev, cur, sizeof cur);
	}

	/* Three times as many as the soft limit lets poll take (the third time from a
	 * rewritten site), then, under a limit of at most MAXFD, one more than that: EINVAL
	 * (poll(2)). */
	static struct pollfd all[MAXFD + 1];
	for (int round = 0; round < (lim == (int)rl.rlim_cur ? 4 : 3); round++) {
		int n = round < 3 ? lim : lim + 1;
		all[0] = (struct pollfd){-1, POLLIN, 0};
		for (int i = 1; i < n; i++)
			all[i] = (struct pollfd){i - 1, 0, 0};
		int r = poll(all, n, 0);
		printf("poll of %d: %d (%s), open:", n, r, r < 0 ? strerror(errno) : "ok");
		for (int i = 0; r >= 0 && i < n; i++)
			if (all[i].revents != POLLNVAL)
				printf(" %d:%#x", all[i].fd, all[i].revents);
		printf("\n");
	}
	return 0;
}
