/*
 * thr_many.c — 10,000 threads alive at once (each waits at a barrier until all exist),
 * then joined. Linux runs this in about a second; a kernel that gives each application
 * thread an OS thread of its own must not stop at a limit of its own making.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define N 10000

static pthread_barrier_t barrier;

static void *worker(void *arg)
{
	pthread_barrier_wait(&barrier);
	return arg;
}

int main(void)
{
	static pthread_t th[N];
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 << 10);
	pthread_barrier_init(&barrier, NULL, N + 1);
	int created = 0;
	for (int i = 0; i < N; i++) {
		int e = pthread_create(&th[i], &attr, worker, (void *)(long)i);
		if (e != 0) {
			printf("pthread_create %d failed: %s\n", i, strerror(e));
			return 1;
		}
		created++;
	}
	pthread_barrier_wait(&barrier);
	long sum = 0;
	for (int i = 0; i < created; i++) {
		void *v;
		pthread_join(th[i], &v);
		sum += (long)v;
	}
	printf("threads alive at once: %d, joined with their values: %s\n", created,
	       sum == (long)N * (N - 1) / 2 ? "yes" : "no");
	return 0;
}
