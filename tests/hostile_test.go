package tests

import "testing"

// TestExecStack: a program whose PT_GNU_STACK asks for an executable stack (GCC's nested
// functions, their trampolines on the stack) gets one, as from Linux, in the program, a
// fork's child and after execve (testdata/exec_stack.c); golos mapped the stack without
// PROT_EXEC and the program died of SIGSEGV at its first trampoline.
func TestExecStack(t *testing.T) {
	forFlavours(t, "exec_stack", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "program: trampoline 42\n", "program: [stack] rwxp\n",
			"child: trampoline 43\n", "child status 0\n",
			"after execve: trampoline 42\n", "after execve: [stack] rwxp\n")
	})
}
