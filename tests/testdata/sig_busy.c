/*
 * sig_busy.c — a signal for a thread that never makes a syscall.
 *
 * 1. A thread spins on a volatile counter until a flag is set; the main thread sends it
 *    SIGUSR1 with pthread_kill, and the handler, which must run in that thread, sets the
 *    flag. 5 rounds.
 * 2. The same with a process-directed kill() while the main thread blocks SIGUSR1, so
 *    only the spinning thread can take it.
 * 3. The main thread spins and another thread sends it a signal.
 * Each must finish promptly: a 10 s alarm (SIGALRM's default action, status 142) is the
 * failsafe. The output holds no counts or times.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static volatile unsigned long counter;
static volatile int started;
static volatile pid_t spinner_tid, handler_tid;
static volatile int handled;

static void on_usr1(int sig)
{
	(void)sig;
	handler_tid = (pid_t)syscall(SYS_gettid);
	handled++;
	stop = 1;
}

static void *spin(void *arg)
{
	(void)arg;
	spinner_tid = (pid_t)syscall(SYS_gettid);
	started = 1;
	while (!stop)
		counter++;
	return NULL;
}

static void nap_ms(int ms)
{
	struct timespec ts = {0, ms * 1000L * 1000L};
	nanosleep(&ts, NULL);
}

static void wait_started(void)
{
	while (!started)
		nap_ms(1);
	unsigned long c = counter;
	while (counter == c) /* it is in the loop */
		nap_ms(1);
	nap_ms(20);
}

static int failures;

static void round_result(const char *what, int r, int ok)
{
	printf("%s, round %d: handler ran %d time(s), in the spinning thread: %s, loop stopped: yes\n",
	       what, r, handled, ok ? "yes" : "no");
	if (!ok || handled != 1)
		failures++;
}

static void *send_to_main(void *arg)
{
	pthread_t main_thread = *(pthread_t *)arg;
	while (!started)
		nap_ms(1);
	nap_ms(20);
	pthread_kill(main_thread, SIGUSR1);
	return NULL;
}

int main(void)
{
	alarm(10);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);

	/* 1. */
	for (int r = 1; r <= 5; r++) {
		stop = 0;
		started = 0;
		handled = 0;
		counter = 0;
		pthread_t th;
		pthread_create(&th, NULL, spin, NULL);
		wait_started();
		pthread_kill(th, SIGUSR1);
		pthread_join(th, NULL);
		round_result("pthread_kill to a spinning thread", r, handler_tid == spinner_tid);
	}

	/* 2. */
	{
		sigset_t s, old;
		sigemptyset(&s);
		sigaddset(&s, SIGUSR1);
		stop = 0;
		started = 0;
		handled = 0;
		pthread_t th;
		pthread_create(&th, NULL, spin, NULL); /* created with SIGUSR1 unblocked */
		pthread_sigmask(SIG_BLOCK, &s, &old);
		wait_started();
		kill(getpid(), SIGUSR1);
		pthread_join(th, NULL);
		round_result("kill() to the process, only the spinning thread unblocked", 1,
			     handler_tid == spinner_tid);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}

	/* 3. */
	{
		stop = 0;
		started = 0;
		handled = 0;
		pthread_t self = pthread_self(), th;
		pthread_create(&th, NULL, send_to_main, &self);
		pid_t me = (pid_t)syscall(SYS_gettid);
		started = 1;
		while (!stop)
			counter++;
		pthread_join(th, NULL);
		round_result("pthread_kill from a thread to the spinning main thread", 1, handler_tid == me);
	}

	printf("failures: %d\n", failures);
	return failures != 0;
}
