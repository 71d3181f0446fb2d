/*
 * files_stdclosed.c — a program started without some of descriptors 0, 1 and 2: its
 * first open(2)s take the lowest free numbers, those it was started without; so do a
 * forked child's, and those of a program the child execs. It writes what it finds to
 * the file named by its first argument (its stdout may be closed).
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *out, const char *who)
{
	int a = open("/dev/null", O_RDONLY), b = open("/dev/null", O_RDONLY);
	char line[128];
	int n = snprintf(line, sizeof line, "%s: open(2) gives %d, then %d; fd 2 %s\n", who, a, b,
			 fcntl(2, F_GETFD) == -1 ? "closed" : "open");
	int fd = open(out, O_WRONLY | O_APPEND);
	write(fd, line, n);
	close(fd);
	close(a);
	close(b);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	if (argc > 2) { /* the program the child execs */
		report(argv[1], "exec'd");
		return 0;
	}
	report(argv[1], "program");
	pid_t p = fork();
	if (p == 0) {
		report(argv[1], "child");
		execl("/proc/self/exe", argv[0], argv[1], "exec", (char *)NULL);
		_exit(127);
	}
	int st;
	waitpid(p, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
