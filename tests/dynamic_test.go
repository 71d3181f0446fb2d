package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestLdSoAsProgram: the dynamic loader run as the program, with its own options, loads
// and runs the program named after them, as natively.
func TestLdSoAsProgram(t *testing.T) {
	for _, argv := range [][]string{
		{"/lib64/ld-linux-x86-64.so.2", "/bin/echo", "from ld.so"},
		{"/lib64/ld-linux-x86-64.so.2", "--library-path", "/lib/x86_64-linux-gnu", "/bin/ls", "-1", "/usr/include/linux/netfilter"},
	} {
		t.Run(filepath.Base(argv[len(argv)-1]), func(t *testing.T) { runBoth(t, argv...) })
	}
	// musl's loader with a dynamic musl program.
	dir := t.TempDir()
	src := filepath.Join(dir, "hello.c")
	os.WriteFile(src, []byte("#include <stdio.h>\nint main(int c,char**v){printf(\"musl dynamic %d\\n\",c);return 4;}\n"), 0o644)
	bin := filepath.Join(dir, "hello-musl")
	if out, err := exec.Command("musl-gcc", "-O2", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("musl-gcc: %v\n%s", err, out)
	}
	t.Run("ld-musl", func(t *testing.T) { runBoth(t, "/lib/ld-musl-x86_64.so.1", bin, "x") })
	t.Run("musl-dynamic", func(t *testing.T) { runBoth(t, bin, "x", "y") })
}

// TestExecComm: a program's name (/proc/self/comm) after execve is the last element of the
// path execve was given (fs/exec.c, begin_new_exec): busybox sh runs an applet found in
// PATH by execve("/proc/self/exe", ["cat", …]), sees the name "exe" and renames itself to
// the applet; golos, which runs the program's own file for /proc/self/exe, gave it the
// name "busybox", so it stayed that.
func TestExecComm(t *testing.T) {
	nat, _ := runBoth(t, "/bin/busybox", "sh", "-c", "cat /proc/self/comm; /bin/busybox cat /proc/self/comm; /bin/cat /proc/self/comm")
	wantNative(t, nat, 0, "cat\nbusybox\ncat\n")
}

// TestShebang: a script runs its #! interpreter with the optional argument and the
// script's path before its own arguments (execve(2), "Interpreter scripts").
func TestShebang(t *testing.T) {
	dir := t.TempDir()
	script := filepath.Join(dir, "numbered")
	if err := os.WriteFile(script, []byte("#!/bin/cat -n\nline two\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	runBoth(t, script)
	nested := filepath.Join(dir, "nested")
	os.WriteFile(nested, []byte("#!"+script+"\n"), 0o755) // a script as an interpreter
	runBoth(t, nested)
	echo := filepath.Join(dir, "echo.sh")
	os.WriteFile(echo, []byte("#!/bin/busybox sh\necho \"$0 $1 $#\"\nexit 5\n"), 0o755)
	runBoth(t, echo, "arg")
	// A tab separates the interpreter from its argument too, and the argument keeps
	// its inner blanks (fs/binfmt_script.c).
	tab := filepath.Join(dir, "tab.sh")
	os.WriteFile(tab, []byte("#!/bin/busybox\tsh  \t\necho \"tab $#\"\n"), 0o755)
	runBoth(t, tab)
	// A script's process is named after the script, not its interpreter (its comm, as
	// execve(2) sets it from the file it was given), run directly and from a shell.
	comm := filepath.Join(dir, "comm-script")
	os.WriteFile(comm, []byte("#!/bin/sh\ncat /proc/$$/comm\n"), 0o755)
	nat, _ := runBoth(t, comm)
	wantNative(t, nat, 0, "comm-script\n")
	runBoth(t, "/bin/sh", "-c", comm+"; exit")
}

// TestRunFlags: -e, --clear-env and -w do what docker run's do.
func TestRunFlags(t *testing.T) {
	needGolos(t)
	r := runGolos(t, runTimeout, "run", "--clear-env", "-e", "FOO=bar", "-e", "ZED=1", "/usr/bin/env")
	if r.code != 0 || string(r.stdout) != "FOO=bar\nZED=1\n" {
		t.Errorf("--clear-env -e: exit %d, stdout %q, want FOO=bar and ZED=1 alone", r.code, r.stdout)
	}
	r = runGolos(t, runTimeout, "run", "-w", "/usr/include", "/bin/pwd")
	if r.code != 0 || strings.TrimSpace(string(r.stdout)) != "/usr/include" {
		t.Errorf("-w /usr/include: exit %d, stdout %q", r.code, r.stdout)
	}
	os.Setenv("GOLOS_TEST_PASSED", "from the host")
	defer os.Unsetenv("GOLOS_TEST_PASSED")
	r = runGolos(t, runTimeout, "run", "--clear-env", "-e", "GOLOS_TEST_PASSED", "/usr/bin/env")
	if string(r.stdout) != "GOLOS_TEST_PASSED=from the host\n" {
		t.Errorf("-e KEY takes golos's own value: stdout %q", r.stdout)
	}
}

// TestExecve: execve(2) runs the new program in place, with its arguments and
// environment, and its exit status is the process's.
func TestExecve(t *testing.T) {
	runBoth(t, "/usr/bin/env", "-i", "A=1", "/usr/bin/env")
	runBoth(t, "/usr/bin/python3", "-S", "-c", "import os; os.execv('/bin/sh', ['sh', '-c', 'echo replaced; exit 9'])")
}
