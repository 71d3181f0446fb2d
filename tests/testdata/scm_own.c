/*
 * scm_own.c — SCM_RIGHTS carries only the program's own descriptors.
 *
 * Over a datagram socket pair, for every descriptor 3..1023 the program sends it in an
 * SCM_RIGHTS control message with sendmsg, and in the second of two messages with
 * sendmmsg (the first carries stdin), receives what came and closes the descriptors that
 * arrived. It prints how many descriptors were sent: natively the open ones (the pair and
 * what the run inherited), under golos the same, never golos's own, which fail with EBADF
 * as closed ones do (sendmmsg then sends the first message alone).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void fill(struct msghdr *m, struct iovec *iov, char *ctl, int fd)
{
	memset(m, 0, sizeof *m);
	iov->iov_base = "x";
	iov->iov_len = 1;
	m->msg_iov = iov;
	m->msg_iovlen = 1;
	m->msg_control = ctl;
	m->msg_controllen = CMSG_SPACE(sizeof(int));
	struct cmsghdr *c = CMSG_FIRSTHDR(m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof fd);
}

static void drain(int s)
{
	for (;;) {
		char b[8], ctl[CMSG_SPACE(sizeof(int) * 4)];
		struct iovec iov = {b, sizeof b};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
		if (recvmsg(s, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0)
			return;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			int n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (int i = 0; i < n; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
				close(fd);
			}
		}
	}
}

int main(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		return 1;
	}
	int sent = 0, msent = 0, other = 0;
	for (int fd = 3; fd < 1024; fd++) {
		struct msghdr m;
		struct iovec iov;
		char ctl[CMSG_SPACE(sizeof(int))] __attribute__((aligned(8)));
		fill(&m, &iov, ctl, fd);
		if (sendmsg(sv[0], &m, 0) == 1)
			sent++;
		else if (errno != EBADF)
			other++;
		drain(sv[1]);

		struct mmsghdr mm[2];
		struct iovec iovs[2];
		char ctls[2][CMSG_SPACE(sizeof(int))] __attribute__((aligned(8)));
		fill(&mm[0].msg_hdr, &iovs[0], ctls[0], 0);
		fill(&mm[1].msg_hdr, &iovs[1], ctls[1], fd);
		int r = sendmmsg(sv[0], mm, 2, 0);
		if (r == 2)
			msent++;
		else if (r != 1)
			other++;
		drain(sv[1]);
	}
	printf("sendmsg sent %d, sendmmsg sent %d, other results %d\n", sent, msent, other);
	return 0;
}
