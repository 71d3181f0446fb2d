/*
 * sig_wake.c — no lost wake-ups: a signal sent to a thread blocked in a blocking call, or
 * about to make one, runs its handler and ends or restarts the call as Linux does
 * (signal(7), "Interruption of system calls and library functions by signal handlers").
 *
 * A worker thread makes one blocking call after another: read from an empty pipe, write
 * to a full one, futex wait (without and with a timeout), epoll_wait, poll, ppoll, select,
 * nanosleep, clock_nanosleep, accept, recvmsg (without and with a socket timeout) and
 * sigsuspend. Just before each call it says so; the main thread then
 * waits a random while (nothing at all, a spin, a yield, up to 300 µs asleep) and sends
 * SIGUSR1, either with pthread_kill or from a one-shot POSIX timer (one whose signal is
 * the process's, which every other thread blocks, and one made for the worker with
 * SIGEV_THREAD_ID: signals that the kernel sends), and with the handler
 * installed with and without SA_RESTART. The handler makes the call able to complete (it
 * writes a byte to the pipe, drains the full one, wakes the futex, connects to the
 * listening socket…), so the result does not depend on when the signal came:
 *   - a call Linux restarts after an SA_RESTART handler (read, write, futex, accept,
 *     recvmsg) returns its success, never EINTR; without SA_RESTART it returns either its
 *     success (the signal came before the call) or EINTR;
 *   - poll, ppoll, select and epoll_wait, never restarted, return 1 or EINTR;
 *   - sigsuspend, which the worker enters with SIGUSR1 blocked, always returns EINTR;
 *   - nanosleep, clock_nanosleep, a futex wait with a timeout and recvmsg on a socket with
 *     a receive timeout (SO_RCVTIMEO) wait 10 s; the handler cannot end them, so while
 *     the call has not returned 20 ms after its handler ran (the signal came just before
 *     it), the main thread sends another, 100 times at most; the call must return EINTR,
 *     even after an SA_RESTART handler (signal(7): never restarted), and the sleeps a
 *     remaining time between 5 and 10 s (and the timer's slack).
 * Last, a signal that every thread blocks (SIGUSR2) is sent to the worker blocked in poll,
 * which must go on waiting for the byte the main thread writes a while later.
 * The main thread checks after each signal that the handler ran within 5 s (else the
 * signal's wake-up was lost: it says which call and exits 3) and that the call returned
 * within 5 s after it. Every signal sent runs the handler once, and the counts are
 * compared at the end. The output has no times and no counts that depend on timing.
 *
 * Usage: sig_wake [iterations per case, default 100] [pthread_kill|timer|"thread timer":
 * that sender only]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#ifndef FUTEX_WAIT_PRIVATE
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#endif

enum {
	C_READ,
	C_WRITE,
	C_FUTEX,
	C_FUTEX_TIMED,
	C_EPOLL,
	C_POLL,
	C_PPOLL,
	C_SELECT,
	C_NANOSLEEP,
	C_CLOCK_NANOSLEEP,
	C_ACCEPT,
	C_RECVMSG,
	C_RECVMSG_TIMED,
	C_SIGSUSPEND,
	C_BLOCKED,
	NCASES
};

static const char *const names[NCASES] = {
    "read", "write", "futex", "futex, timed", "epoll_wait", "poll", "ppoll", "select", "nanosleep",
    "clock_nanosleep", "accept", "recvmsg", "recvmsg, timed", "sigsuspend", "poll, blocked",
};

/* Calls Linux restarts after a handler with SA_RESTART. */
static int restartable(int c)
{
	return c == C_READ || c == C_WRITE || c == C_FUTEX || c == C_ACCEPT || c == C_RECVMSG;
}

/* Calls the handler cannot end: only EINTR does. */
static int sleeps(int c)
{
	return c == C_NANOSLEEP || c == C_CLOCK_NANOSLEEP || c == C_FUTEX_TIMED || c == C_RECVMSG_TIMED;
}

