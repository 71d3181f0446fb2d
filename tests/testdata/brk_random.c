// brk_random: where the program break starts (proc_pid_stat(5), start_brk), against the
// end of the executable's .bss. With randomize_va_space at 2, Linux leaves a page's gap
// after the .bss and starts the break at a random page in the 1 GiB above it (32 MiB
// before 2024) (fs/binfmt_elf.c, load_elf_binary; arch_randomize_brk); a static-pie's
// break goes to ELF_ET_DYN_BASE instead. Without arguments it says which holds; with "offset" it prints
// the start's distance from the end of the .bss, which the test compares across runs.
#define _GNU_SOURCE
#include <fcntl.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static unsigned long end_bss;

static int main_object(struct dl_phdr_info *info, size_t size, void *data) {
	(void)size, (void)data;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && ph->p_vaddr + ph->p_memsz + info->dlpi_addr > end_bss)
			end_bss = ph->p_vaddr + ph->p_memsz + info->dlpi_addr;
	}
	return 1; // the first object is the executable
}

int main(int argc, char **argv) {
	static char buf[4096];
	int fd = open("/proc/self/stat", O_RDONLY);
	ssize_t n = read(fd, buf, sizeof buf - 1);
	if (fd < 0 || n <= 0) {
		perror("/proc/self/stat");
		return 1;
	}
	buf[n] = 0;
	unsigned long long f[48] = {0};
	char *s = strrchr(buf, ')') + 3;
	for (int i = 4; i <= 47; i++)
		f[i] = strtoull(s, &s, 10);
	dl_iterate_phdr(main_object, NULL);
	unsigned long page = 4096, after = ((end_bss + page - 1) & ~(page - 1)) + page;
	unsigned long start = f[47];
	if (argc > 1 && strcmp(argv[1], "offset") == 0) {
		printf("%ld\n", (long)(start - after));
		return 0;
	}
	FILE *va = fopen("/proc/sys/kernel/randomize_va_space", "r");
	int level = va ? fgetc(va) - '0' : -1;
	printf("randomize_va_space: %d\n", level);
	printf("break after the .bss: %s\n", start > end_bss ? "yes" : "no");
	printf("a page's gap, within 1 GiB: %s\n", start >= after && start < after + (1UL << 30) ? "yes" : "no");
	printf("sbrk(0) at the start: %s\n", (unsigned long)sbrk(0) >= start ? "yes" : "no");
	return 0;
}
