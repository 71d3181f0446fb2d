package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestInstall: `./golos install PREFIX` puts golos and golos-oci in PREFIX/bin, its man page and its
// bash completion where man and bash-completion look, and the installed golos runs a
// program as it runs natively. The entry script runs from a copy of the repository's
// files it uses, with the golos under test as its up-to-date .build/golos (no sources,
// so nothing to rebuild).
func TestInstall(t *testing.T) {
	needGolos(t)
	repo := t.TempDir()
	for _, d := range []string{".build", "docs"} {
		if err := os.MkdirAll(filepath.Join(repo, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, "../golos", filepath.Join(repo, "golos"), 0o755)
	copyFile(t, "../docs/golos.1", filepath.Join(repo, "docs", "golos.1"), 0o644)
	copyFile(t, "../docs/golos.bash-completion", filepath.Join(repo, "docs", "golos.bash-completion"), 0o644)
	copyFile(t, golosBin, filepath.Join(repo, ".build", "golos"), 0o755)
	ociBin := filepath.Join(filepath.Dir(golosBin), "golos-oci")
	copyFile(t, ociBin, filepath.Join(repo, ".build", "golos-oci"), 0o755)

	prefix := filepath.Join(t.TempDir(), "usr", "local") // not there yet
	cmd := exec.Command(filepath.Join(repo, "golos"), "install", prefix)
	cmd.Dir = t.TempDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("golos install %s: %v\n%s", prefix, err, out)
	}
	for _, f := range []struct {
		path string
		mode os.FileMode
		from string
	}{
		{"bin/golos", 0o755, golosBin},
		{"bin/golos-oci", 0o755, ociBin},
		{"share/man/man1/golos.1", 0o644, "../docs/golos.1"},
		{"share/bash-completion/completions/golos", 0o644, "../docs/golos.bash-completion"},
	} {
		p := filepath.Join(prefix, f.path)
		st, err := os.Stat(p)
		if err != nil {
			t.Errorf("golos install: %v", err)
			continue
		}
		if st.Mode().Perm() != f.mode {
			t.Errorf("golos install: %s has mode %v, want %v", p, st.Mode().Perm(), f.mode)
		}
		a, _ := os.ReadFile(p)
		b, _ := os.ReadFile(f.from)
		if !bytes.Equal(a, b) {
			t.Errorf("golos install: %s is not a copy of %s", p, f.from)
		}
	}

	o := runOpts{dir: t.TempDir()}
	argv := []string{"/bin/echo", "hello from the installed golos"}
	nat := runNative(&o, argv...)
	g := run(exec.Command(filepath.Join(prefix, "bin", "golos"), append([]string{"run"}, argv...)...), &o, runTimeout)
	if g.err != nil || g.code != nat.code || !bytes.Equal(g.stdout, nat.stdout) {
		t.Errorf("installed golos run %q: %s, stdout %q; native: %s, stdout %q\nstderr:\n%s",
			argv, g, g.stdout, nat, nat.stdout, clip(g.stderr))
	}
}
