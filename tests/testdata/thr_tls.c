/*
 * thr_tls.c — thread-local storage of 100 threads alive at once.
 *
 * Each thread checks that its __thread variables start with their initial values (.tdata)
 * and zeros (.tbss), writes its own values, waits until all 100 threads have done so
 * (a barrier), and checks that its values are still its own. It also checks that its FS
 * base, read with a raw arch_prctl(ARCH_GET_FS), is pthread_self() (x86-64 TLS variant II:
 * the thread pointer is the thread descriptor, in glibc and in musl), and that errno is
 * its own. The main thread checks that the others did not touch its TLS. Only counts are
 * printed; the exit status is 0 when every check passed, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_GET_FS 0x1003 /* <asm/prctl.h>, which musl-gcc does not see */

#define NTHREADS 100
#define BUFSZ 512

static __thread long tls_init = 12345;          /* .tdata */
static __thread int tls_id = -1;                /* .tdata */
static __thread unsigned char tls_buf[BUFSZ];   /* .tbss */
static __thread double tls_dbl = 0.5;           /* .tdata */

static pthread_barrier_t barrier;

struct result {
	int fresh;         /* TLS had its initial values when the thread started */
	int fs_is_self;    /* ARCH_GET_FS == pthread_self() */
	int kept;          /* TLS still the thread's own after the barrier */
	int errno_own;     /* errno kept across the barrier */
	uintptr_t addr;    /* &tls_id, to count distinct addresses (never printed) */
};

static struct result results[NTHREADS];

static unsigned long fs_base(void)
{
	unsigned long fs = 0;
	if (syscall(SYS_arch_prctl, ARCH_GET_FS, &fs) != 0)
		return 0;
	return fs;
}

static int buf_is(unsigned char v)
{
	for (int i = 0; i < BUFSZ; i++)
		if (tls_buf[i] != v)
			return 0;
	return 1;
}

static void *worker(void *arg)
{
	long id = (long)arg;
	struct result *r = &results[id];

	r->fresh = tls_init == 12345 && tls_id == -1 && tls_dbl == 0.5 && buf_is(0);
	r->fs_is_self = fs_base() == (unsigned long)pthread_self();
	r->addr = (uintptr_t)&tls_id;

	tls_init += id;
	tls_id = (int)id;
	tls_dbl = id * 0.25;
	memset(tls_buf, (int)(id & 0xff) + 1, BUFSZ);
	errno = 1000 + (int)id;

	pthread_barrier_wait(&barrier);
	sched_yield();
	pthread_barrier_wait(&barrier);

	r->kept = tls_init == 12345 + id && tls_id == id && tls_dbl == id * 0.25 &&
		  buf_is((unsigned char)((id & 0xff) + 1)) && fs_base() == (unsigned long)pthread_self();
	r->errno_own = errno == 1000 + id;
	return (void *)(id * 3);
}

static int cmp_addr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

int main(void)
{
	pthread_t th[NTHREADS];
	int main_fs_ok = fs_base() == (unsigned long)pthread_self();

	tls_id = 999;
	tls_init = 7;
	memset(tls_buf, 0xee, BUFSZ);

	pthread_barrier_init(&barrier, NULL, NTHREADS);
	int created = 0;
	for (long i = 0; i < NTHREADS; i++) {
		pthread_attr_t a;
		pthread_attr_init(&a);
		pthread_attr_setstacksize(&a, 256 * 1024);
		int e = pthread_create(&th[i], &a, worker, (void *)i);
		pthread_attr_destroy(&a);
		if (e != 0) {
			printf("pthread_create %ld: %s\n", i, strerror(e));
			break;
		}
		created++;
	}
	int joined_ok = 0;
	for (int i = 0; i < created; i++) {
		void *ret;
		if (pthread_join(th[i], &ret) == 0 && ret == (void *)((long)i * 3))
			joined_ok++;
	}

	int fresh = 0, fs = 0, kept = 0, eo = 0;
	uintptr_t addrs[NTHREADS + 1];
	for (int i = 0; i < created; i++) {
		fresh += results[i].fresh;
		fs += results[i].fs_is_self;
		kept += results[i].kept;
		eo += results[i].errno_own;
		addrs[i] = results[i].addr;
	}
	addrs[created] = (uintptr_t)&tls_id;
	qsort(addrs, created + 1, sizeof addrs[0], cmp_addr);
	int distinct = created > 0 ? 1 : 0;
	for (int i = 1; i <= created; i++)
		distinct += addrs[i] != addrs[i - 1];

	int main_kept = tls_id == 999 && tls_init == 7 && buf_is(0xee) &&
			fs_base() == (unsigned long)pthread_self();

	printf("threads created: %d, joined with their value: %d\n", created, joined_ok);
	printf("fresh tls (tdata values, zero tbss): %d/%d\n", fresh, NTHREADS);
	printf("fs base == pthread_self(): %d/%d\n", fs, NTHREADS);
	printf("own tls kept across barriers: %d/%d\n", kept, NTHREADS);
	printf("own errno kept across barriers: %d/%d\n", eo, NTHREADS);
	printf("distinct tls addresses (with main): %d\n", distinct);
	printf("main thread: fs base == pthread_self(): %s, tls untouched: %s\n",
	       main_fs_ok ? "yes" : "no", main_kept ? "yes" : "no");
	int ok = created == NTHREADS && joined_ok == NTHREADS && fresh == NTHREADS &&
		 fs == NTHREADS && kept == NTHREADS && eo == NTHREADS && distinct == NTHREADS + 1 &&
		 main_fs_ok && main_kept;
	printf("%s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}
