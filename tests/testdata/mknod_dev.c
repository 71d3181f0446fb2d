/*
 * mknod_dev.c — what mknod(2) makes in the working directory: a character device (1:3,
 * /dev/null's numbers), a block device (7:0, a loop device), an overlay whiteout (char 0:0),
 * a FIFO and a regular file. Natively as root every call succeeds; inside a container
 * without CAP_MKNOD, and inside golos's confined root, devices fail with EPERM.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ename.h"

static void try(const char *name, mode_t mode, dev_t dev)
{
	if (mknod(name, mode, dev) == 0)
		printf("%s: made\n", name);
	else
		printf("%s: %s\n", name, ename(errno));
}

int main(void)
{
	try("chr", S_IFCHR | 0600, makedev(1, 3));
	try("blk", S_IFBLK | 0600, makedev(7, 0));
	try("whiteout", S_IFCHR | 0600, makedev(0, 0));
	try("fifo", S_IFIFO | 0600, 0);
	try("file", S_IFREG | 0600, 0);
	const char *names[] = {"chr", "blk", "whiteout", "fifo", "file"};
	for (int i = 0; i < 5; i++)
		unlink(names[i]); /* the next run starts from an empty directory */
	return 0;
}
