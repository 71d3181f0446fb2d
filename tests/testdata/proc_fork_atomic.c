// fork(2) from a process whose other thread keeps writing memory: the child's memory is
// the parent's at one instant, as Linux's copy-on-write fork gives it. The writer stores
// hi = n, then lo = n, for n = 1, 2, …; at any instant hi - lo is 0 or 1. lo is at the
// start of a 16 MiB mapping whose pages are all written, hi at its end, so that a copy of
// the memory that went on while the writer ran would see them far apart.
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (16 << 20)

static volatile long *lo, *hi;
static atomic_int started;

static void *writer(void *arg) {
	(void)arg;
	for (long n = 1;; n++) {
		*hi = n;
		atomic_signal_fence(memory_order_seq_cst);
		*lo = n;
		if (n == 1000)
			atomic_store(&started, 1);
	}
	return NULL;
}

int main(void) {
	char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memset(m, 1, SIZE);
	lo = (volatile long *)m;
	hi = (volatile long *)(m + SIZE - sizeof(long));
	pthread_t th;
	pthread_create(&th, NULL, writer, NULL);
	while (!atomic_load(&started))
		;
	int torn = 0, forks = 20;
	for (int i = 0; i < forks; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			long d = *hi - *lo;
			_exit(d == 0 || d == 1 ? 0 : 1);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st)) {
			printf("fork %d failed\n", i);
			return 1;
		}
		torn += WEXITSTATUS(st);
	}
	printf("forks: %d, children that saw the writer's two stores apart: %d\n", forks, torn);
	return 0;
}
