package tests

import (
	"os"
	"path/filepath"
	"testing"
)

// TestProcChroot: chroot(2) as root, natively and under golos (without --root): its
// errors (EFAULT, ENOENT, ENOTDIR; EACCES before EPERM for another user), getcwd(2)
// while the working directory is outside the new root ("(unreachable)…"), relative
// paths from there, "..", an absolute symlink and /proc's absence inside, a unix
// socket's path, and the root kept by a fork's child, an execve's program (also one
// made while another thread runs: a new golos), a posix_spawn's (a vfork) and a chroot
// nested in a child; and the way out, fchdir to a directory opened before and chroot(".")
// (proc_chroot.c).
func TestProcChroot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the native half needs root (CAP_SYS_CHROOT)")
	}
	forFlavours(t, "proc_chroot", func(t *testing.T, p string) {
		h := t.TempDir()
		tree := filepath.Join(h, "tree")
		for _, d := range []string{"sub", "bin", "open", "locked"} {
			if err := os.MkdirAll(filepath.Join(tree, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		// The other user's child (65534) enters the tree from H by its relative name.
		for d, mode := range map[string]os.FileMode{h: 0o755, tree: 0o755, filepath.Join(tree, "locked"): 0o700} {
			if err := os.Chmod(d, mode); err != nil {
				t.Fatal(err)
			}
		}
		for name, content := range map[string]string{"hello": "hello from the tree\n", "sub/file": "sub file\n"} {
			if err := os.WriteFile(filepath.Join(tree, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink("/hello", filepath.Join(tree, "abs")); err != nil {
			t.Fatal(err)
		}
		rootCopy(t, p, filepath.Join(tree, "bin", "inner"), 0o755)
		nat, _ := runBothOpts(t, runOpts{dir: h}, p, "tree")
		wantNative(t, nat, 0, "chroot NULL: EFAULT\n", "as nobody: chroot open: EPERM\n", "as nobody: chroot locked: EACCES\n",
			"getcwd outside the root: (unreachable) and the old path\n", "relative from outside: tree/hello: hello from the tree\n",
			"after chdir: ls /: . .. abs bin hello locked open sub\n", "exec child: exit 3\n", "threaded exec: getcwd ok /sub\n", "spawned: exit 3\n",
			"nested: /file: sub file\n", "nested grandchild: /file: sub file\n", "after chroot /: /hello: hello from the tree\n",
			"chroot . (outside): ok\n", "out: /tree/hello: hello from the tree\n")
	})
}
