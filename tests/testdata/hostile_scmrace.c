/*
 * hostile_scmrace.c — changes the descriptor an SCM_RIGHTS message carries while golos
 * looks at it.
 *
 * A second thread keeps rewriting the descriptor in one control buffer: the program's
 * own pipe, then a number it has not opened, the next one every N messages, up to its
 * soft RLIMIT_NOFILE (or 4200, above the descriptor tables golos grows for its own).
 * The main thread sends the messages with that buffer over a socketpair and receives
 * them; a received descriptor that is a copy of none the program had at the start or
 * opened (by device and inode) is one it never opened. Natively there are none: a
 * number that is not open fails with EBADF.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static union {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
} u;
static volatile int *slot;
static volatile int stop, cand;
static int mine, top, known[64], nknown;
static struct stat knownst[64];

static int is_known(int fd)
{
	for (int i = 0; i < nknown; i++)
		if (known[i] == fd)
			return 1;
	return 0;
}

static void *flipper(void *arg)
{
	(void)arg;
	while (!stop) {
		*slot = mine;
		*slot = cand;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	int n = argc > 1 ? atoi(argv[1]) : 10;
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	top = rl.rlim_cur > 4200 ? 4200 : (int)rl.rlim_cur;
	int p[2], sv[2];
	if (pipe2(p, O_CLOEXEC) != 0 || socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) != 0)
		return 1;
	for (int fd = 0; fd < top && nknown < 60; fd++)
		if (fcntl(fd, F_GETFD) >= 0 && fstat(fd, &knownst[nknown]) == 0)
			known[nknown++] = fd;
	mine = p[0];
	struct stat ms;
	fstat(mine, &ms);

	struct cmsghdr *c = (struct cmsghdr *)u.buf;
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	slot = (volatile int *)CMSG_DATA(c);
	*slot = mine;
	pthread_t th;
	pthread_create(&th, NULL, flipper, NULL);
	int sent = 0, foreign = 0;
	for (int i = 0; i < n * top; i++) {
		if (i % n == 0) {
			int c = i / n;
			while (c < top && is_known(c))
				c++;
			cand = c;
		}
		struct iovec iov = {"x", 1};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
		if (sendmsg(sv[0], &m, MSG_DONTWAIT) != 1)
			continue;
		sent++;
		char b;
		union {
			char buf[CMSG_SPACE(sizeof(int) * 4)];
			struct cmsghdr align;
		} r;
		struct msghdr rm = {.msg_iov = &(struct iovec){&b, 1}, .msg_iovlen = 1, .msg_control = r.buf, .msg_controllen = sizeof r.buf};
		if (recvmsg(sv[1], &rm, MSG_CMSG_CLOEXEC) != 1)
			continue;
		for (struct cmsghdr *rc = CMSG_FIRSTHDR(&rm); rc; rc = CMSG_NXTHDR(&rm, rc)) {
			if (rc->cmsg_level != SOL_SOCKET || rc->cmsg_type != SCM_RIGHTS)
				continue;
			int got;
			memcpy(&got, CMSG_DATA(rc), sizeof got);
			struct stat st;
			int had = 0;
			for (int k = 0; k < nknown && fstat(got, &st) == 0; k++)
				had |= st.st_dev == knownst[k].st_dev && st.st_ino == knownst[k].st_ino;
			if (fstat(got, &st) == 0 && !had) {
				if (!foreign)
					fprintf(stderr, "received a descriptor of mode %o that is none of the program's (sent as %d)\n", st.st_mode, cand);
				foreign++;
			}
			close(got);
		}
	}
	stop = 1;
	pthread_join(th, NULL);
	printf("sent some: %s; descriptors received that the program never had: %d\n", sent ? "yes" : "no", foreign);
	return 0;
}
