/*
 * root_pathfl.c — the flags of descriptors opened with O_PATH, as fcntl(2) and
 * /proc/self/fdinfo show them.
 *
 * For each path given (its number printed, not its name: the paths differ between a
 * native run and one under golos with the same files in a volume) and each of O_PATH,
 * O_PATH|O_NOFOLLOW, O_PATH|O_CLOEXEC, O_PATH|O_DIRECTORY, O_RDONLY and
 * O_RDONLY|O_NOFOLLOW|O_CLOEXEC: open(2), then fcntl(F_GETFL) in octal, fcntl(F_GETFD),
 * and the flags: line of /proc/self/fdinfo/N (proc_pid_fdinfo(5)), which Linux prints
 * from the same f_flags as F_GETFL, with O_CLOEXEC added for a descriptor that has
 * FD_CLOEXEC (fs/proc/fd.c, seq_show).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ename.h"

int main(int argc, char **argv)
{
	static const int how[] = {O_PATH, O_PATH | O_NOFOLLOW, O_PATH | O_CLOEXEC, O_PATH | O_DIRECTORY, O_RDONLY,
				  O_RDONLY | O_NOFOLLOW | O_CLOEXEC};
	for (int i = 1; i < argc; i++)
		for (size_t h = 0; h < sizeof how / sizeof how[0]; h++) {
			printf("path %d, flags %#o: ", i, how[h]);
			int fd = open(argv[i], how[h]);
			if (fd < 0) {
				printf("%s\n", ename(errno));
				continue;
			}
			char name[64], line[256], flags[64] = "(no flags: line)";
			snprintf(name, sizeof name, "/proc/self/fdinfo/%d", fd);
			FILE *f = fopen(name, "r");
			if (!f)
				snprintf(flags, sizeof flags, "(%s)", ename(errno));
			while (f && fgets(line, sizeof line, f))
				if (strncmp(line, "flags:", 6) == 0)
					sscanf(line + 6, "%63s", flags);
			if (f)
				fclose(f);
			printf("F_GETFL %#o, F_GETFD %d, fdinfo %s\n", fcntl(fd, F_GETFL), fcntl(fd, F_GETFD), flags);
			close(fd);
		}
	return 0;
}
