/*
 * sig_mask.c — blocked and pending signals.
 *
 * 1. SIGUSR1 blocked, raised: the handler does not run, sigpending() shows it; unblocked:
 *    the handler runs once, before sigprocmask() returns.
 * 2. SIGUSR1 raised twice while blocked is delivered once (standard signals do not queue).
 * 3. A real-time signal queued 3 times with sigqueue() while blocked is delivered 3 times,
 *    in order, with its values.
 * 4. Several blocked signals (SIGUSR2, a real-time one, SIGUSR1, raised in that order) are
 *    delivered lowest number first when unblocked together (the handler blocks all
 *    signals, so each runs to the end before the next).
 * 5. sigsuspend(): with SIGUSR1 pending and blocked, sigsuspend with an empty mask runs
 *    the handler and returns EINTR; the old mask is back afterwards. Then sigsuspend waits
 *    for a SIGUSR2 that another thread sends with kill() 100 ms later.
 * 6. sigwait(), sigwaitinfo() and sigtimedwait() take blocked pending signals without a
 *    handler; sigtimedwait with nothing pending times out (EAGAIN).
 * 7. SIGKILL and SIGSTOP cannot be blocked: blocking everything leaves them out.
 * 8. A process-directed signal (kill) goes to the one thread that does not block it.
 * 9. The mask is per thread and inherited by pthread_create.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void yesno(const char *what, int ok)
{
	printf("%s: %s\n", what, ok ? "yes" : "no");
	if (!ok)
		failures++;
}

static volatile int count[65];
static volatile int order[16], norder;
static volatile int values[16], nvalues;
static volatile pid_t handler_tid;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	count[sig]++;
	if (norder < 16)
		order[norder++] = sig;
	if (si->si_code == SI_QUEUE && nvalues < 16)
		values[nvalues++] = si->si_value.sival_int;
	handler_tid = (pid_t)syscall(SYS_gettid);
}

static void set_handler(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void block(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

static void unblock(int sig)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
}

static int is_pending(int sig)
{
	sigset_t s;
	sigpending(&s);
	return sigismember(&s, sig);
}

static int is_blocked(int sig)
{
	sigset_t s;
	sigprocmask(SIG_BLOCK, NULL, &s);
	return sigismember(&s, sig);
}

static void reset(void)
{
	memset((void *)count, 0, sizeof count);
	norder = nvalues = 0;
}

static void *send_later(void *arg)
{
	struct timespec ts = {0, 100 * 1000 * 1000};
	nanosleep(&ts, NULL);
	kill(getpid(), (int)(long)arg);
	return NULL;
}

/* 8. */
static volatile int taker_ready, taker_done;
static volatile pid_t taker_tid;

