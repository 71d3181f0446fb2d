/*
 * thr_futex.c — mutexes, condition variables and raw futexes under contention.
 *
 * 1. 8 threads each add 1 to a shared counter 20,000 times under one mutex.
 * 2. A condition-variable handoff: a token goes round 8 threads (thread i waits until
 *    turn == i, adds to the counter, passes the turn to i+1), 20,000 handoffs in all.
 * 3. A bounded queue (4 slots, two condition variables): 4 producers put 20,000 numbers
 *    each, 4 consumers take them and sum them.
 * 4. A priority-inheritance mutex (FUTEX_LOCK_PI: the futex word holds the owner's TID),
 *    8 threads × 5,000 increments, and pthread_mutex_timedlock timing out on a held mutex.
 * 5. Raw futex(2): FUTEX_WAIT on a changed value (EAGAIN), with a timeout (ETIMEDOUT),
 *    FUTEX_WAKE with no waiter (0), and a thread asleep in FUTEX_WAIT woken by FUTEX_WAKE.
 * Every total is known in advance; the exit status is 0 when all of them are right.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h>, which musl-gcc does not see */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

#define NTHREADS 8
#define INCREMENTS 20000
#define HANDOFFS 20000
#define ITEMS 20000
#define PI_INCREMENTS 5000

static int failures;

static void check(const char *what, long long got, long long want)
{
	printf("%s: %lld (%s)\n", what, got, got == want ? "ok" : "WRONG");
	if (got != want)
		failures++;
}

/* 1. plain mutex */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *incr(void *arg)
{
	(void)arg;
	for (int i = 0; i < INCREMENTS; i++) {
		pthread_mutex_lock(&mu);
		counter++;
		pthread_mutex_unlock(&mu);
	}
	return NULL;
}

/* 2. token ring */
static pthread_mutex_t ring_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ring_cv = PTHREAD_COND_INITIALIZER;
static int turn, handoffs;
static long ring_sum;

static void *ring(void *arg)
{
	int me = (int)(long)arg;
	pthread_mutex_lock(&ring_mu);
	for (;;) {
		while (turn != me && handoffs < HANDOFFS)
			pthread_cond_wait(&ring_cv, &ring_mu);
		if (handoffs >= HANDOFFS)
			break;
		ring_sum += me;
		handoffs++;
		turn = (turn + 1) % NTHREADS;
		pthread_cond_broadcast(&ring_cv);
	}
	pthread_mutex_unlock(&ring_mu);
	return NULL;
}

/* 3. bounded queue */
#define QSIZE 4
static pthread_mutex_t q_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_notfull = PTHREAD_COND_INITIALIZER, q_notempty = PTHREAD_COND_INITIALIZER;
static long q[QSIZE];
static int q_head, q_len, q_done_producers;
static long long consumed_sum;
static long consumed_count;

static void *producer(void *arg)
{
	long base = (long)arg * ITEMS;
	for (long i = 1; i <= ITEMS; i++) {
		pthread_mutex_lock(&q_mu);
		while (q_len == QSIZE)
			pthread_cond_wait(&q_notfull, &q_mu);
		q[(q_head + q_len) % QSIZE] = base + i;
		q_len++;
		pthread_cond_signal(&q_notempty);
		pthread_mutex_unlock(&q_mu);
	}
	pthread_mutex_lock(&q_mu);
	q_done_producers++;
	pthread_cond_broadcast(&q_notempty);
	pthread_mutex_unlock(&q_mu);
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	long long sum = 0;
	long n = 0;
	pthread_mutex_lock(&q_mu);
	for (;;) {
		while (q_len == 0 && q_done_producers < NTHREADS / 2)
			pthread_cond_wait(&q_notempty, &q_mu);
		if (q_len == 0)
			break;
		sum += q[q_head];
		q_head = (q_head + 1) % QSIZE;
		q_len--;
		n++;
		pthread_cond_signal(&q_notfull);
	}
	consumed_sum += sum;
	consumed_count += n;
	pthread_mutex_unlock(&q_mu);
	return NULL;
}

/* 4. priority-inheritance mutex */
static pthread_mutex_t pi_mu;
static long pi_counter;

static void *pi_incr(void *arg)
{
	(void)arg;
	for (int i = 0; i < PI_INCREMENTS; i++) {
		pthread_mutex_lock(&pi_mu);
		pi_counter++;
		if (i % 64 == 0)
			sched_yield(); /* let others find it held and sleep in FUTEX_LOCK_PI */
		pthread_mutex_unlock(&pi_mu);
	}
	return NULL;
}

static pthread_mutex_t held_mu = PTHREAD_MUTEX_INITIALIZER;

static void *try_held(void *arg)
{
	(void)arg;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 50 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	return (void *)(long)pthread_mutex_timedlock(&held_mu, &ts);
}