static int readp[2];  /* empty pipe: read, epoll_wait, poll, ppoll, select */
static int writep[2]; /* full pipe: write */
static int sp[2];     /* socketpair: recvmsg */
static int tsp[2];    /* socketpair with a receive timeout: recvmsg, timed */
static int lfd;       /* listening socket: accept */
static struct sockaddr_un laddr;
static socklen_t laddrlen;
static int epfd;
static unsigned fword;
static volatile int client = -1;
static char drain[1 << 17];

static volatile int cur;     /* the case being run */
static int gen;              /* bumped by the main thread to start the next case */
static int armed, returned;  /* iteration the worker is about to start / has ended */
static int finished;         /* iteration the main thread is done with */
static unsigned handled;     /* handler runs */
static pthread_t worker;
static int wtid; /* the worker's tid */
static int iters;

/* What the worker saw of one call. */
static long ret;
static int err;
static struct timespec rem;

static void on_usr1(int sig)
{
	int e = errno;
	(void)sig;
	switch (cur) {
	case C_READ:
	case C_EPOLL:
	case C_POLL:
	case C_PPOLL:
	case C_SELECT:
		if (write(readp[1], "x", 1) != 1)
			_exit(5);
		break;
	case C_WRITE:
		if (read(writep[0], drain, sizeof drain) <= 0)
			_exit(5);
		break;
	case C_FUTEX:
		__atomic_store_n(&fword, 1, __ATOMIC_SEQ_CST);
		syscall(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		break;
	case C_ACCEPT: {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		if (c < 0 || connect(c, (struct sockaddr *)&laddr, laddrlen) != 0)
			_exit(5);
		client = c;
		break;
	}
	case C_RECVMSG:
		if (write(sp[1], "x", 1) != 1)
			_exit(5);
		break;
	}
	__atomic_add_fetch(&handled, 1, __ATOMIC_SEQ_CST);
	errno = e;
}

/* Fills the write pipe until a one-byte write would block. */
static void fill(void)
{
	static char buf[4096];
	fcntl(writep[1], F_SETFL, O_NONBLOCK);
	while (write(writep[1], buf, sizeof buf) > 0)
		;
	while (write(writep[1], buf, 1) > 0)
		;
	fcntl(writep[1], F_SETFL, 0);
}

static void call(int c)
{
	char b;
	rem.tv_sec = -1;
	rem.tv_nsec = -1;
	switch (c) {
	case C_READ:
		ret = read(readp[0], &b, 1);
		break;
	case C_WRITE:
		ret = write(writep[1], "y", 1);
		break;
	case C_FUTEX:
		ret = syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
		break;
	case C_FUTEX_TIMED: {
		struct timespec ts = {10, 0};
		ret = syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
		break;
	}
	case C_EPOLL: {
		struct epoll_event ev;
		ret = epoll_wait(epfd, &ev, 1, -1);
		break;
	}
	case C_POLL:
	case C_BLOCKED: {
		struct pollfd p = {readp[0], POLLIN, 0};
		ret = poll(&p, 1, -1);
		break;
	}
	case C_PPOLL: {
		struct pollfd p = {readp[0], POLLIN, 0};
		ret = ppoll(&p, 1, NULL, NULL);
		break;
	}
	case C_SELECT: {
		fd_set r;
		FD_ZERO(&r);
		FD_SET(readp[0], &r);
		ret = select(readp[0] + 1, &r, NULL, NULL, NULL);
		break;
	}
	case C_NANOSLEEP: {
		struct timespec ts = {10, 0};
		ret = syscall(SYS_nanosleep, &ts, &rem);
		break;
	}
	case C_CLOCK_NANOSLEEP: {
		struct timespec ts = {10, 0};
		int e = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &rem);
		ret = e ? -1 : 0;
		errno = e;
		break;
	}
	case C_ACCEPT:
		ret = accept(lfd, NULL, NULL);
		break;
	case C_RECVMSG:
	case C_RECVMSG_TIMED: {
		struct iovec iov = {&b, 1};
		struct msghdr m;
		memset(&m, 0, sizeof m);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		ret = recvmsg(c == C_RECVMSG ? sp[0] : tsp[0], &m, 0);
		break;
	}
	case C_SIGSUSPEND: {
		sigset_t m; /* the thread's mask without SIGUSR1: SIGUSR2 stays blocked */
		pthread_sigmask(SIG_BLOCK, NULL, &m);
		sigdelset(&m, SIGUSR1);
		ret = sigsuspend(&m);
		break;
	}
	}
	err = ret < 0 ? errno : 0;
}

