/*
 * malloc.c — the heap.
 *
 * 1. brk directly (the raw system call through syscall(2), the same with glibc and musl):
 *    grow the break page by page and in large steps, write and verify the new memory, shrink
 *    back; a break below the start is refused (the break stays where it is).
 * 2. malloc/free churn driven by a fixed pseudo-random sequence, every block filled with a
 *    pattern that is verified before it is freed.
 * 3. Large allocations (served by mmap in both libcs), realloc growing a buffer to 16 MiB
 *    and shrinking it again with its contents verified, calloc zeroing.
 * Prints counts of errors and a checksum; exits 0 iff no error was seen.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 11);
}

static uint64_t sum;
static long errors;

static void brk_test(void)
{
	/* Before any malloc of ours, so nothing else moves the break meanwhile. */
	uintptr_t start = (uintptr_t)syscall(SYS_brk, 0);
	long grown_ok = 0;
	uintptr_t cur = start;
	for (int i = 1; i <= 64; i++) {
		uintptr_t want = cur + (uintptr_t)i * 4096 * ((i % 8) == 0 ? 64 : 1);
		uintptr_t got = (uintptr_t)syscall(SYS_brk, want);
		if (got != want) {
			errors++;
			break;
		}
		memset((void *)cur, i, want - cur); /* the new memory is usable */
		for (uintptr_t p = cur; p < want; p += 512)
			if (*(unsigned char *)p != (unsigned char)i)
				errors++;
		cur = want;
		grown_ok++;
	}
	printf("brk: grew %ld times by %lu KiB in all\n", grown_ok, (unsigned long)(cur - start) / 1024);
	uintptr_t below = (uintptr_t)syscall(SYS_brk, 4096);
	printf("brk below the start refused: %s\n", below == cur ? "yes" : "no");
	uintptr_t back = (uintptr_t)syscall(SYS_brk, start);
	printf("brk shrank back to the start: %s\n", back == start ? "yes" : "no");
	uintptr_t again = (uintptr_t)syscall(SYS_brk, start + 8192);
	printf("brk grows again after shrinking: %s\n", again == start + 8192 ? "yes" : "no");
	if (again == start + 8192) {
		/* freshly grown memory reads as zero again */
		int nonzero = 0;
		for (uintptr_t p = start; p < again; p++)
			nonzero += *(unsigned char *)p != 0;
		printf("regrown brk memory is zero: %s\n", nonzero == 0 ? "yes" : "no");
	}
	syscall(SYS_brk, start);
}

#define SLOTS 4096
struct slot {
	unsigned char *p;
	size_t n;
	unsigned char tag;
};
static struct slot slots[SLOTS];

static void churn(void)
{
	long mallocs = 0, frees = 0;
	for (int op = 0; op < 300000; op++) {
		struct slot *s = &slots[next() % SLOTS];
		if (s->p) {
			for (size_t i = 0; i < s->n; i += 61)
				if (s->p[i] != (unsigned char)(s->tag + i))
					errors++;
			sum += s->p[s->n - 1];
			free(s->p);
			s->p = NULL;
			frees++;
		} else {
			uint32_t r = next();
			s->n = (r % 16 == 0) ? 4096 + r % 60000 : 1 + r % 700;
			s->tag = (unsigned char)r;
			s->p = malloc(s->n);
			if (!s->p) {
				errors++;
				continue;
			}
			for (size_t i = 0; i < s->n; i++)
				s->p[i] = (unsigned char)(s->tag + i);
			mallocs++;
		}
	}
	for (int i = 0; i < SLOTS; i++)
		free(slots[i].p);
	printf("churn: %ld mallocs, %ld frees\n", mallocs, frees);
}

static void big(void)
{
	for (int i = 1; i <= 16; i++) {
		size_t n = (size_t)i << 20; /* 1..16 MiB */
		unsigned char *p = malloc(n);
		if (!p) {
			errors++;
			continue;
		}
		for (size_t k = 0; k < n; k += 4096)
			p[k] = (unsigned char)(k >> 12) ^ (unsigned char)i;
		p[n - 1] = (unsigned char)i;
		for (size_t k = 0; k < n; k += 4096)
			sum += p[k];
		sum += p[n - 1];
		free(p);
	}

	size_t n = 16;
	unsigned char *buf = malloc(n);
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 3);
	while (n < (16u << 20)) {
		size_t m = n * 2;
		buf = realloc(buf, m);
		if (!buf) {
			errors++;
			return;
		}
		for (size_t i = 0; i < n; i += 97)
			if (buf[i] != (unsigned char)(i * 3))
				errors++;
		for (size_t i = n; i < m; i++)
			buf[i] = (unsigned char)(i * 3);
		n = m;
	}
	buf = realloc(buf, 1000);
	for (size_t i = 0; i < 1000; i++)
		if (buf[i] != (unsigned char)(i * 3))
			errors++;
	free(buf);
	printf("realloc: grew to 16 MiB and shrank, contents kept\n");

	unsigned char *z = calloc(3 << 20, 1);
	long nz = 0;
	for (size_t i = 0; z && i < (3u << 20); i++)
		nz += z[i] != 0;
	printf("calloc 3 MiB zero: %s\n", z && nz == 0 ? "yes" : "no");
	free(z);
}

int main(void)
{
	brk_test();
	churn();
	big();
	printf("checksum: %llu\n", (unsigned long long)sum);
	printf("errors: %ld\n", errors);
	return errors == 0 ? 0 : 1;
}
