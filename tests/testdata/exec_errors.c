/*
 * exec_errors.c — what execve(2) answers for files it cannot run: a FIFO and a directory
 * (EACCES), a text file without "#!" (ENOEXEC: a shell then runs it as a script itself),
 * a file without the execute bit (EACCES), a missing file (ENOENT). The files are made in
 * the working directory. A kernel must return these to the caller, not end the process.
 * So must it for scripts and ELF files whose interpreters cannot run (see main).
 */
#include <elf.h>
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

/* script writes an executable file holding text. */
static void script(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	write(fd, text, strlen(text));
	close(fd);
}

/* elf writes an executable x86-64 ELF header with one program header, a PT_INTERP
 * naming interp: Linux opens the interpreter while it reads the program headers, before
 * its point of no return (fs/binfmt_elf.c, load_elf_binary). */
static void elf(const char *path, const char *interp)
{
	unsigned char b[256] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
	Elf64_Ehdr *e = (Elf64_Ehdr *)b;
	e->e_type = ET_EXEC;
	e->e_machine = EM_X86_64;
	e->e_version = EV_CURRENT;
	e->e_entry = 0x401000;
	e->e_phoff = sizeof *e;
	e->e_ehsize = sizeof *e;
	e->e_phentsize = sizeof(Elf64_Phdr);
	e->e_phnum = 2;
	Elf64_Phdr *ph = (Elf64_Phdr *)(b + sizeof *e);
	size_t at = sizeof *e + 2 * sizeof *ph;
	ph[0].p_type = PT_INTERP;
	ph[0].p_offset = at;
	ph[0].p_filesz = strlen(interp) + 1;
	ph[0].p_flags = PF_R;
	ph[1].p_type = PT_LOAD;
	ph[1].p_vaddr = 0x400000;
	ph[1].p_filesz = ph[1].p_memsz = sizeof b;
	ph[1].p_flags = PF_R | PF_X;
	ph[1].p_align = 0x1000;
	strcpy((char *)b + at, interp);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	write(fd, b, sizeof b);
	close(fd);
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

	/* Failures Linux finds before its point of no return, which golos found after it
	 * (the process ended instead): a script's missing or unrunnable interpreter, too
	 * many levels of them, an empty "#!" line, a truncated ELF, an ELF whose PT_INTERP
	 * is missing, too short for an ELF header, or no ELF. */
	script("interp-missing", "#!/nonexistent/interp\n");
	try("./interp-missing");
	script("interp-noexec", "#!./noexec\n");
	try("./interp-noexec");
	script("interp-dir", "#!./dir\n");
	try("./interp-dir");
	script("level5", "#!./level4\n");
	script("level4", "#!./level3\n");
	script("level3", "#!./level2\n");
	script("level2", "#!./level1\n");
	script("level1", "#!./interp-missing\n");
	try("./level5");
	script("level6", "#!./level5\n"); /* one level too many: ELOOP once the last is found */
	script("last", "#!/bin/sh\n");
	script("level1", "#!./last\n");
	try("./level6");
	script("empty", "#!\n");
	try("./empty");
	script("truncated", "\177ELF\2\1\1");
	try("./truncated");
	elf("pt-interp-missing", "/nonexistent/ld.so");
	try("./pt-interp-missing");
	elf("pt-interp-short", "./text");
	try("./pt-interp-short");
	script("garbage", "this is a long enough file to hold an ELF header, but it is no ELF file\n");
	elf("pt-interp-garbage", "./garbage");
	try("./pt-interp-garbage");
	return 0;
}
