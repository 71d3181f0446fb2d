/*
 * hostile_sockrace.c — changes a socket address while golos looks at it.
 *
 * usage: hostile_sockrace STREAM-PATH DGRAM-PATH N
 *
 * A second thread keeps swapping one struct sockaddr_un between an abstract name (which
 * golos leaves to the host as it is) and STREAM-PATH or DGRAM-PATH, host sockets outside
 * the root when the program runs in one, while the main thread makes N connect(2)s of new
 * stream sockets, then N sendto(2)s and N sendmsg(2)s of datagrams, with that address. It
 * prints how many succeeded; the test counts what the host sockets received. Natively,
 * on the host, some reach them (the attack aims right); in a root, none may.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct sockaddr_un sa;
static const char *target;
static volatile int stop;
static socklen_t len;

static void *flipper(void *arg)
{
	(void)arg;
	while (!stop) {
		memset(sa.sun_path, 0, sizeof sa.sun_path);
		strcpy(sa.sun_path + 1, "golos-hostile-sockrace-none");
		strcpy(sa.sun_path, target);
	}
	return NULL;
}

static void start(const char *path)
{
	target = path;
	sa.sun_family = AF_UNIX;
	len = sizeof sa;
	stop = 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc != 4) {
		fprintf(stderr, "usage: %s STREAM-PATH DGRAM-PATH N\n", argv[0]);
		return 2;
	}
	int n = atoi(argv[3]);
	pthread_t th;

	start(argv[1]);
	pthread_create(&th, NULL, flipper, NULL);
	int connected = 0;
	for (int i = 0; i < n; i++) {
		int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		connected += connect(s, (struct sockaddr *)&sa, len) == 0;
		close(s);
	}
	stop = 1;
	pthread_join(th, NULL);

	start(argv[2]);
	pthread_create(&th, NULL, flipper, NULL);
	int sent = 0, s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	for (int i = 0; i < n; i++) {
		sent += sendto(s, "x", 1, MSG_DONTWAIT, (struct sockaddr *)&sa, len) == 1;
		struct iovec iov = {"y", 1};
		struct msghdr m = {.msg_name = &sa, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1};
		sent += sendmsg(s, &m, MSG_DONTWAIT) == 1;
	}
	stop = 1;
	pthread_join(th, NULL);
	close(s);
	printf("connected %s, sent %s\n", connected ? "some" : "none", sent ? "some" : "none");
	return 0;
}
