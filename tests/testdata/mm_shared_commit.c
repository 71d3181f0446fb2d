// mm_shared_commit: shared anonymous memory is committed when it is mapped, as Linux
// charges a shmem file's whole size at mmap time (mm/shmem.c, shmem_acct_size) unless
// MAP_NORESERVE exempts it. Each mapping asks for twice the machine's RAM and swap, which
// vm.overcommit_memory=0's heuristic refuses (mm/util.c, __vm_enough_memory); the other
// modes answer as they do, the same natively and under golos.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <unistd.h>

static void try(const char *what, size_t len, int flags, int fd) {
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (p == MAP_FAILED) {
		printf("%s: %s\n", what, errno == ENOMEM ? "ENOMEM" : strerror(errno));
		return;
	}
	printf("%s: mapped\n", what);
	munmap(p, len);
}

int main(void) {
	struct sysinfo si;
	if (sysinfo(&si) != 0) {
		perror("sysinfo");
		return 1;
	}
	unsigned long long total = ((unsigned long long)si.totalram + si.totalswap) * si.mem_unit;
	size_t len = (size_t)((total * 2 + (2 << 20) - 1) & ~((2ULL << 20) - 1));
	int zero = open("/dev/zero", O_RDWR);
	if (zero < 0) {
		perror("open /dev/zero");
		return 1;
	}
	try("shared anonymous", len, MAP_SHARED | MAP_ANONYMOUS, -1);
	try("shared anonymous, MAP_NORESERVE", len, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1);
	try("shared /dev/zero", len, MAP_SHARED, zero);
	try("private anonymous", len, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	try("shared anonymous, one page", 4096, MAP_SHARED | MAP_ANONYMOUS, -1);
	return 0;
}