/* Brings the case's objects back to their waiting state after a call. */
static void reset(int c)
{
	char b;
	switch (c) {
	case C_READ:
	case C_EPOLL:
	case C_POLL:
	case C_PPOLL:
	case C_SELECT:
	case C_BLOCKED:
		/* the handler's byte: read already took it, or it is still there */
		if (!(c == C_READ && ret == 1) && read(readp[0], &b, 1) != 1)
			_exit(6);
		break;
	case C_WRITE:
		/* the handler drained the pipe; a write that succeeded put one byte in */
		if (read(writep[0], drain, sizeof drain) < 0 && ret == 1)
			_exit(6);
		break;
	case C_FUTEX:
	case C_FUTEX_TIMED:
		fword = 0;
		break;
	case C_ACCEPT:
		if (ret < 0)
			ret = accept(lfd, NULL, NULL); /* the handler's connection is queued */
		if (ret >= 0)
			close(ret);
		close(client);
		client = -1;
		break;
	case C_RECVMSG:
		if (ret != 1 && read(sp[0], &b, 1) != 1)
			_exit(6);
		break;
	}
}

/* The results Linux allows for case c; "" when r, e, rem are one of them. */
static const char *check(int c, int restart, long r, int e, const struct timespec *rm)
{
	static char why[160];
	int ok;
	switch (c) {
	case C_FUTEX:
		ok = r == 0 || (r < 0 && e == EAGAIN) || (r < 0 && e == EINTR && !restart);
		break;
	case C_FUTEX_TIMED:
	case C_RECVMSG_TIMED:
		ok = r == -1 && e == EINTR;
		break;
	case C_ACCEPT:
		ok = r >= 0 || (r < 0 && e == EINTR && !restart);
		break;
	case C_SIGSUSPEND:
		ok = r == -1 && e == EINTR;
		break;
	case C_BLOCKED: /* a blocked signal interrupts nothing */
		ok = r == 1;
		break;
	case C_NANOSLEEP:
	case C_CLOCK_NANOSLEEP:
		/* The remaining time may pass 10 s by the timer's slack (50 µs by default,
		 * prctl(2) PR_SET_TIMERSLACK): Linux counts it from the timer's expiry. */
		ok = r == -1 && e == EINTR && rm->tv_sec >= 5 && rm->tv_nsec >= 0 &&
		     rm->tv_nsec < 1000000000 && (rm->tv_sec < 10 || (rm->tv_sec == 10 && rm->tv_nsec < 1000000));
		break;
	default: /* one byte or one ready descriptor, or EINTR where allowed */
		ok = r == 1 || (r < 0 && e == EINTR && !(restart && restartable(c)));
		break;
	}
	if (ok)
		return "";
	snprintf(why, sizeof why, "returned %ld (%s), remaining %lld.%09ld", r, r < 0 ? strerror(e) : "-",
		 (long long)rm->tv_sec, rm->tv_nsec);
	return why;
}

