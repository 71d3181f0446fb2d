/*
 * exec_stack.c — a program whose PT_GNU_STACK asks for an executable stack: GCC's nested
 * functions that use their parent's locals are called through a trampoline written on
 * the stack, so this file's objects are marked as needing one (ld warns) and Linux maps
 * the main stack with PROT_EXEC (fs/binfmt_elf.c, load_elf_binary: EXSTACK_ENABLE_X;
 * fs/exec.c, setup_arg_pages). The trampoline is called in the program, in a fork's
 * child and in the program run again by execve; /proc/self/maps shows the stack's
 * permissions. A stack mapped without PROT_EXEC ends the program with SIGSEGV at the
 * first call.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int through_trampoline(int k)
{
	int add(int a) { return a + k; }
	int (*volatile fp)(int) = add;
	return fp(41);
}

/* stack_perms prints the permissions of the [stack] line of /proc/self/maps. */
static void stack_perms(const char *who)
{
	char line[512], perms[8] = "none";
	FILE *f = fopen("/proc/self/maps", "r");
	while (f && fgets(line, sizeof line, f)) {
		if (strstr(line, "[stack]"))
			sscanf(line, "%*s %7s", perms);
	}
	if (f)
		fclose(f);
	printf("%s: [stack] %s\n", who, perms);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		printf("after execve: trampoline %d\n", through_trampoline(1));
		stack_perms("after execve");
		return 0;
	}
	printf("program: trampoline %d\n", through_trampoline(1));
	stack_perms("program");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		printf("child: trampoline %d\n", through_trampoline(2));
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child status %#x\n", st);
	fflush(stdout);
	char *args[] = {argv[0], "again", NULL};
	execv("/proc/self/exe", args);
	perror("execv");
	return 1;
}
