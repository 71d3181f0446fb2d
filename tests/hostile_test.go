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

// TestExecE2big: execve with a string longer than MAX_ARG_STRLEN, or strings beyond
// Linux's share of RLIMIT_STACK, fails with E2BIG and the program goes on, the limit at
// the byte where Linux puts it for several stack limits (testdata/exec_e2big.c). golos
// answered ENAMETOOLONG for the long string, and found too much in all only after its
// point of no return: the process died of SIGSEGV.
func TestExecE2big(t *testing.T) {
	forFlavours(t, "exec_e2big", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "one string: longest last string 131071, one byte more: E2BIG\n",
			"stack limit 8192 KiB: 20 strings of 100000 fit, 21: E2BIG\n",
			"stack limit 256 KiB: 1 strings of 100000 fit, 2: E2BIG\n", "after: errno0\n")
	})
}