static int load(int *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
static void store(int *p, int v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }

static void *work(void *arg)
{
	(void)arg;
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
	store(&wtid, (int)syscall(SYS_gettid));
	for (int seen = 0;; seen++) {
		while (load(&gen) == seen)
			sched_yield(); /* the next case */
		for (int i = 1; i <= iters; i++) {
			int c = cur;
			if (c == C_WRITE)
				fill();
			if (c == C_SIGSUSPEND)
				pthread_sigmask(SIG_BLOCK, &usr1, NULL);
			store(&armed, i);
			call(c);
			if (c == C_SIGSUSPEND)
				pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
			store(&returned, i);
			while (load(&finished) != i)
				sched_yield();
			reset(c);
			store(&finished, -i); /* reset done */
		}
	}
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long rnd_state = 12345;
static unsigned rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005UL + 1442695040888963407UL;
	return rnd_state >> 33;
}

/* Senders: pthread_kill, a timer whose signal is the process's (SIGEV_SIGNAL), a timer
 * whose signal goes to the worker (SIGEV_THREAD_ID). */
enum { BY_KILL, BY_TIMER, BY_THREAD_TIMER };
static const char *const senders[] = {"pthread_kill", "timer", "thread timer"};
static int by;
static int timers[3][2]; /* by sender: the kernel's ids of the SIGUSR1 and SIGUSR2 timers */
static unsigned sent;

/* The kernel's struct sigevent, with the thread id of SIGEV_THREAD_ID, which not every
 * libc names; the timers are the kernel's, made and armed with raw syscalls. */
struct ksigevent {
	union sigval value;
	int signo;
	int notify;
	int tid;
	int pad[11];
};

static void make_timer(int sender, int i, int signo)
{
	struct ksigevent ev;
	memset(&ev, 0, sizeof ev);
	ev.signo = signo;
	ev.notify = sender == BY_THREAD_TIMER ? 4 /* SIGEV_THREAD_ID */ : SIGEV_SIGNAL;
	ev.tid = sender == BY_THREAD_TIMER ? wtid : 0;
	if (syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &timers[sender][i]) != 0) {
		perror("timer_create");
		exit(1);
	}
}

static void arm(int i, long ns)
{
	struct itimerspec its = {{0, 0}, {0, ns}};
	if (syscall(SYS_timer_settime, timers[by][i], 0, &its, NULL) != 0) {
		perror("timer_settime");
		exit(1);
	}
}

/* Sends one SIGUSR1 to the worker after a random while. */
static void send_one(void)
{
	unsigned d = rnd();
	long ns = (d >> 2) % 300000;
	sent++;
	if (by != BY_KILL) {
		arm(0, (d & 3) == 0 ? 1 : ns + 1);
		return;
	}
	switch (d & 3) {
	case 0:
		break;
	case 1:
		for (volatile long k = ns / 100; k > 0; k--)
			;
		break;
	case 2:
		sched_yield();
		break;
	case 3: {
		struct timespec ts = {0, ns};
		nanosleep(&ts, NULL);
		break;
	}
	}
	pthread_kill(worker, SIGUSR1);
}

/* Sends SIGUSR2, which every thread blocks, to the worker blocked in poll, then after a
 * while writes the byte poll waits for. */
static void send_blocked(void)
{
	unsigned d = rnd();
	long ns = (d >> 2) % 300000;
	struct timespec ts = {0, ns};
	if (by != BY_KILL) {
		arm(1, ns + 1);
		ts.tv_nsec += 100000; /* after the timer's signal */
	} else {
		if (d & 1)
			nanosleep(&ts, NULL);
		pthread_kill(worker, SIGUSR2);
	}
	nanosleep(&ts, NULL);
	if (write(readp[1], "x", 1) != 1)
		exit(1);
}

/* Waits up to limit seconds for *p to reach v (or handled to reach sent when p is 0). */
static int wait_for(int *p, int v, double limit)
{
	double end = now() + limit;
	for (;;) {
		if (p ? load(p) == v : __atomic_load_n(&handled, __ATOMIC_SEQ_CST) == sent)
			return 1;
		if (now() > end)
			return 0;
		sched_yield();
	}
}

