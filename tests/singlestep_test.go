package tests

import "testing"

// TestSignalsSingleStep: a program that sets TF (the trap flag) itself and counts its
// SIGTRAPs gets as many as natively, each at its own code, through a signal handler's
// return (which enters the program with TF), a raw syscall, a handler run meanwhile and
// a libc wrapper whose syscall site golos rewrites. golos crashed (a Go fatal error) at
// the first return from the SIGTRAP handler: its entry code loaded the flags, TF with
// them, a few instructions before the jump into the program, and trapped in its own code.
func TestSignalsSingleStep(t *testing.T) {
	forFlavours(t, "sig_step", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "three nops: 6 traps, si_code and si_addr right: yes, in the program's code: yes\n",
			"SIGUSR1 handled 1 time(s), with TF 0\n",
			"libc getppid, round 5: ")
	})
}
