package tests

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sameAsNative runs argv natively with o and `golos run golosArgs...` (in o's working
// directory and environment too), and fails the test unless stdout and exit status are
// the same: for flags whose native equivalent is another command line (env -i, cd).
func sameAsNative(t *testing.T, o runOpts, argv, golosArgs []string) {
	t.Helper()
	needGolos(t)
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	nat := runNative(&o, argv...)
	g := runGolosOpts(&o, append([]string{"run"}, golosArgs...)...)
	if nat.err != nil || nat.timedOut {
		t.Fatalf("native %q: %s\nstderr:\n%s", argv, nat, clip(nat.stderr))
	}
	if g.err != nil || g.timedOut || g.signal != nat.signal || crashed(g.stderr) ||
		g.code != nat.code || !bytes.Equal(g.stdout, nat.stdout) {
		t.Errorf("golos run %q differs from native %q:\nnative: %s, golos: %s\n--- native stdout:\n%s--- golos stdout:\n%s--- golos stderr:\n%s---",
			golosArgs, argv, nat, g, clip(nat.stdout), clip(g.stdout), clip(g.stderr))
	}
}

// TestRunFlagForms: golos run's flags take their values in every form docker run
// accepts: the next argument, after '=' for a short flag as for a long one, or attached
// to a short flag.
func TestRunFlagForms(t *testing.T) {
	const env = "/usr/bin/env"
	cases := []struct {
		name      string
		nativeDir string
		native    []string
		golos     []string
	}{
		{"e=", "", []string{env, "-i", "A=1", "B=x=y", env}, []string{"--clear-env", "-e=A=1", "-e", "B=x=y", env}},
		{"env=", "", []string{env, "-i", "A=1", "B=", env}, []string{"--clear-env", "--env=A=1", "--env=B=", env}},
		{"e-attached", "", []string{env, "-i", "A=1", env}, []string{"--clear-env", "-eA=1", env}},
		{"w=", "/etc", []string{"/bin/pwd"}, []string{"-w=/etc", "/bin/pwd"}},
		{"workdir=", "/usr/include", []string{"/bin/pwd"}, []string{"--workdir=/usr/include", "/bin/pwd"}},
		{"w-attached", "/etc", []string{"/bin/pwd"}, []string{"-w/etc", "/bin/pwd"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sameAsNative(t, runOpts{dir: c.nativeDir}, c.native, c.golos)
		})
	}
}

// TestRunEnvFile: --env-file reads docker's format: KEY=VALUE lines taken as they are,
// '#' comments and blank lines skipped, a bare KEY takes golos's own value (and is
// left out when golos has none); -e wins over the file, a later file over an earlier.
func TestRunEnvFile(t *testing.T) {
	dir := t.TempDir()
	f1 := filepath.Join(dir, "one.env")
	f2 := filepath.Join(dir, "two.env")
	os.WriteFile(f1, []byte("# a comment\n\n   \n  INDENTED=yes\nSPACES=a b  \n"+
		"HASH=#not a comment\nQUOTED=\"kept\"\nEQ=x=y\nCRLF=dos\r\nFROM_HOST\nUNSET_ON_HOST\n"+
		"OVERRIDDEN=file\nLATER=one\n  # indented comment\nEMPTY=\n"), 0o644)
	os.WriteFile(f2, []byte("LATER=two"), 0o644) // no final newline
	const env = "/usr/bin/env"
	o := runOpts{env: []string{"FROM_HOST=host value"}, unsetEnv: []string{"UNSET_ON_HOST"}}
	sameAsNative(t, o,
		[]string{env, "-i", "INDENTED=yes", "SPACES=a b  ", "HASH=#not a comment", `QUOTED="kept"`, "EQ=x=y",
			"CRLF=dos", "FROM_HOST=host value", "EMPTY=", "LATER=two", "OVERRIDDEN=cli", env},
		[]string{"--clear-env", "-e", "OVERRIDDEN=cli", "--env-file", f1, "--env-file=" + f2, env})
}

// TestRunReadOnly: --read-only makes the root read-only, as docker run's does: with
// --root, the same as --root DIR:ro; without, the host's own root, while /dev stays
// writable and the working directory is golos's own. The same program without
// --read-only behaves as natively (the comparison shows the script itself works).
func TestRunReadOnly(t *testing.T) {
	dir := t.TempDir()
	script := "pwd; echo x > made; echo write=$?; echo y > /dev/null; echo devnull=$?; if read l < made; then echo $l; else echo none; fi"
	argv := []string{"/bin/sh", "-c", script}
	sameAsNative(t, runOpts{dir: dir}, argv, argv)
	os.Remove(filepath.Join(dir, "made"))

	g := runGolosOpts(&runOpts{dir: dir}, append([]string{"run", "--read-only"}, argv...)...)
	want := dir + "\nwrite=2\ndevnull=0\nnone\n"
	if string(g.stdout) != want || g.code != 0 {
		t.Errorf("golos run --read-only sh -c %q: %s, stdout %q, want %q\nstderr:\n%s", script, g, g.stdout, want, clip(g.stderr))
	}
	if _, err := os.Stat(filepath.Join(dir, "made")); err == nil {
		t.Errorf("golos run --read-only: the program created a file on the host")
	}
	if !bytes.Contains(g.stderr, []byte("Read-only file system")) {
		t.Errorf("golos run --read-only: the shell did not report EROFS; stderr:\n%s", clip(g.stderr))
	}

	// With --root: the same as DIR:ro, the root's program unable to write in it.
	rt := makeRootTree(t, "musl-static")
	for _, args := range [][]string{{"--root", rt.root, "--read-only"}, {"--read-only", "--root=" + rt.root}, {"--root", rt.root + ":ro"}} {
		g := runGolosOpts(&runOpts{dir: t.TempDir()}, append(append([]string{"run"}, args...), "/bin/root_probe", "creat", "/newfile")...)
		if !strings.Contains(string(g.stdout), "EROFS") {
			t.Errorf("golos run %s root_probe 'creat /newfile': %s, want EROFS\nstdout:\n%sstderr:\n%s",
				strings.Join(args, " "), g, clip(g.stdout), clip(g.stderr))
		}
	}
	if _, err := os.Stat(filepath.Join(rt.root, "newfile")); err == nil {
		t.Errorf("a program under --read-only created a file in the root")
	}
}

// TestRunBadFlags: a malformed flag is a usage error, as in docker run: exit status 125,
// one line on stderr, and the program does not run.
func TestRunBadFlags(t *testing.T) {
	dir := t.TempDir()
	badKey := filepath.Join(dir, "bad-key.env")
	os.WriteFile(badKey, []byte("OK=1\nA B=1\n"), 0o644)
	noName := filepath.Join(dir, "no-name.env")
	os.WriteFile(noName, []byte("=x\n"), 0o644)
	binary := filepath.Join(dir, "binary.env")
	os.WriteFile(binary, []byte("A=\xff\xfe\n"), 0o644)
	for _, args := range [][]string{
		{"-e", "=bad"},
		{"-e", ""},
		{"-e="},
		{"-e", "="},
		{"--env", "==x"},
		{"--env-file", filepath.Join(dir, "missing.env")},
		{"--env-file", badKey},
		{"--env-file", noName},
		{"--env-file", binary},
		{"--env-file"},
		{"--quiet=yes"},
		{"--read-only=true"},
		{"-w", ""},
		{"--root", ""},
		{"--root", dir + ":rx"},
		{"--volume", dir},
		{"--volume", dir + ":/"},
		{"--volume", dir + "://:ro"},
	} {
		full := append(append([]string{"run"}, args...), "/bin/echo", "the program ran")
		g := runGolos(t, badInputTimeout, full...)
		if g.code != 125 || g.signal != 0 || crashed(g.stderr) || len(g.stdout) != 0 {
			t.Errorf("golos %q: %s, stdout %q, want a usage error (status 125, nothing run)\nstderr:\n%s",
				full, g, g.stdout, clip(g.stderr))
			continue
		}
		oneLine(t, "golos "+strings.Join(full, " "), g.stderr)
	}
}

// TestRunRelativeRoot: a relative --root and --volume name directories from golos's
// working directory for the whole run, execve included: golos runs the new program as a
// new golos with the same flags, from the program's own working directory.
func TestRunRelativeRoot(t *testing.T) {
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Fatalf("no /bin/busybox: %s", installHint)
	}
	dir := t.TempDir()
	for _, d := range []string{"rfs/bin", "rfs/data", "vol"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, "/bin/busybox", filepath.Join(dir, "rfs", "bin", "busybox"), 0o755)
	if err := os.WriteFile(filepath.Join(dir, "vol", "f"), []byte("in the volume\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sameAsNative(t, runOpts{dir: dir},
		[]string{"/bin/busybox", "sh", "-c", "exec /bin/busybox cat vol/f"},
		[]string{"--root", "rfs", "--volume", "vol:/data", "/bin/busybox", "sh", "-c", "exec /bin/busybox cat /data/f"})
}