/* 5. raw futexes */
static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, addr, op, val, ts, NULL, 0);
}

static uint32_t fword;

static void *futex_waiter(void *arg)
{
	(void)arg;
	long woken = 0;
	while (__atomic_load_n(&fword, __ATOMIC_SEQ_CST) == 0) {
		if (futex(&fword, FUTEX_WAIT_PRIVATE, 0, NULL) == 0)
			woken = 1;
	}
	return (void *)woken;
}

static void run(void *(*fn)(void *), int n, long arg0)
{
	pthread_t th[NTHREADS];
	for (int i = 0; i < n; i++)
		pthread_create(&th[i], NULL, fn, (void *)(arg0 + i));
	for (int i = 0; i < n; i++)
		pthread_join(th[i], NULL);
}

static const char *errname(int e)
{
	switch (e) {
	case 0: return "0";
	case EAGAIN: return "EAGAIN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EINTR: return "EINTR";
	case ENOSYS: return "ENOSYS";
	case EINVAL: return "EINVAL";
	}
	return strerror(e);
}

int main(void)
{
	run(incr, NTHREADS, 0);
	check("mutex counter (8 x 20000)", counter, (long long)NTHREADS * INCREMENTS);

	run(ring, NTHREADS, 0);
	check("condvar token ring handoffs", handoffs, HANDOFFS);
	/* each full round adds 0+1+...+7 = 28 */
	check("condvar token ring sum", ring_sum, (long long)HANDOFFS / NTHREADS * 28);

	{
		pthread_t th[NTHREADS];
		for (int i = 0; i < NTHREADS / 2; i++)
			pthread_create(&th[i], NULL, producer, (void *)(long)i);
		for (int i = NTHREADS / 2; i < NTHREADS; i++)
			pthread_create(&th[i], NULL, consumer, NULL);
		for (int i = 0; i < NTHREADS; i++)
			pthread_join(th[i], NULL);
		long long n = (long long)NTHREADS / 2 * ITEMS;
		check("bounded queue items consumed", consumed_count, n);
		check("bounded queue sum", consumed_sum, n * (n + 1) / 2);
	}

	{
		pthread_mutexattr_t a;
		pthread_mutexattr_init(&a);
		int e = pthread_mutexattr_setprotocol(&a, PTHREAD_PRIO_INHERIT);
		printf("PTHREAD_PRIO_INHERIT attribute: %s\n", errname(e));
		pthread_mutex_init(&pi_mu, &a);
		pthread_mutexattr_destroy(&a);
		run(pi_incr, NTHREADS, 0);
		check("pi mutex counter (8 x 5000)", pi_counter, (long long)NTHREADS * PI_INCREMENTS);
	}

	{
		pthread_t th;
		pthread_mutex_lock(&held_mu);
		void *ret;
		pthread_create(&th, NULL, try_held, NULL);
		pthread_join(th, &ret);
		pthread_mutex_unlock(&held_mu);
		printf("pthread_mutex_timedlock on a held mutex: %s\n", errname((int)(long)ret));
		if ((long)ret != ETIMEDOUT)
			failures++;
	}

	{
		uint32_t w = 1;
		long r = futex(&w, FUTEX_WAIT_PRIVATE, 0, NULL);
		printf("FUTEX_WAIT on a changed value: %ld %s\n", r, errname(r < 0 ? errno : 0));
		struct timespec ts = {0, 20 * 1000 * 1000};
		r = futex(&w, FUTEX_WAIT_PRIVATE, 1, &ts);
		printf("FUTEX_WAIT with a 20 ms timeout: %ld %s\n", r, errname(r < 0 ? errno : 0));
		r = futex(&w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
		printf("FUTEX_WAKE with no waiter: %ld\n", r);

		pthread_t th;
		pthread_create(&th, NULL, futex_waiter, NULL);
		long woke = 0;
		struct timespec nap = {0, 1000 * 1000};
		/* wake until a wake finds the thread asleep on the word (it goes back to sleep:
		 * the word is still 0), then set the word and wake it for good */
		for (int i = 0; i < 5000 && woke != 1; i++) {
			nanosleep(&nap, NULL);
			woke = futex(&fword, FUTEX_WAKE_PRIVATE, 1, NULL);
		}
		__atomic_store_n(&fword, 1, __ATOMIC_SEQ_CST);
		futex(&fword, FUTEX_WAKE_PRIVATE, INT_MAX, NULL);
		void *ret;
		pthread_join(th, &ret);
		printf("FUTEX_WAKE woke the waiting thread: %s\n", woke == 1 && ret == (void *)1 ? "yes" : "no");
	}

	printf("failures: %d\n", failures);
	return failures != 0;
}
