/*
 * sendmsg_plain.c — socket calls with plain data, made often enough that golos rewrites
 * their sites and makes them itself in its entry code (a sendmsg without control data),
 * still behave as on Linux.
 *
 * Each check runs ROUNDS times through the same libc call sites, and prints one line
 * with what it saw in every round:
 *   - sendmsg/recvmsg, sendto/recvfrom of plain data over a datagram socket pair arrive
 *     whole (the round number in the payload);
 *   - a struct msghdr at an address that is not mapped, and one whose msg_controllen
 *     (at offset 40) lies on a page that cannot be read, fail with EFAULT;
 *   - plain data sent on every descriptor 3..1023: how many answer other than EBADF
 *     (natively the pair and what the run inherited; golos's own descriptors, as closed
 *     ones, give EBADF);
 *   - sendmsg of plain data on a stream socket whose peer is gone fails with EPIPE and
 *     raises SIGPIPE (send(2)); with MSG_NOSIGNAL sendmsg and send only fail;
 *   - an SCM_RIGHTS message after the plain ones still passes a descriptor of the
 *     program's (it goes through golos's check).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ROUNDS 5

static volatile sig_atomic_t sigpipes;

static void on_pipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static ssize_t send_plain(int fd, const void *buf, size_t len, int flags)
{
	struct iovec iov = {(void *)buf, len};
	struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
	return sendmsg(fd, &m, flags);
}

int main(void)
{
	signal(SIGPIPE, on_pipe);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv) < 0) {
		perror("socketpair");
		return 1;
	}
	long page = sysconf(_SC_PAGESIZE);
	char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* PROT_NONE rather than unmapped: under golos an unmapped page may become golos's
	 * own memory (README: adjacency), which the program could then read. */
	if (two == MAP_FAILED || mprotect(two + page, page, PROT_NONE) < 0) {
		perror("mmap");
		return 1;
	}
	/* msg_name .. msg_control readable, msg_controllen (bytes 40..47) not. */
	struct msghdr *edge = (struct msghdr *)(two + page - 40);
	memset(edge, 0, 40);

	for (int r = 0; r < ROUNDS; r++) {
		char out[32], in[32];
		snprintf(out, sizeof out, "round %d", r);
		ssize_t s = send_plain(sv[0], out, sizeof out, 0);
		struct iovec iov = {in, sizeof in};
		struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1};
		ssize_t g = recvmsg(sv[1], &m, 0);
		printf("round %d: sendmsg %zd recvmsg %zd %s", r, s, g, g == sizeof in && !memcmp(in, out, sizeof in) ? "same" : "DIFFERENT");

		s = sendto(sv[0], out, sizeof out, 0, NULL, 0);
		g = recvfrom(sv[1], in, sizeof in, 0, NULL, NULL);
		printf(", sendto %zd recvfrom %zd %s", s, g, g == sizeof in && !memcmp(in, out, sizeof in) ? "same" : "DIFFERENT");

		/* Through syscall(2): musl's sendmsg copies the header itself first. */
		errno = 0;
		s = syscall(SYS_sendmsg, sv[0], (struct msghdr *)8, 0);
		printf(", unmapped msghdr %zd %s", s, strerror(errno));
		errno = 0;
		s = syscall(SYS_sendmsg, sv[0], edge, 0);
		printf(", msg_controllen unmapped %zd %s", s, strerror(errno));

		int answered = 0, other = 0;
		for (int fd = 3; fd < 1024; fd++) {
			if (send_plain(fd, "x", 1, MSG_DONTWAIT) >= 0 || errno != EBADF)
				answered++;
		}
		char drain[8];
		while (recv(sv[1], drain, sizeof drain, MSG_DONTWAIT) >= 0)
			other++;
		printf(", descriptors not EBADF %d (%d sent to the pair)\n", answered, other);

		int st[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, st) < 0) {
			perror("socketpair");
			return 1;
		}
		close(st[1]);
		int before = sigpipes;
		errno = 0;
		s = send_plain(st[0], "x", 1, 0);
		printf("round %d: to a closed peer %zd %s, SIGPIPE %d", r, s, strerror(errno), sigpipes - before);
		before = sigpipes;
		errno = 0;
		s = send_plain(st[0], "x", 1, MSG_NOSIGNAL);
		printf(", with MSG_NOSIGNAL %zd %s, SIGPIPE %d", s, strerror(errno), sigpipes - before);
		before = sigpipes;
		errno = 0;
		s = send(st[0], "x", 1, MSG_NOSIGNAL);
		printf(", send with MSG_NOSIGNAL %zd %s, SIGPIPE %d", s, strerror(errno), sigpipes - before);
		close(st[0]);

		/* SCM_RIGHTS: stdout's descriptor arrives as a new one. */
		char ctl[CMSG_SPACE(sizeof(int))] __attribute__((aligned(8))) = {0};
		struct iovec civ = {"y", 1};
		struct msghdr cm = {.msg_iov = &civ, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof ctl};
		struct cmsghdr *c = CMSG_FIRSTHDR(&cm);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		int one = 1;
		memcpy(CMSG_DATA(c), &one, sizeof one);
		s = sendmsg(sv[0], &cm, 0);
		char rctl[CMSG_SPACE(sizeof(int))] __attribute__((aligned(8)));
		char b;
		struct iovec riv = {&b, 1};
		struct msghdr rm = {.msg_iov = &riv, .msg_iovlen = 1, .msg_control = rctl, .msg_controllen = sizeof rctl};
		g = recvmsg(sv[1], &rm, MSG_CMSG_CLOEXEC);
		struct cmsghdr *rc = CMSG_FIRSTHDR(&rm);
		int got = -1;
		if (g == 1 && rc && rc->cmsg_type == SCM_RIGHTS)
			memcpy(&got, CMSG_DATA(rc), sizeof got);
		printf(", SCM_RIGHTS %zd, a descriptor came %s\n", s, got >= 0 ? "yes" : "no");
		if (got >= 0)
			close(got);
	}
	return 0;
}