static int run_case(int c, int restart)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigaction(SIGUSR1, &sa, NULL);
	cur = c;
	store(&armed, 0);
	store(&finished, 0);
	store(&returned, 0);
	unsigned before = handled;
	sent = handled;
	int bad = 0;
	const char *mode = restart ? "SA_RESTART" : "no restart";
	const char *from = senders[by];
	store(&gen, load(&gen) + 1); /* let the worker start the case */
	for (int i = 1; i <= iters; i++) {
		if (!wait_for(&armed, i, 5)) {
			printf("%s %s %s: the worker did not reach call %d\n", names[c], mode, from, i);
			exit(3);
		}
		for (; c == C_BLOCKED;) {
			send_blocked();
			if (!wait_for(&returned, i, 5)) {
				printf("%s %s: call %d did not return within 5 s of its byte\n", names[c], from, i);
				exit(3);
			}
			break;
		}
		for (int tries = 1; c != C_BLOCKED; tries++) {
			send_one();
			if (!wait_for(NULL, 0, 5)) {
				printf("%s %s %s: LOST WAKE-UP: call %d: the handler did not run within 5 s of the signal\n",
				       names[c], mode, from, i);
				exit(3);
			}
			if (wait_for(&returned, i, sleeps(c) ? 0.02 : 5))
				break;
			if (!sleeps(c) || tries == 100) {
				printf("%s %s %s: call %d did not return %s\n", names[c], mode, from, i,
				       sleeps(c) ? "after 100 signals whose handlers ran" : "within 5 s after its handler ran");
				exit(3);
			}
		}
		const char *why = check(c, restart, ret, err, &rem);
		if (*why) {
			if (bad++ < 3)
				printf("%s %s %s: call %d %s\n", names[c], mode, from, i, why);
		}
		store(&finished, i);
		if (!wait_for(&finished, -i, 5)) {
			printf("%s %s %s: the worker did not finish call %d\n", names[c], mode, from, i);
			exit(3);
		}
	}
	unsigned got = __atomic_load_n(&handled, __ATOMIC_SEQ_CST) - before;
	if (got != sent - before) {
		printf("%s %s %s: %u signals sent, handler ran %u times\n", names[c], mode, from, sent - before, got);
		bad++;
	}
	printf("%-15s %-10s %-12s %s\n", names[c], mode, from, bad ? "FAILED" : "ok");
	return bad != 0;
}

int main(int argc, char **argv)
{
	iters = argc > 1 ? atoi(argv[1]) : 100;
	if (iters < 1)
		iters = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	sigset_t usr1;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* only the worker takes it */
	if (pipe(readp) || pipe(writep) || socketpair(AF_UNIX, SOCK_STREAM, 0, sp)) {
		perror("pipe");
		return 1;
	}
	struct timeval tv = {10, 0};
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, tsp) || setsockopt(tsp[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv)) {
		perror("socketpair");
		return 1;
	}
	fcntl(writep[0], F_SETFL, O_NONBLOCK); /* reset's drain finds it empty after EINTR */
	epfd = epoll_create1(0);
	struct epoll_event ev = {EPOLLIN, {0}};
	if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, readp[0], &ev) != 0) {
		perror("epoll");
		return 1;
	}
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	laddr.sun_family = AF_UNIX;
	/* an abstract name: nothing to clean up */
	int n = snprintf(laddr.sun_path + 1, sizeof laddr.sun_path - 1, "sig_wake.%d", (int)getpid());
	laddrlen = offsetof(struct sockaddr_un, sun_path) + 1 + n;
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&laddr, laddrlen) != 0 || listen(lfd, 4) != 0) {
		perror("listen");
		return 1;
	}
	sigaddset(&usr1, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &usr1, NULL); /* no thread takes SIGUSR2 */
	if (pthread_create(&worker, NULL, work, NULL) != 0) {
		perror("pthread_create");
		return 1;
	}
	while (!load(&wtid))
		sched_yield();
	/* The worker's timers first: their ids (0 and 1) come before the process's. */
	for (int sender = BY_THREAD_TIMER; sender >= BY_TIMER; sender--) {
		make_timer(sender, 0, SIGUSR1);
		make_timer(sender, 1, SIGUSR2);
	}
	int failed = 0;
	int from = BY_KILL, to = BY_THREAD_TIMER;
	for (int i = BY_KILL; argc > 2 && i <= BY_THREAD_TIMER; i++)
		if (strcmp(argv[2], senders[i]) == 0)
			from = to = i;
	for (by = from; by <= to; by++)
		for (int restart = 0; restart <= 1; restart++)
			for (int c = 0; c < NCASES; c++)
				failed += run_case(c, restart);
	printf("sig_wake: %d cases of %d calls: %s\n", (to - from + 1) * 2 * NCASES, iters,
	       failed ? "FAILED" : "all as Linux");
	return failed ? 1 : 0;
}
