package tests

import (
	"strings"
	"testing"
)

// TestProctitle: a program that renames itself by writing over its argument strings, as
// servers do with setproctitle (redis, nginx, sshd, PostgreSQL), shows the new name in
// /proc/self/cmdline and, to the other processes of the tree (ps), in /proc/PID/cmdline;
// /proc/self/environ shows the environment strings as they are now. Linux reads both
// from the process's memory (fs/proc/base.c, get_mm_cmdline, get_mm_proctitle,
// environ_read); golos showed the argv and envp it had started the program with.
// testdata/proctitle.c renames itself within its arguments, past them into its
// environment, and with no NUL left, and prints what it and a forked child read.
func TestProctitle(t *testing.T) {
	forFlavours(t, "proctitle", func(t *testing.T, p string) {
		nat, _ := runBothOpts(t, runOpts{env: []string{"PROCTITLE=x", "LONGER=0123456789abcdef0123456789abcdef0123456789abcdef"}},
			p, "--port", "6379")
		wantNative(t, nat, 0, "within: parent seen by child: ", "server *:6379|{", "environ: ", "PROCTITLE=changed|")
		// The renamings that run past the arguments end at the environment's first byte.
		for _, step := range []string{"overflow: self: ", "overflow: parent seen by child: ", "no-nul: child: "} {
			i := strings.Index(string(nat.stdout), step)
			line, _, _ := strings.Cut(string(nat.stdout[max(i, 0):]), "\n")
			if i < 0 || !strings.HasSuffix(line, "|") || strings.Contains(line, "6379") {
				t.Errorf("test program misbehaves natively: no %q line of a title ending at a NUL past the arguments:\n%s", step, clip(nat.stdout))
			}
		}
	})
}
