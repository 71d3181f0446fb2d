/* sendmsg + recvmsg of plain data (no control message), the calls a server makes for
 * every request: one round = a 64-byte sendmsg on one end of a socket and the recvmsg
 * that reads it on the other, on one thread, so the time is the two calls' own cost.
 * Usage: sendmsg [N [unix|udp]]; the default is an AF_UNIX datagram socketpair, "udp"
 * uses two UDP sockets on 127.0.0.1. Each message carries its round number, checked on
 * receipt, so a call that silently does nothing cannot pass. Prints ns per round. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

static int sock_pair(const char *kind, int sv[2])
{
	if (strcmp(kind, "unix") == 0)
		return socketpair(AF_UNIX, SOCK_DGRAM, 0, sv);
	if (strcmp(kind, "udp") != 0) {
		fprintf(stderr, "sendmsg: unknown socket kind %s (unix or udp)\n", kind);
		exit(2);
	}
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof a;
	sv[0] = socket(AF_INET, SOCK_DGRAM, 0);
	sv[1] = socket(AF_INET, SOCK_DGRAM, 0);
	if (sv[0] < 0 || sv[1] < 0 || bind(sv[1], (struct sockaddr *)&a, sizeof a) < 0 ||
	    getsockname(sv[1], (struct sockaddr *)&a, &len) < 0 ||
	    connect(sv[0], (struct sockaddr *)&a, sizeof a) < 0)
		return -1;
	return 0;
}

static int round_trip(int sv[2], long i)
{
	char out[64], in[64];
	memset(out, 'x', sizeof out);
	memcpy(out, &i, sizeof i);
	struct iovec oiov = {out, sizeof out}, iiov = {in, sizeof in};
	struct msghdr om = {.msg_iov = &oiov, .msg_iovlen = 1};
	struct msghdr im = {.msg_iov = &iiov, .msg_iovlen = 1};
	if (sendmsg(sv[0], &om, 0) != sizeof out) {
		perror("sendmsg: sendmsg");
		return -1;
	}
	ssize_t n = recvmsg(sv[1], &im, 0);
	if (n != sizeof in || memcmp(in, out, sizeof in) != 0) {
		fprintf(stderr, "sendmsg: round %ld: recvmsg returned %zd, or other bytes than sent\n", i, n);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = bench_iters(argc, argv);
	int sv[2];
	if (sock_pair(argc > 2 ? argv[2] : "unix", sv) < 0) {
		perror("sendmsg: socket");
		return 1;
	}
	/* Warm up untimed: the first calls rewrite their sites under golos. */
	for (long i = 0; i < n / 10 + 1; i++)
		if (round_trip(sv, i) < 0)
			return 1;
	double t0 = bench_now_ns();
	for (long i = 0; i < n; i++)
		if (round_trip(sv, i) < 0)
			return 1;
	double t1 = bench_now_ns();
	bench_report(t0, t1, n);
	return 0;
}
