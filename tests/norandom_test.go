package tests

import "testing"

// TestPersonalityNoRandomize: personality(ADDR_NO_RANDOMIZE), which setarch -R and gdb
// set, succeeds and makes every later execve's layout the same, as natively. golos
// refused it with EPERM (it allowed only the personas of Docker's seccomp profile), so
// "setarch -R PROG" failed under golos.
func TestPersonalityNoRandomize(t *testing.T) {
	forFlavours(t, "norandom", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "set: ok, was 0, now 0x40000\n", "children exited 0 0, persona in them 0x40000\n",
			"layout the same at both execs: yes\n")
	})
}

// TestStackGap: below the argument and environment strings at the top of the main stack,
// Linux leaves a random gap of up to 8 KiB, then aligns to 16 bytes, before the platform
// string and the rest of the initial stack (arch_align_stack; testdata/stack_gap.c);
// under ADDR_NO_RANDOMIZE only the alignment. golos put the platform string right below
// the strings, so the program's first frames always sat in the stack's top page, and a
// program that moved that page away with mremap crashed where natively it mostly does
// not.
func TestStackGap(t *testing.T) {
	forFlavours(t, "stack_gap", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "each gap aligned and below 8 KiB + 16: yes\n", "gaps differ between execs: yes\n",
			"without randomization, only the alignment: yes\n")
	})
}
