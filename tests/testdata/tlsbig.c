/*
 * tlsbig.c — local-exec TLS of several MiB.
 *
 * A 6 MiB zero thread-local array (.tbss), a 1 MiB initialised one (.tdata, stored in
 * the file) and a page-aligned thread-local are laid out by libc's own startup code. The
 * program checks the initial contents, writes a pattern over everything and sums it back.
 */
#include <stdint.h>
#include <stdio.h>

#define LE __attribute__((tls_model("local-exec")))
#define BSS_BYTES (6u << 20)
#define DATA_WORDS (256u * 1024) /* 1 MiB */

static __thread unsigned char big_bss[BSS_BYTES] LE;
static __thread uint32_t big_data[DATA_WORDS] LE = {
	[0] = 0x11111111u, [1] = 0x22222222u, [4096] = 0x33333333u, [DATA_WORDS - 1] = 0xdeadbeefu};
static __thread unsigned char page_aligned[4096] __attribute__((aligned(4096))) LE = {0x5a};
static __thread int small LE = 99;

int main(void)
{
	uint64_t s = 0;
	unsigned nonzero = 0;
	for (uint32_t i = 0; i < BSS_BYTES; i++)
		nonzero += big_bss[i] != 0;
	printf("tbss nonzero bytes initially: %u\n", nonzero);
	for (uint32_t i = 0; i < DATA_WORDS; i++)
		s += big_data[i];
	printf("tdata initial sum: %#llx\n", (unsigned long long)s);
	printf("page-aligned tls: aligned=%s first=%#x small=%d\n",
	       ((uintptr_t)page_aligned & 4095) == 0 ? "yes" : "no", page_aligned[0], small);

	for (uint32_t i = 0; i < BSS_BYTES; i++)
		big_bss[i] = (unsigned char)(i * 7 + (i >> 12));
	for (uint32_t i = 0; i < DATA_WORDS; i++)
		big_data[i] ^= i * 2654435761u;
	for (uint32_t i = 0; i < sizeof page_aligned; i++)
		page_aligned[i] = (unsigned char)i;
	small = -1;

	s = 0;
	for (uint32_t i = 0; i < BSS_BYTES; i++)
		s = s * 31 + big_bss[i];
	printf("tbss hash after write: %#llx\n", (unsigned long long)s);
	s = 0;
	for (uint32_t i = 0; i < DATA_WORDS; i++)
		s += big_data[i];
	printf("tdata sum after write: %#llx\n", (unsigned long long)s);
	s = 0;
	for (uint32_t i = 0; i < sizeof page_aligned; i++)
		s += page_aligned[i];
	printf("page-aligned sum: %llu small=%d\n", (unsigned long long)s, small);
	return 0;
}
