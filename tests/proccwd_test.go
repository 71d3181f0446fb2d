package tests

import "testing"

// TestProcCwd: without --root, paths to the program's files in /proc that are relative to
// a working directory in /proc or at / (cd /proc/self; cat status; ls fd; proc/self/fd
// from /), or that reach it through "..", show the program's files, not golos's (its
// status's Threads line, its exe, its descriptors only); ".." after /proc/self/cwd and
// /proc/self/fd/N is the parent of their target; access(2), faccessat(2) and faccessat2
// of /proc/self/… paths answer for the program (golos's own descriptors are not there).
// Natively and under golos the output must be the same.
func TestProcCwd(t *testing.T) {
	forFlavours(t, "proc_cwd", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "access /proc/self/exe X_OK: ok\n",
			"cwd /proc/self: status: Threads:\t1\n", "cwd /proc/self: exe: readlink same, stat same\n",
			"/proc/self/fd/N/../marker: found\n", "cwd /: proc/self/status: Threads:\t1\n")
	})
}
