/*
 * sig_fd — signalfd(2): the signals of a mask, blocked, read from a descriptor as
 * struct signalfd_siginfo records (by read, readv and preadv2); the descriptor polled,
 * selected, epolled, duplicated, inherited across fork; its mask changed; what Linux
 * refuses. Its output is compared
 * between a native run and a run under golos: no pid or time is printed, only whether it
 * is the one expected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/uio.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include "ename.h"

static void show(const char *name, long r)
{
	if (r == -1)
		printf("%s: -1 %s\n", name, ename(errno));
	else
		printf("%s: %ld\n", name, r);
}

static int readable(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};
	int n = poll(&p, 1, 0);
	return n == 1 && (p.revents & POLLIN);
}

/* take reads one record and prints its fields. */
static void take(const char *what, int fd)
{
	struct signalfd_siginfo si;
	memset(&si, 0xee, sizeof si);
	ssize_t n = read(fd, &si, sizeof si);
	if (n == -1) {
		printf("%s: read -1 %s\n", what, ename(errno));
		return;
	}
	printf("%s: read %zd signo %u errno %d code %d pid-self %d uid-self %d int %d ptr %llu\n",
	       what, n, si.ssi_signo, si.ssi_errno, si.ssi_code, si.ssi_pid == (unsigned)getpid(),
	       si.ssi_uid == (unsigned)getuid(), si.ssi_int, (unsigned long long)si.ssi_ptr);
}

static int pending(int sig)
{
	sigset_t s;
	sigpending(&s);
	return sigismember(&s, sig);
}

static volatile sig_atomic_t handled;
static void on_usr1(int sig) { (void)sig; handled++; }
static void on_alrm(int sig) { (void)sig; }

/* timer_ms arms ITIMER_REAL for ms, once, or every ms when repeat is set (0 disarms it). */
static void timer_ms(int ms, int repeat)
{
	struct itimerval it = {{0, repeat ? ms * 1000 : 0}, {0, ms * 1000}};
	setitimer(ITIMER_REAL, &it, NULL);
}

/* storm: two threads queue 500 real-time signals each, with their index as value, while
 * the main thread polls and reads them in batches: none lost, none twice. */
static int storm_fd;
static void *storm_sender(void *arg)
{
	(void)arg;
	union sigval v;
	for (int i = 0; i < 500; i++) {
		v.sival_int = i;
		while (sigqueue(getpid(), SIGRTMIN + 1, v) < 0)
			usleep(100); /* EAGAIN: the queue is full until the reader catches up */
	}
	return NULL;
}

