/*
 * thr_ids.c — thread ids are not given again at once, as on Linux (alloc_pid hands pids
 * out in a cycle): five threads, each started after the one before it was joined, all
 * get ids of their own, none the main thread's; then five more started while one of
 * them lives on, the same. Prints how many distinct ids there were.
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *record(void *arg)
{
	*(int *)arg = (int)syscall(SYS_gettid);
	return NULL;
}

static int distinct(const int *ids, int n, int main_tid)
{
	int d = 0;
	for (int i = 0; i < n; i++) {
		int seen = ids[i] <= 0 || ids[i] == main_tid;
		for (int j = 0; j < i; j++)
			seen |= ids[j] == ids[i];
		d += !seen;
	}
	return d;
}

static pthread_barrier_t hold;

static void *hold_on(void *arg)
{
	*(int *)arg = (int)syscall(SYS_gettid);
	pthread_barrier_wait(&hold);
	return NULL;
}

int main(void)
{
	int main_tid = (int)syscall(SYS_gettid);
	int ids[11] = {0};
	for (int i = 0; i < 5; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, record, &ids[i]) != 0 || pthread_join(t, NULL) != 0) {
			printf("pthread_create or pthread_join failed\n");
			return 1;
		}
	}
	printf("distinct ids of 5 threads started one after another: %d\n", distinct(ids, 5, main_tid));

	pthread_barrier_init(&hold, NULL, 2);
	pthread_t keeper;
	if (pthread_create(&keeper, NULL, hold_on, &ids[5]) != 0)
		return 1;
	for (int i = 6; i < 11; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, record, &ids[i]) != 0 || pthread_join(t, NULL) != 0)
			return 1;
	}
	pthread_barrier_wait(&hold);
	pthread_join(keeper, NULL);
	printf("distinct ids of those, one kept alive and 5 more: %d\n", distinct(ids, 11, main_tid));
	return 0;
}
