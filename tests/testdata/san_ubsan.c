/* san_ubsan: a program built with gcc -fsanitize=undefined: a signed overflow, a shift
 * too far and a misaligned load, each reported by UBSan on stderr, the program going on
 * (UBSan recovers by default) to exit 0. */
#include <limits.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IONBF, 0);
	int x = INT_MAX;
	x += argc;
	int s = 1 << (31 + argc);
	char buf[64]; /* UBSan shows the bytes around the load: all of them in buf */
	memset(buf, 1, sizeof buf);
	int *mis = (int *)(buf + 16 + argc);
	printf("overflowed %d, shifted %d, loaded %d\n", x, s, *mis);
	return 0;
}