static int storm(void)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &m, NULL);
	storm_fd = signalfd(-1, &m, 0);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, storm_sender, NULL);
	long sum = 0;
	int got = 0;
	struct signalfd_siginfo si[16];
	while (got < 1000) {
		struct pollfd p = {storm_fd, POLLIN, 0};
		poll(&p, 1, -1);
		ssize_t r = read(storm_fd, si, sizeof si);
		for (int i = 0; i < r / (ssize_t)sizeof si[0]; i++) {
			sum += si[i].ssi_int;
			got++;
		}
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	printf("storm: got %d sum %ld\n", got, sum);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	if (argc > 1 && strcmp(argv[1], "storm") == 0)
		return storm();
	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &block, NULL);
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);

	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGUSR1);
	int fd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
	printf("signalfd: %s\n", fd >= 0 ? "ok" : ename(errno));
	printf("cloexec %d nonblock %d\n", fcntl(fd, F_GETFD) & FD_CLOEXEC,
	       (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0);
	take("empty", fd);
	printf("readable empty: %d\n", readable(fd));

	kill(getpid(), SIGUSR1);
	printf("readable after kill: %d\n", readable(fd));
	char small[64];
	show("read short buffer", read(fd, small, sizeof small));
	take("kill", fd);
	printf("pending after read: %d readable %d\n", pending(SIGUSR1), readable(fd));

	union sigval v = {.sival_int = 1234};
	sigqueue(getpid(), SIGUSR1, v);
	take("sigqueue", fd);
	syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);
	take("tgkill", fd);

	/* Not delivered to the handler: read instead. */
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	sigprocmask(SIG_BLOCK, &block, NULL);
	printf("handler ran: %d\n", handled);

	/* A new mask: SIGUSR2, with SIGKILL and SIGSTOP, which are dropped. */
	sigaddset(&m, SIGKILL);
	sigaddset(&m, SIGSTOP);
	sigdelset(&m, SIGUSR1);
	sigaddset(&m, SIGUSR2);
	show("signalfd update", signalfd(fd, &m, 0) == fd);
	kill(getpid(), SIGUSR1);
	take("usr1 outside mask", fd);
	printf("usr1 pending %d readable %d\n", pending(SIGUSR1), readable(fd));
	raise(SIGUSR2);
	take("usr2", fd);
	sigaddset(&m, SIGUSR1);
	sigaddset(&m, SIGRTMIN);
	signalfd(fd, &m, 0);
	printf("readable with usr1 added: %d\n", readable(fd));
	raise(SIGUSR2);
	v.sival_int = 7;
	sigqueue(getpid(), SIGRTMIN, v);
	v.sival_int = 8;
	sigqueue(getpid(), SIGRTMIN, v);
	struct signalfd_siginfo many[8];
	ssize_t n = read(fd, many, sizeof many);
	printf("read many: %zd records\n", n / (ssize_t)sizeof many[0]);
	for (int i = 0; i < n / (ssize_t)sizeof many[0]; i++)
		printf("  signo %u code %d int %d\n", many[i].ssi_signo, many[i].ssi_code,
		       many[i].ssi_signo == (unsigned)SIGRTMIN ? many[i].ssi_int : 0);

	/* select and epoll. */
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 99}, out;
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	show("epoll_wait empty", epoll_wait(ep, &out, 1, 0));
	raise(SIGUSR2);
	n = epoll_wait(ep, &out, 1, 1000);
	printf("epoll_wait: %zd data %u\n", n, out.data.u32);
	fd_set rs;
	FD_ZERO(&rs);
	FD_SET(fd, &rs);
	struct timeval tv = {1, 0};
	printf("select: %d\n", select(fd + 1, &rs, NULL, NULL, &tv));
	take("after select", fd);
	show("epoll_wait drained", epoll_wait(ep, &out, 1, 0));

	/* A duplicate reads the same, after the original is closed. */
	int d = dup(fd);
	close(fd);
	raise(SIGUSR1);
	take("dup", d);
	show("write", write(d, "12345678", 8));
	char link[64], lpath[64];
	snprintf(lpath, sizeof lpath, "/proc/self/fd/%d", d);
	ssize_t ln = readlink(lpath, link, sizeof link - 1);
	printf("readlink: %.*s\n", (int)(ln > 0 ? ln : 0), link);

	/* readv spreads the records over its buffers as one stream; pread cannot seek. */
	raise(SIGUSR1);
	raise(SIGUSR2);
	char head[64];
	struct signalfd_siginfo two[2];
	memset(two, 0, sizeof two);
	struct iovec iov[3] = {{head, sizeof head}, {&two[0], sizeof two[0]}, {&two[1], sizeof two[1]}};
	n = readv(d, iov, 3);
	printf("readv: %zd first %u second %u\n", n, *(uint32_t *)head,
	       *(uint32_t *)((char *)&two[0] + 64));
	raise(SIGUSR1);
	show("pread", pread(d, two, sizeof two[0], 0));
	n = syscall(327 /* preadv2, which musl lacks */, d, iov + 1, 1, -1L, 0L, 0);
	printf("preadv2 at -1: %zd signo %u\n", n, two[0].ssi_signo);

	/* What Linux refuses. */
	int pfd[2];
	pipe(pfd);
	show("signalfd on a pipe", signalfd(pfd[0], &m, 0));
	show("signalfd bad flags", signalfd(-1, &m, 0x10));
	show("signalfd4 sizemask 4", syscall(SYS_signalfd4, -1, &m, 4, 0));
	show("signalfd bad fd", signalfd(77, &m, 0));
	show("signalfd bad mask", syscall(SYS_signalfd4, -1, (void *)8, 8, 0));
	int legacy = syscall(282, -1, &m, 8);
	printf("legacy signalfd: %s cloexec %d\n", legacy >= 0 ? "ok" : ename(errno),
	       legacy >= 0 ? fcntl(legacy, F_GETFD) & FD_CLOEXEC : -1);

	/* Blocking reads: one a timer's SIGALRM ends, one a handled signal interrupts. */
	sigset_t alrm;
	sigemptyset(&alrm);
	sigaddset(&alrm, SIGALRM);
	sigprocmask(SIG_BLOCK, &alrm, NULL);
	int bfd = signalfd(-1, &alrm, 0);
	timer_ms(50, 0);
	take("blocking alarm", bfd);
	sigprocmask(SIG_UNBLOCK, &alrm, NULL);
	struct sigaction sal = {0};
	sal.sa_handler = on_alrm;
	sigaction(SIGALRM, &sal, NULL);
	sigset_t u2;
	sigemptyset(&u2);
	sigaddset(&u2, SIGUSR2);
	signalfd(bfd, &u2, 0);
	/* Every 50 ms, so that one comes while the read waits even if the first came before
	 * it began (a loaded machine). */
	timer_ms(50, 1);
	take("blocking interrupted", bfd);
	timer_ms(0, 0);

	/* SIGCHLD of a child that exits 7; a fork's child reads its own signals. */
	sigset_t c;
	sigemptyset(&c);
	sigaddset(&c, SIGCHLD);
	signalfd(bfd, &c, 0);
	pid_t pid = fork();
	if (pid == 0) {
		kill(getpid(), SIGUSR1); /* pending in the child only */
		struct signalfd_siginfo s;
		ssize_t r = read(d, &s, sizeof s);
		_exit(r == sizeof s && s.ssi_signo == SIGUSR1 && s.ssi_pid == (unsigned)getpid() ? 7 : 3);
	}
	struct signalfd_siginfo s;
	do /* a last SIGALRM of the timer may still come */
		n = read(bfd, &s, sizeof s);
	while (n < 0 && errno == EINTR);
	printf("sigchld: read %zd signo %u code %d pid-child %d status %d\n", n, s.ssi_signo,
	       s.ssi_code, s.ssi_pid == (unsigned)pid, s.ssi_status);
	waitpid(pid, NULL, 0);
	take("parent after child", d);
	return 0;
}