static void *taker(void *arg)
{
	(void)arg;
	unblock(SIGUSR2);
	taker_tid = (pid_t)syscall(SYS_gettid);
	taker_ready = 1;
	while (count[SIGUSR2] == 0) {
		struct timespec ts = {0, 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	taker_done = 1;
	return NULL;
}

/* 9. */
static void *report_mask(void *arg)
{
	(void)arg;
	int inherited = is_blocked(SIGUSR1) && !is_blocked(SIGUSR2);
	block(SIGUSR2); /* only this thread's mask */
	return (void *)(long)inherited;
}

int main(void)
{
	int rt = SIGRTMIN + 2;
	set_handler(SIGUSR1);
	set_handler(SIGUSR2);
	set_handler(rt);

	/* 1. */
	block(SIGUSR1);
	raise(SIGUSR1);
	yesno("blocked SIGUSR1 raised: handler did not run", count[SIGUSR1] == 0);
	yesno("sigpending shows SIGUSR1", is_pending(SIGUSR1));
	unblock(SIGUSR1);
	yesno("unblocked: handler ran once", count[SIGUSR1] == 1);
	yesno("no longer pending", !is_pending(SIGUSR1));

	/* 2. */
	reset();
	block(SIGUSR1);
	raise(SIGUSR1);
	raise(SIGUSR1);
	unblock(SIGUSR1);
	printf("SIGUSR1 raised twice while blocked: delivered %d time(s)\n", count[SIGUSR1]);
	if (count[SIGUSR1] != 1)
		failures++;

	/* 3. */
	reset();
	block(rt);
	for (int i = 1; i <= 3; i++) {
		union sigval v = {.sival_int = i * 11};
		if (sigqueue(getpid(), rt, v) != 0)
			printf("sigqueue: %s\n", strerror(errno));
	}
	yesno("real-time signal pending while blocked", is_pending(rt));
	unblock(rt);
	printf("SIGRTMIN+2 queued 3 times while blocked: delivered %d time(s), values", count[rt]);
	for (int i = 0; i < nvalues; i++)
		printf(" %d", values[i]);
	printf("\n");
	if (count[rt] != 3 || nvalues != 3 || values[0] != 11 || values[1] != 22 || values[2] != 33)
		failures++;

	/* 4. */
	reset();
	sigset_t three, old;
	sigemptyset(&three);
	sigaddset(&three, SIGUSR1);
	sigaddset(&three, SIGUSR2);
	sigaddset(&three, rt);
	sigprocmask(SIG_BLOCK, &three, &old);
	raise(SIGUSR2);
	raise(rt);
	raise(SIGUSR1);
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("pending SIGUSR2, SIGRTMIN+2, SIGUSR1 unblocked together: delivered in order");
	for (int i = 0; i < norder; i++)
		printf(" %s", order[i] == SIGUSR1 ? "SIGUSR1" : order[i] == SIGUSR2 ? "SIGUSR2" : order[i] == rt ? "SIGRTMIN+2" : "?");
	printf("\n");
	if (norder != 3 || order[0] != SIGUSR1 || order[1] != SIGUSR2 || order[2] != rt)
		failures++;

	/* 5. */
	reset();
	block(SIGUSR1);
	raise(SIGUSR1);
	sigset_t empty;
	sigemptyset(&empty);
	int r = sigsuspend(&empty);
	int e = errno;
	yesno("sigsuspend with SIGUSR1 pending: handler ran once", count[SIGUSR1] == 1);
	yesno("sigsuspend returned -1 EINTR", r == -1 && e == EINTR);
	yesno("SIGUSR1 blocked again after sigsuspend", is_blocked(SIGUSR1));
	unblock(SIGUSR1);

	reset();
	block(SIGUSR2);
	pthread_t th;
	pthread_create(&th, NULL, send_later, (void *)(long)SIGUSR2);
	/* the sending thread inherited the mask: the signal can only come here, in sigsuspend */
	r = sigsuspend(&empty);
	e = errno;
	pthread_join(th, NULL);
	yesno("sigsuspend woken by SIGUSR2 from another thread: handler ran once, EINTR",
	      count[SIGUSR2] == 1 && r == -1 && e == EINTR);
	unblock(SIGUSR2);

	/* 6. */
	reset();
	sigset_t w;
	sigemptyset(&w);
	sigaddset(&w, SIGUSR1);
	sigaddset(&w, rt);
	sigprocmask(SIG_BLOCK, &w, &old);
	raise(SIGUSR1);
	int got = 0;
	r = sigwait(&w, &got);
	yesno("sigwait took SIGUSR1 without running the handler", r == 0 && got == SIGUSR1 && count[SIGUSR1] == 0);
	union sigval v = {.sival_int = 4242};
	sigqueue(getpid(), rt, v);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	r = sigwaitinfo(&w, &si);
	yesno("sigwaitinfo took SIGRTMIN+2 with its value and SI_QUEUE",
	      r == rt && si.si_signo == rt && si.si_code == SI_QUEUE && si.si_value.sival_int == 4242 &&
		      si.si_pid == getpid() && count[rt] == 0);
	struct timespec ts = {0, 10 * 1000 * 1000};
	r = sigtimedwait(&w, &si, &ts);
	e = errno;
	yesno("sigtimedwait with nothing pending: -1 EAGAIN", r == -1 && e == EAGAIN);
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* 7. */
	sigset_t all, now;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	sigprocmask(SIG_BLOCK, NULL, &now);
	yesno("block everything: SIGKILL and SIGSTOP stay unblocked",
	      !sigismember(&now, SIGKILL) && !sigismember(&now, SIGSTOP) && sigismember(&now, SIGUSR1) &&
		      sigismember(&now, SIGRTMAX));
	sigprocmask(SIG_SETMASK, &old, NULL);

	/* 8. */
	reset();
	block(SIGUSR2);
	pthread_create(&th, NULL, taker, NULL);
	while (!taker_ready) {
		struct timespec t1 = {0, 1000 * 1000};
		nanosleep(&t1, NULL);
	}
	kill(getpid(), SIGUSR2);
	pthread_join(th, NULL);
	yesno("kill() to the process: the thread that does not block SIGUSR2 took it",
	      taker_done && count[SIGUSR2] == 1 && handler_tid == taker_tid);
	yesno("main thread: SIGUSR2 not pending", !is_pending(SIGUSR2));
	unblock(SIGUSR2);

	/* 9. */
	block(SIGUSR1);
	void *ret;
	pthread_create(&th, NULL, report_mask, NULL);
	pthread_join(th, &ret);
	yesno("a new thread inherits the creator's mask", ret == (void *)1);
	yesno("a thread's pthread_sigmask does not change the creator's", is_blocked(SIGUSR1) && !is_blocked(SIGUSR2));
	unblock(SIGUSR1);

	printf("failures: %d\n", failures);
	return failures != 0;
}
