/*
 * args.c — what a program is started with.
 *
 * Prints argc and every argv string (bracketed, so empty and space-containing arguments
 * show), whether argv[argc] is NULL, the variables GOLOS_TEST_A, GOLOS_TEST_EMPTY and
 * GOLOS_TEST_UNSET (set, set empty and unset by the test), the number of environment
 * entries and a hash of all of them in order, the working directory, and the basename of
 * readlink("/proc/self/exe").
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL; /* separator */
}

int main(int argc, char **argv, char **envp)
{
	printf("argc=%d\n", argc);
	for (int i = 0; i < argc; i++)
		printf("argv[%d]=[%s]\n", i, argv[i]);
	printf("argv[argc] is NULL: %s\n", argv[argc] == NULL ? "yes" : "no");
	printf("envp follows argv: %s\n", envp == argv + argc + 1 ? "yes" : "no");
	printf("environ == envp: %s\n", environ == envp ? "yes" : "no");

	const char *names[] = {"GOLOS_TEST_A", "GOLOS_TEST_EMPTY", "GOLOS_TEST_UNSET"};
	for (int i = 0; i < 3; i++) {
		const char *v = getenv(names[i]);
		if (v)
			printf("%s=[%s]\n", names[i], v);
		else
			printf("%s unset\n", names[i]);
	}
	int n = 0;
	uint64_t h = 0xcbf29ce484222325ULL;
	for (char **e = envp; *e; e++, n++)
		h = fnv(h, *e);
	printf("environment: %d entries, hash %016llx\n", n, (unsigned long long)h);

	char cwd[PATH_MAX];
	if (getcwd(cwd, sizeof cwd))
		printf("cwd=%s\n", cwd);
	else
		printf("getcwd failed\n");

	char exe[PATH_MAX];
	ssize_t k = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (k < 0) {
		printf("readlink /proc/self/exe failed\n");
	} else {
		exe[k] = 0;
		const char *base = strrchr(exe, '/');
		printf("/proc/self/exe basename=%s\n", base ? base + 1 : exe);
	}
	return 0;
}
