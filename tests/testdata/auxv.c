/*
 * auxv.c — the auxiliary vector.
 *
 * Prints what getauxval reports, in a form that is the same on every run on one machine:
 * values that are fixed (page size, clock tick, secure mode, hardware capabilities, uid
 * and gid as the process's own), whether pointers are present and point at the right
 * thing (AT_PHDR at this executable's program headers, AT_ENTRY at _start, AT_SYSINFO_EHDR
 * at an ELF header), and the AT_EXECFN and AT_PLATFORM strings. Never an address.
 *
 * The line "AT_HWCAP2 FSGSBASE (bit 1): ..." is an intended difference: golos clears that
 * bit so that the program does not use wrfsbase/wrgsbase (see docs/design.md).
 */
#include <elf.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#ifndef AT_HWCAP2
#define AT_HWCAP2 26
#endif
#ifndef AT_EXECFN
#define AT_EXECFN 31
#endif
#ifndef AT_SYSINFO_EHDR
#define AT_SYSINFO_EHDR 33
#endif
#ifndef AT_RANDOM
#define AT_RANDOM 25
#endif
#ifndef AT_MINSIGSTKSZ
#define AT_MINSIGSTKSZ 51
#endif

/* Defined by the linker: this executable's own ELF header and entry point. */
extern const Elf64_Ehdr __ehdr_start __attribute__((visibility("hidden")));
extern char _start[] __attribute__((visibility("hidden")));

static const char *yesno(int b)
{
	return b ? "yes" : "no";
}

int main(void)
{
	printf("AT_PAGESZ: %lu\n", getauxval(AT_PAGESZ));
	printf("AT_CLKTCK: %lu\n", getauxval(AT_CLKTCK));
	printf("AT_SECURE: %lu\n", getauxval(AT_SECURE));
	printf("AT_FLAGS: %lu\n", getauxval(AT_FLAGS));
	printf("AT_BASE: %lu\n", getauxval(AT_BASE));
	printf("AT_UID is getuid(): %s\n", yesno(getauxval(AT_UID) == (unsigned long)getuid()));
	printf("AT_EUID is geteuid(): %s\n", yesno(getauxval(AT_EUID) == (unsigned long)geteuid()));
	printf("AT_GID is getgid(): %s\n", yesno(getauxval(AT_GID) == (unsigned long)getgid()));
	printf("AT_EGID is getegid(): %s\n", yesno(getauxval(AT_EGID) == (unsigned long)getegid()));

	unsigned long phdr = getauxval(AT_PHDR);
	printf("AT_PHDR nonzero: %s\n", yesno(phdr != 0));
	printf("AT_PHDR is this executable's program headers: %s\n",
	       yesno(phdr == (unsigned long)((const char *)&__ehdr_start + __ehdr_start.e_phoff)));
	printf("AT_PHENT: %lu\n", getauxval(AT_PHENT));
	printf("AT_PHNUM is e_phnum: %s\n", yesno(getauxval(AT_PHNUM) == __ehdr_start.e_phnum));
	printf("AT_ENTRY is _start: %s\n", yesno(getauxval(AT_ENTRY) == (unsigned long)_start));

	unsigned long rnd = getauxval(AT_RANDOM);
	printf("AT_RANDOM nonzero: %s\n", yesno(rnd != 0));

	unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
	printf("AT_SYSINFO_EHDR nonzero: %s\n", yesno(vdso != 0));
	printf("AT_SYSINFO_EHDR is an ELF header: %s\n",
	       yesno(vdso != 0 && memcmp((const void *)vdso, ELFMAG, SELFMAG) == 0));

	unsigned long execfn = getauxval(AT_EXECFN);
	printf("AT_EXECFN nonzero: %s\n", yesno(execfn != 0));
	printf("AT_EXECFN: %s\n", execfn ? (const char *)execfn : "(none)");
	unsigned long platform = getauxval(AT_PLATFORM);
	printf("AT_PLATFORM nonzero: %s\n", yesno(platform != 0));
	printf("AT_PLATFORM: %s\n", platform ? (const char *)platform : "(none)");

	printf("AT_MINSIGSTKSZ nonzero: %s\n", yesno(getauxval(AT_MINSIGSTKSZ) != 0));
	printf("AT_HWCAP: %#lx\n", getauxval(AT_HWCAP));
	unsigned long hwcap2 = getauxval(AT_HWCAP2);
	printf("AT_HWCAP2 without bit 1: %#lx\n", hwcap2 & ~2UL);
	printf("AT_HWCAP2 FSGSBASE (bit 1): %s\n", (hwcap2 & 2) ? "set" : "clear");
	return 0;
}
