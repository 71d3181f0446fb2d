/*
 * unix_procnet.c — a unix socket bound at /tmp/NAME is listed in /proc/net/unix (and
 * /proc/self/net/unix) under the name it was bound with, found by its inode: in a root,
 * the path inside the root (a chroot shows the string given to bind(2)).
 */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void find(const char *file, unsigned long ino)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		printf("%s: cannot open\n", file);
		return;
	}
	char line[512];
	int found = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long num, ref, proto, flags, type, st, inode;
		int n = 0;
		if (sscanf(line, "%lx: %lx %lx %lx %lx %lx %lu %n", &num, &ref, &proto, &flags, &type, &st, &inode, &n) >= 7 &&
		    inode == ino) {
			line[strcspn(line, "\n")] = 0;
			printf("%s: own socket listed as %s\n", file, n > 0 ? line + n : "(no name)");
			found = 1;
		}
	}
	fclose(f);
	if (!found)
		printf("%s: own socket not listed\n", file);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path, sizeof a.sun_path, "/tmp/%s", argv[1]);
	if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 1) != 0) {
		perror("bind");
		return 1;
	}
	struct stat st;
	fstat(s, &st);
	find("/proc/net/unix", st.st_ino);
	find("/proc/self/net/unix", st.st_ino);
	return 0;
}
