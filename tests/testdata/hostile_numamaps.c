/*
 * hostile_numamaps.c — reads /proc/self/numa_maps (proc_pid_numa_maps(5)), which lists
 * the process's mappings as maps does, one line from each one's start address: every line
 * must begin at a mapping maps lists, name only files maps names, and one must be marked
 * "stack" (the mapping of the stack the program started on). Both files are read with
 * plain open(2) and read(2) into static buffers, so that nothing maps memory in between.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
static char maps[1 << 20], numa[1 << 20];

static ssize_t slurp(const char *p, char *buf, size_t size)
{
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return -1;
	size_t n = 0;
	ssize_t r;
	while (n < size - 1 && (r = read(fd, buf + n, size - 1 - n)) > 0)
		n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

int main(void)
{
	if (slurp("/proc/self/maps", maps, sizeof maps) < 0 || slurp("/proc/self/numa_maps", numa, sizeof numa) < 0) {
		printf("no numa_maps\n");
		return 0;
	}
	int lines = 0, notmaps = 0, stack = 0, badfile = 0;
	for (char *line = numa, *end; *line; line = end + 1) {
		end = strchr(line, '\n');
		if (!end)
			break;
		*end = 0;
		lines++;
		unsigned long lo = strtoul(line, NULL, 16);
		char key[64];
		snprintf(key, sizeof key, "\n%08lx-", lo);
		int found = strstr(maps, key) != NULL || strtoul(maps, NULL, 16) == lo;
		notmaps += !found;
		if (strstr(line, " stack"))
			stack++;
		char *fl = strstr(line, "file=");
		if (fl) {
			char name[1024];
			sscanf(fl + 5, "%1023s", name);
			if (!strstr(maps, name))
				badfile++;
		}
		if (!found)
			fprintf(stderr, "not in maps: %s\n", line);
	}
	printf("numa_maps: lines %s, not starting a maps entry %d, marked stack %d, files maps does not name %d\n",
	       lines > 0 ? "some" : "none", notmaps, stack, badfile);
	return 0;
}
