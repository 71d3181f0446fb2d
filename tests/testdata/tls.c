/*
 * tls.c — thread-local storage and errno in the main thread.
 *
 * Initialised (.tdata) and zero (.tbss) __thread variables of several types, in the
 * initial-exec and local-exec TLS models, are read, modified and read again. Then errno,
 * itself a thread-local of libc's, is checked after failing calls (open of a path that does
 * not exist: ENOENT; close(-1): EBADF) together with strerror's text. The program exits
 * with status 3 so that the exit status is compared too. No address is printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define IE __attribute__((tls_model("initial-exec")))
#define LE __attribute__((tls_model("local-exec")))

struct point {
	int x, y;
	char tag[8];
};

/* initial-exec model, initialised and zero */
__thread int ie_int IE = 42;
__thread long long ie_ll IE = -1234567890123LL;
__thread double ie_dbl IE = 3.25;
__thread char ie_str[16] IE = "initial-exec";
__thread int ie_zero IE;
__thread long ie_zero_arr[32] IE;

/* local-exec model, initialised and zero */
static __thread int le_int LE = 7;
static __thread unsigned char le_bytes[5] LE = {1, 2, 3, 4, 5};
static __thread struct point le_pt LE = {10, -20, "pt"};
static __thread short le_zero LE;
static __thread char le_zero_buf[100] LE;
static __thread uint64_t le_aligned __attribute__((aligned(64))) LE = 0x0123456789abcdefULL;

static void show(const char *when)
{
	long zsum = 0;
	int bsum = 0, zbuf = 0;
	for (int i = 0; i < 32; i++)
		zsum += ie_zero_arr[i];
	for (int i = 0; i < 5; i++)
		bsum += le_bytes[i];
	for (int i = 0; i < 100; i++)
		zbuf += le_zero_buf[i];
	printf("[%s] ie_int=%d ie_ll=%lld ie_dbl=%.3f ie_str=%s ie_zero=%d ie_zero_arr_sum=%ld\n",
	       when, ie_int, ie_ll, ie_dbl, ie_str, ie_zero, zsum);
	printf("[%s] le_int=%d le_bytes_sum=%d le_pt={%d,%d,%s} le_zero=%d le_zero_buf_sum=%d "
	       "le_aligned=%#llx\n",
	       when, le_int, bsum, le_pt.x, le_pt.y, le_pt.tag, le_zero, zbuf,
	       (unsigned long long)le_aligned);
}

/* noinline: the compiler must really load and store through the TLS model */
__attribute__((noinline)) static void modify(int k)
{
	ie_int += k;
	ie_ll *= -2;
	ie_dbl /= 2;
	strcpy(ie_str, "changed");
	ie_zero = k * 1000;
	for (int i = 0; i < 32; i++)
		ie_zero_arr[i] = i * k;
	le_int *= k;
	for (int i = 0; i < 5; i++)
		le_bytes[i] = (unsigned char)(le_bytes[i] * 10);
	le_pt.x += k;
	le_pt.y -= k;
	strcpy(le_pt.tag, "moved");
	le_zero = -3;
	memset(le_zero_buf, 1, sizeof le_zero_buf);
	le_aligned = ~le_aligned;
}

static uintptr_t fs0(void)
{
	uintptr_t v;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(v));
	return v;
}

int main(void)
{
	show("initial");
	modify(5);
	show("modified");

	/* Variant II: the thread pointer is %fs:0 and the TLS block lies just below it. */
	uintptr_t tp = fs0();
	uintptr_t a = (uintptr_t)&le_int, b = (uintptr_t)&ie_int;
	printf("tls below thread pointer: %s\n",
	       (a < tp && tp - a < (1 << 20) && b < tp && tp - b < (1 << 20)) ? "yes" : "no");
	printf("aligned tls variable aligned: %s\n", ((uintptr_t)&le_aligned % 64) == 0 ? "yes" : "no");

	/* errno is a thread-local of libc's */
	errno = 0;
	int fd = open("/nonexistent-golos-test/no/such/file", O_RDONLY);
	int e = errno;
	printf("open nonexistent: ret=%d errno=%s (%s)\n", fd, e == ENOENT ? "ENOENT" : "unexpected",
	       strerror(e));
	errno = 0;
	int r = close(-1);
	e = errno;
	printf("close(-1): ret=%d errno=%s (%s)\n", r, e == EBADF ? "EBADF" : "unexpected", strerror(e));
	errno = 12345;
	printf("errno set and read back: %d\n", errno);
	errno = 0;
	r = access("/", F_OK);
	printf("access(/): ret=%d errno after success=%d\n", r, errno);

	show("final");
	return 3;
}
