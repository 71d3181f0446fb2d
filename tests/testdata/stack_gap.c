/*
 * stack_gap.c — the random gap Linux leaves between the argument and environment strings
 * at the top of the main stack and what lies below them (fs/binfmt_elf.c,
 * create_elf_tables: p = arch_align_stack(p) before the platform string; arch/x86,
 * arch_align_stack: sp -= get_random_u32_below(8192), then sp & ~0xf, with no random
 * part under ADDR_NO_RANDOMIZE). The gap is what keeps a program's first frames off the
 * stack's top page most of the time, so that moving that page away (mremap) does not
 * pull the stack from under it. The program execs itself and compares what its children
 * saw: each prints the distance from its platform string's end (AT_PLATFORM, "x86_64"
 * and its NUL) to argv[0], the lowest of the strings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/personality.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUNS 16

static long child_gap(void)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execl("/proc/self/exe", "stack_gap", "child", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	char buf[64] = {0};
	ssize_t n = read(p[0], buf, sizeof buf - 1);
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return n > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? strtol(buf, NULL, 10) : -1;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		uintptr_t platform = getauxval(AT_PLATFORM);
		if (platform == 0 || strcmp((char *)platform, "x86_64") != 0)
			return 1;
		uintptr_t end = platform + 7; /* where p was: 16-byte aligned */
		printf("%ld\n", end % 16 == 0 ? (long)((uintptr_t)argv[0] - end) : -2);
		return 0;
	}
	long gaps[RUNS];
	int inside = 1, differ = 0;
	for (int i = 0; i < RUNS; i++) {
		gaps[i] = child_gap();
		/* Below 8192 by the random part, below 16 more by the alignment. */
		inside = inside && gaps[i] >= 0 && gaps[i] < 8192 + 16;
		differ = differ || gaps[i] != gaps[0];
	}
	printf("each gap aligned and below 8 KiB + 16: %s\n", inside ? "yes" : "no");
	printf("gaps differ between execs: %s\n", differ ? "yes" : "no");
	if (!inside || !differ) {
		for (int i = 0; i < RUNS; i++)
			printf(" %ld", gaps[i]);
		printf("\n");
	}
	if (personality(personality(0xffffffff) | ADDR_NO_RANDOMIZE) == -1) {
		printf("personality: failed\n");
		return 1;
	}
	long a = child_gap(), b = child_gap();
	printf("without randomization, only the alignment: %s\n", a >= 0 && a < 16 && a == b ? "yes" : "no");
	if (!(a >= 0 && a < 16 && a == b))
		printf(" %ld %ld\n", a, b);
	return 0;
}
