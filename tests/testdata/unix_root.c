/*
 * unix_root.c — unix domain sockets at paths, in a root: unix_root NAME OUTSIDE [ro]
 *
 * Binds a stream socket at /tmp/NAME, connects to it from a forked child, which sends a
 * message and reports its getpeername (the child's socket bound at /tmp/NAME.c, which
 * accept(2) returns); binds a datagram socket at NAME relative to /tmp
 * and sends to it with sendto(2) (relative and absolute spellings), sendmsg(2) and
 * sendmmsg(2) from a socket bound at /tmp/NAME.e, whose address recvfrom(2), recvmsg(2)
 * and recvmmsg(2) (for each message) return; connects through a symlink; binds again (EADDRINUSE); connects to a path
 * that does not exist, to OUTSIDE (a socket that exists only outside the root) and to a
 * symlink to it; binds and connects at a long path; an abstract address and an unnamed
 * (autobound) one pass as they are. The files stay for the test to find on the host
 * side. With "ro" (the root read-only, /tmp a writable volume): binding at /NAME fails
 * with EROFS, and at /tmp/NAME succeeds.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ename.h"

static socklen_t mkaddr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	strncpy(a->sun_path, path, sizeof a->sun_path - 1);
	return offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1;
}

static const char *res(int r)
{
	static char buf[64];
	if (r >= 0)
		return "ok";
	snprintf(buf, sizeof buf, "%s", ename(errno));
	return buf;
}

static void name(const char *what, int fd, int peer)
{
	struct sockaddr_un a;
	socklen_t l = sizeof a;
	memset(&a, 0, sizeof a);
	int r = peer ? getpeername(fd, (struct sockaddr *)&a, &l) : getsockname(fd, (struct sockaddr *)&a, &l);
	if (r < 0) {
		printf("%s: %s\n", what, ename(errno));
		return;
	}
	if (l <= offsetof(struct sockaddr_un, sun_path))
		printf("%s: unnamed (len %u)\n", what, (unsigned)l);
	else if (a.sun_path[0] == 0)
		printf("%s: abstract\n", what);
	else
		printf("%s: %s (len %u)\n", what, a.sun_path, (unsigned)l);
}

static void connect_to(const char *what, const char *path)
{
	struct sockaddr_un a;
	socklen_t l = mkaddr(&a, path);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("%s: %s\n", what, res(connect(c, (struct sockaddr *)&a, l)));
	close(c);
}

static int ro(const char *n)
{
	char p[256];
	struct sockaddr_un a;
	snprintf(p, sizeof p, "/%s", n);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("bind /NAME: %s\n", res(bind(s, (struct sockaddr *)&a, mkaddr(&a, p))));
	close(s);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("bind /etc (exists): %s\n", res(bind(s, (struct sockaddr *)&a, mkaddr(&a, "/etc"))));
	close(s);
	snprintf(p, sizeof p, "/tmp/%s", n);
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("bind /tmp/NAME: %s\n", res(bind(s, (struct sockaddr *)&a, mkaddr(&a, p))));
	listen(s, 1);
	connect_to("connect /tmp/NAME", p);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	const char *n = argv[1], *outside = argv[2];
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 3 && strcmp(argv[3], "ro") == 0)
		return ro(n);
	char abs[256], rel[256], lnk[256];
	struct sockaddr_un a;
	socklen_t l;

	/* A stream socket at /tmp/NAME, and a forked child connecting to it. */
	snprintf(abs, sizeof abs, "/tmp/%s", n);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	l = mkaddr(&a, abs);
	printf("bind /tmp/NAME: %s\n", res(bind(s, (struct sockaddr *)&a, l)));
	printf("listen: %s\n", res(listen(s, 4)));
	name("getsockname", s, 0);
	pid_t pid = fork();
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un ca;
		char cp[256];
		snprintf(cp, sizeof cp, "/tmp/%s.c", n);
		if (bind(c, (struct sockaddr *)&ca, mkaddr(&ca, cp)) < 0)
			_exit(9);
		if (connect(c, (struct sockaddr *)&a, l) < 0)
			_exit(10);
		struct sockaddr_un p;
		socklen_t pl = sizeof p;
		memset(&p, 0, sizeof p);
		if (getpeername(c, (struct sockaddr *)&p, &pl) < 0)
			_exit(11);
		char msg[200];
		snprintf(msg, sizeof msg, "hello from the child; its peer is %s", p.sun_path);
		write(c, msg, strlen(msg));
		_exit(0);
	}
	struct sockaddr_un pa;
	socklen_t pal = sizeof pa;
	memset(&pa, 0, sizeof pa);
	int acc = accept(s, (struct sockaddr *)&pa, &pal);
	char buf[256];
	ssize_t k = acc >= 0 ? read(acc, buf, sizeof buf - 1) : -1;
	buf[k > 0 ? k : 0] = 0;
	printf("accepted: %s, read: %s\n", res(acc), buf);
	printf("accept's peer: %s (len %u)\n", pa.sun_path, (unsigned)pal);
	name("accepted getsockname", acc, 0);
	name("accepted getpeername", acc, 1);
	int st;
	waitpid(pid, &st, 0);
	printf("child: exit %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	close(acc);

	/* Connect through a symlink, and bind where a socket is. */
	snprintf(lnk, sizeof lnk, "/tmp/%s.lnk", n);
	symlink(abs, lnk);
	connect_to("connect via symlink", lnk);
	int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("bind again: %s\n", res(bind(s2, (struct sockaddr *)&a, l)));
	close(s2);
	struct stat sb;
	printf("stat /tmp/NAME: %s%s\n", res(stat(abs, &sb)), S_ISSOCK(sb.st_mode) ? ", a socket" : "");

	/* Paths that are not there, and one outside the root. */
	connect_to("connect /tmp/none", "/tmp/none");
	connect_to("connect OUTSIDE", outside);
	snprintf(lnk, sizeof lnk, "/tmp/%s.out", n);
	symlink(outside, lnk);
	connect_to("connect symlink to OUTSIDE", lnk);

	/* Datagrams, at NAME.d relative to /tmp. */
	chdir("/tmp");
	snprintf(rel, sizeof rel, "%s.d", n);
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	l = mkaddr(&a, rel);
	printf("bind NAME.d (relative): %s\n", res(bind(d, (struct sockaddr *)&a, l)));
	name("getsockname dgram", d, 0);
	int e = socket(AF_UNIX, SOCK_DGRAM, 0);
	struct sockaddr_un ea;
	snprintf(abs, sizeof abs, "/tmp/%s.e", n);
	printf("bind NAME.e: %s\n", res(bind(e, (struct sockaddr *)&ea, mkaddr(&ea, abs))));
	printf("sendto relative: %s\n", res(sendto(e, "one", 3, 0, (struct sockaddr *)&a, l)));
	snprintf(abs, sizeof abs, "/tmp/%s.d", n);
	l = mkaddr(&a, abs);
	printf("sendto absolute: %s\n", res(sendto(e, "two", 3, 0, (struct sockaddr *)&a, l)));
	struct iovec iov = {"three", 5};
	struct msghdr mh = {.msg_name = &a, .msg_namelen = l, .msg_iov = &iov, .msg_iovlen = 1};
	printf("sendmsg: %s\n", res(sendmsg(e, &mh, 0)));
	struct mmsghdr mm[2];
	struct iovec iov2[2] = {{"four", 4}, {"five", 4}};
	memset(mm, 0, sizeof mm);
	for (int i = 0; i < 2; i++)
		mm[i].msg_hdr = (struct msghdr){.msg_name = &a, .msg_namelen = l, .msg_iov = &iov2[i], .msg_iovlen = 1};
	int sent = sendmmsg(e, mm, 2, 0);
	printf("sendmmsg: %d, msg_len %u %u\n", sent, mm[0].msg_len, mm[1].msg_len);
	for (int i = 0; i < 5; i++) {
		struct sockaddr_un from;
		socklen_t fl = sizeof from;
		memset(&from, 0, sizeof from);
		if (i < 4) {
			k = recvfrom(d, buf, sizeof buf - 1, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		} else {
			struct iovec riov = {buf, sizeof buf - 1};
			struct msghdr rh = {.msg_name = &from, .msg_namelen = fl, .msg_iov = &riov, .msg_iovlen = 1};
			k = recvmsg(d, &rh, MSG_DONTWAIT);
			fl = rh.msg_namelen;
		}
		buf[k > 0 ? k : 0] = 0;
		printf("%s: %s %s, from %s (len %u)\n", i < 4 ? "recvfrom" : "recvmsg", res(k), buf, from.sun_path, (unsigned)fl);
	}
	/* Two more, received by one recvmmsg(2) into three headers: each sender's address. */
	struct iovec iov3[2] = {{"six", 3}, {"seven", 5}};
	for (int i = 0; i < 2; i++)
		mm[i].msg_hdr = (struct msghdr){.msg_name = &a, .msg_namelen = l, .msg_iov = &iov3[i], .msg_iovlen = 1};
	printf("sendmmsg again: %d\n", sendmmsg(e, mm, 2, 0));
	struct mmsghdr rm[3];
	struct sockaddr_un froms[3];
	char bufs[3][16];
	struct iovec riovs[3];
	memset(rm, 0, sizeof rm);
	memset(froms, 0, sizeof froms);
	memset(bufs, 0, sizeof bufs);
	for (int i = 0; i < 3; i++) {
		riovs[i] = (struct iovec){bufs[i], sizeof bufs[i] - 1};
		rm[i].msg_hdr = (struct msghdr){.msg_name = &froms[i], .msg_namelen = sizeof froms[i], .msg_iov = &riovs[i], .msg_iovlen = 1};
	}
	k = recvmmsg(d, rm, 3, MSG_DONTWAIT, NULL);
	printf("recvmmsg: %d %s\n", k, res(k));
	for (int i = 0; i < k; i++)
		printf("recvmmsg %d: %s, from %s (len %u)\n", i, bufs[i], froms[i].sun_path, (unsigned)rm[i].msg_hdr.msg_namelen);
	l = mkaddr(&a, "/tmp/none.d");
	printf("sendto none: %s\n", res(sendto(e, "x", 1, 0, (struct sockaddr *)&a, l)));
	mh.msg_name = &a;
	mh.msg_namelen = l;
	printf("sendmsg none: %s\n", res(sendmsg(e, &mh, 0)));

	/* A long path: the host's may not fit in sun_path. */
	char dir[256];
	snprintf(dir, sizeof dir, "/tmp/%s.long-directory-name-to-make-the-host-path-too-long-for-sun-path", n);
	mkdir(dir, 0755);
	snprintf(abs, sizeof abs, "%.200s/sock", dir);
	if (strlen(abs) >= sizeof a.sun_path) {
		printf("long path: too long for the test\n");
		return 1;
	}
	int ls = socket(AF_UNIX, SOCK_STREAM, 0);
	l = mkaddr(&a, abs);
	printf("bind long: %s\n", res(bind(ls, (struct sockaddr *)&a, l)));
	listen(ls, 1);
	connect_to("connect long", abs);
	printf("stat long: %s%s\n", res(stat(abs, &sb)), S_ISSOCK(sb.st_mode) ? ", a socket" : "");

	/* Abstract and unnamed addresses. */
	int as = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&a, 0, sizeof a);
	a.sun_family = AF_UNIX;
	int al = snprintf(a.sun_path + 1, sizeof a.sun_path - 1, "golos-unix-root-%d", (int)getpid()) + 1;
	l = offsetof(struct sockaddr_un, sun_path) + al;
	printf("bind abstract: %s\n", res(bind(as, (struct sockaddr *)&a, l)));
	listen(as, 1);
	name("getsockname abstract", as, 0);
	int ac = socket(AF_UNIX, SOCK_STREAM, 0);
	printf("connect abstract: %s\n", res(connect(ac, (struct sockaddr *)&a, l)));
	int un = socket(AF_UNIX, SOCK_DGRAM, 0);
	printf("autobind: %s\n", res(bind(un, (struct sockaddr *)&a, sizeof(sa_family_t))));
	name("getsockname autobind", un, 0);
	return 0;
}
