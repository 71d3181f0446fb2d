package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// nestedForkScript forks a chain of processes, each the child of the one before (a
// subshell in a subshell, and a command substitution and a pipeline at each level), as
// deep as its argument, and says how deep it got.
const nestedForkScript = `d() { echo "depth $1 $(echo sub)"; if [ $1 -lt $2 ]; then (d $(($1+1)) $2; :) | cat; fi; }; d 0 $0`

// TestFilesNestedForks: a chain of forks 12 deep (each process the child of the one
// before) under RLIMIT_NOFILE 1024, with a root and volumes, runs to the end as natively.
// Each generation's golos took the top of its descriptor table from the highest
// descriptor it had, its end of the socket to its parent, which the parent places above
// its own descriptors (vfs.HighFD): the top doubled at each generation (56, 120, 248, 504,
// 1016) until the child's golos found no room under the limit for its root's and volumes'
// descriptors and the program's fork failed with ENOMEM ("can't fork: Cannot allocate
// memory" under podman --ulimit nofile=1024:1024, from a program itself forked).
func TestFilesNestedForks(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatalf("prlimit (util-linux) is not installed: %v", err)
	}
	const depth = "12"
	lim := "1024:1024"
	nargv := withLimit(lim, "/bin/busybox", "sh", "-c", nestedForkScript, depth)
	nat := run(exec.Command(nargv[0], nargv[1:]...), &runOpts{dir: t.TempDir()}, runTimeout)
	want := fmt.Sprintf("depth %s sub\n", depth)
	wantNative(t, nat, 0, want)

	needGolos(t)
	root := t.TempDir()
	for _, d := range []string{"bin", "dev", "tmp", "a", "b", "c"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, "/bin/busybox", filepath.Join(root, "bin", "busybox"), 0o755)
	if err := os.Symlink("busybox", filepath.Join(root, "bin", "cat")); err != nil {
		t.Fatal(err)
	}
	vol := t.TempDir()
	args := []string{golosBin, "run", "--root", root, "--volume", "/dev:/dev", "--volume", vol + ":/tmp",
		"--volume", vol + ":/a", "--volume", vol + ":/b", "--volume", vol + ":/c",
		"/bin/busybox", "sh", "-c", nestedForkScript, depth}
	what := "prlimit --nofile=" + lim + " golos run --root R (5 volumes)"
	g := runGolosArgv(&runOpts{dir: t.TempDir()}, withLimit(lim, args...)...)
	wantSameRun(t, what, g, nat)
}

// wantSameRun checks that golos ran (golosRanOK) and that g, its run described by what,
// ended as nat, the native run, with the same stdout.
func wantSameRun(t *testing.T, what string, g, nat *result) {
	t.Helper()
	if !golosRanOK(t, what, g) {
		return
	}
	if g.code != nat.code || !bytes.Equal(g.stdout, nat.stdout) {
		t.Errorf("%s: %s, native %s\n--- native stdout:\n%s--- golos stdout:\n%s--- golos stderr:\n%s",
			what, g, nat, nat.stdout, g.stdout, clip(g.stderr))
	}
}

// TestFilesLowLimitForks: forks under a low RLIMIT_NOFILE whose hard limit golos may not
// raise, as natively: a dynamic bash's pipelines under 20 descriptors, and busybox's in a
// root with two volumes under 32. A forked child's golos opened every file the program
// had mapped before mapping any (EMFILE under 20: "fork: open .../LC_MONETARY to map it
// in the child: too many open files"), and a fork found no number for its socket to the
// child when golos's own descriptors filled those above vfs.HighFD (EMFILE under 64 with
// a root and a volume).
func TestFilesLowLimitForks(t *testing.T) {
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatalf("prlimit (util-linux) is not installed: %v", err)
	}
	const script = `ls / >/dev/null | cat; echo "$(echo sub) $( (echo nested | cat) )"; sh -c 'echo exec' | cat`
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for _, d := range []string{"bin", "dev", "tmp"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, "/bin/busybox", filepath.Join(root, "bin", "busybox"), 0o755)
	for _, app := range []string{"sh", "cat", "ls"} {
		if err := os.Symlink("busybox", filepath.Join(root, "bin", app)); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name, lim string
		native    []string
		golos     []string
	}{
		{"bash", "20:20", []string{bash, "-c", script}, []string{golosBin, "run", bash, "-c", script}},
		{"root", "32:32", []string{"chroot", root, "/bin/sh", "-c", script},
			[]string{golosBin, "run", "--root", root, "--volume", "/dev:/dev", "--volume", t.TempDir() + ":/tmp", "/bin/sh", "-c", script}},
	} {
		t.Run(c.name, func(t *testing.T) {
			nargv := withLimit(c.lim, c.native...)
			nat := run(exec.Command(nargv[0], nargv[1:]...), &runOpts{dir: t.TempDir()}, runTimeout)
			wantNative(t, nat, 0, "sub nested\n", "exec\n")
			needGolos(t)
			what := "prlimit --nofile=" + c.lim + " golos run"
			g := runGolosArgv(&runOpts{dir: t.TempDir()}, withLimit(c.lim, c.golos...)...)
			wantSameRun(t, what, g, nat)
		})
	}
}

// TestFilesStdClosed: a program started without descriptor 1, or without 0, 1 and 2,
// gets them from its first open(2)s, and so do its forked child and the program that
// child execs, as natively. The Go runtime opens /dev/null in their place at golos's
// start (runtime/fds_unix.go, checkfds), so the program's first opens got 3 and 4;
// golos's entry point notes which were closed, and golos closes those again.
func TestFilesStdClosed(t *testing.T) {
	forFlavours(t, "files_stdclosed", func(t *testing.T, p string) {
		for _, c := range []struct{ name, redir string }{{"stdout", ">&-"}, {"all", "<&- >&- 2>&-"}} {
			t.Run(c.name, func(t *testing.T) {
				outputs := map[string]string{}
				for _, side := range []string{"native", "golos"} {
					out := filepath.Join(t.TempDir(), "out")
					if err := os.WriteFile(out, nil, 0o644); err != nil {
						t.Fatal(err)
					}
					argv := []string{p, out}
					if side == "golos" {
						needGolos(t)
						argv = append([]string{golosBin, "run"}, argv...)
					}
					r := run(exec.Command("sh", append([]string{"-c", `exec "$@" ` + c.redir, "sh"}, argv...)...), &runOpts{}, runTimeout)
					if r.code != 0 || r.timedOut {
						t.Fatalf("%s with %s: %s\nstderr:\n%s", side, c.redir, r, clip(r.stderr))
					}
					b, err := os.ReadFile(out)
					if err != nil {
						t.Fatal(err)
					}
					outputs[side] = string(b)
				}
				if !strings.Contains(outputs["native"], "program: open(2) gives ") || strings.Count(outputs["native"], "\n") != 3 {
					t.Fatalf("natively with %s:\n%s", c.redir, outputs["native"])
				}
				if outputs["golos"] != outputs["native"] {
					t.Errorf("with %s: golos\n%snatively\n%s", c.redir, outputs["golos"], outputs["native"])
				}
			})
		}
	})
}
