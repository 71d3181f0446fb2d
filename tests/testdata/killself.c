/*
 * killself.c — death by a signal.
 *
 * usage: killself abrt|segv|kill|term. The program prints (and flushes) a line, then dies:
 * abrt by abort() (SIGABRT), segv by a write through a null pointer (SIGSEGV), kill by
 * kill(getpid(), SIGKILL), term by raise(SIGTERM). A shell reports 128+N for each; the
 * program must never get to its last line.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: killself abrt|segv|kill|term\n");
		return 2;
	}
	printf("killself: %s\n", argv[1]);
	fflush(stdout);
	if (strcmp(argv[1], "abrt") == 0) {
		abort();
	} else if (strcmp(argv[1], "segv") == 0) {
		volatile int *volatile p = 0; /* volatile both: a real store the compiler keeps */
		*p = 1;
	} else if (strcmp(argv[1], "kill") == 0) {
		kill(getpid(), SIGKILL);
	} else if (strcmp(argv[1], "term") == 0) {
		raise(SIGTERM);
	} else {
		fprintf(stderr, "killself: unknown signal %s\n", argv[1]);
		return 2;
	}
	printf("killself: still alive\n");
	return 1;
}
