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
