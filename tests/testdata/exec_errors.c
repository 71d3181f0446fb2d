/*
 * exec_errors.c — what execve(2) answers for files it cannot run: a FIFO and a directory
 * (EACCES), a text file without "#!" (ENOEXEC: a shell then runs it as a script itself),
 * a file without the execute bit (EACCES), a missing file (ENOENT). The files are made in
 * the working directory. A kernel must return these to the caller, not end the process.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ename.h"

static void try(const char *path)
{
	char *argv[] = {(char *)path, NULL};
	char *envp[] = {NULL};
	execve(path, argv, envp);
	printf("execve %s: %s\n", path, ename(errno));
}

int main(void)
{
	mkfifo("fifo", 0755);
	mkdir("dir", 0755);
	int fd = open("text", O_WRONLY | O_CREAT | O_TRUNC, 0755);
	write(fd, "echo hello\n", 11);
	close(fd);
	fd = open("noexec", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write(fd, "#!/bin/sh\n", 10);
	close(fd);
	chmod("text", 0755);
	chmod("noexec", 0644);
	try("./fifo");
	try("./dir");
	try("./text");
	try("./missing");
	/* as root the execute bit is still needed for execve (some x bit must be set) */
	try("./noexec");
	return 0;
}
