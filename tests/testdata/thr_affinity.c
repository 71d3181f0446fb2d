/*
 * thr_affinity.c — a new thread's CPU affinity mask is its creator's (clone copies the
 * task, its cpus_mask with it; sched_setaffinity(2)).
 *
 * The main thread sets its own mask to one CPU of those it may use, then to another, then
 * back to all of them, and each time creates threads that read their mask at once and
 * compare it with their creator's; a thread created on one CPU then widens its own mask
 * back to all, which must succeed (the thread is not held to its start). Only yes/no
 * lines and the number of failed checks are printed; the exit status is that number
 * (100 when the program cannot set up).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

static cpu_set_t all;
static int failures;

struct arg {
	cpu_set_t want;
	int same;   /* the thread's mask at its start was want */
	int widened; /* it then set all and read all back */
};

static void *thread(void *p)
{
	struct arg *a = p;
	cpu_set_t got;
	if (sched_getaffinity(0, sizeof got, &got) == 0)
		a->same = CPU_EQUAL(&got, &a->want);
	if (sched_setaffinity(0, sizeof all, &all) == 0 && sched_getaffinity(0, sizeof got, &got) == 0)
		a->widened = CPU_EQUAL(&got, &all);
	return NULL;
}

/* run sets the main thread's mask to set and creates n threads one after another. */
static void run(const char *what, cpu_set_t *set, int n)
{
	if (sched_setaffinity(0, sizeof *set, set) != 0) {
		printf("%s: sched_setaffinity failed\n", what);
		failures++;
		return;
	}
	int same = 0, widened = 0;
	for (int i = 0; i < n; i++) {
		struct arg a = {.want = *set};
		pthread_t t;
		if (pthread_create(&t, NULL, thread, &a) != 0 || pthread_join(t, NULL) != 0) {
			printf("%s: pthread_create failed\n", what);
			failures++;
			return;
		}
		same += a.same;
		widened += a.widened;
	}
	printf("%s: threads with their creator's mask: %s; widened to all: %s\n", what,
	       same == n ? "yes" : "no", widened == n ? "yes" : "no");
	failures += (same != n) + (widened != n);
}

int main(void)
{
	if (sched_getaffinity(0, sizeof all, &all) != 0)
		return 100;
	int first = -1, last = -1;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (CPU_ISSET(c, &all)) {
			if (first < 0)
				first = c;
			last = c;
		}
	}
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(first, &one);
	run("creator on its first CPU", &one, 50);
	CPU_ZERO(&one);
	CPU_SET(last, &one);
	run("creator on its last CPU", &one, 50);
	run("creator on all its CPUs", &all, 50);
	printf("failures: %d\n", failures);
	return failures;
}
