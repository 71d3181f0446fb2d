package tests

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// podman with golos-oci as its runtime, against the same containers under runc: an image
// the test builds with `podman import` from host files (busybox-static, a static and a
// dynamic C program, python3 with its standard library). run-tests installs podman and
// runc. The two --ulimit flags: without them runc fails on this kind of machine's hard
// limits.

var podmanLimits = []string{"--network=none", "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"}

var (
	podmanImageOnce sync.Once
	podmanImage     string
	podmanImageErr  error
)

// ociImage imports the test image once per test run (removed when the run ends, by
// TestMain's cleanup of podmanImage, see cleanupPodman).
func ociImage(t *testing.T) string {
	t.Helper()
	needProgram(t, "/usr/bin/podman", "podman")
	needProgram(t, "/usr/sbin/runc", "runc")
	ociBin(t)
	podmanImageOnce.Do(func() { podmanImage, podmanImageErr = buildOCIImage(t) })
	if podmanImageErr != nil {
		t.Fatalf("test image: %v", podmanImageErr)
	}
	return podmanImage
}

func buildOCIImage(t *testing.T) (string, error) {
	stage := filepath.Join(workDir, "oci-image")
	files := map[string]string{
		"/bin/busybox": "bin/busybox", prog(t, "exitcode.glibc-static"): "bin/exitcode",
		prog(t, "oci_crash.glibc-static"): "bin/crash", "/usr/bin/python3.11": "usr/bin/python3",
		prog(t, "oci_syscall.glibc-static"): "bin/syscall", prog(t, "oci_forkcount.glibc-static"): "bin/forkcount",
	}
	// The dynamic program and python3 need their libraries and the loader.
	for _, lib := range []string{"/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6",
		"/lib/x86_64-linux-gnu/libm.so.6", "/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libexpat.so.1"} {
		files[lib] = strings.TrimPrefix(lib, "/")
	}
	for from, to := range files {
		rootCopy(t, from, filepath.Join(stage, to), 0o755)
	}
	if out, err := exec.Command("gcc", "-O2", "-o", filepath.Join(stage, "bin/args"), "testdata/args.c").CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc (dynamic args): %v: %s", err, out)
	}
	for _, l := range []string{"sh", "echo", "cat", "sleep", "ls", "touch", "hostname", "env", "grep", "sort", "mkdir", "rmdir", "ps", "awk", "tr", "wc", "readlink", "chown"} {
		if err := os.Symlink("busybox", filepath.Join(stage, "bin", l)); err != nil {
			return "", err
		}
	}
	for _, d := range []string{"tmp", "etc", "data"} {
		os.MkdirAll(filepath.Join(stage, d), 0o755)
	}
	os.Chmod(filepath.Join(stage, "tmp"), 0o1777)
	os.MkdirAll(filepath.Join(stage, "usr/lib"), 0o755)
	if out, err := exec.Command("cp", "-a", "/usr/lib/python3.11", filepath.Join(stage, "usr/lib/")).CombinedOutput(); err != nil {
		return "", fmt.Errorf("copy python's library: %v: %s", err, out)
	}
	for _, d := range []string{"test", "dist-packages", "site-packages", "idlelib", "tkinter", "ensurepip"} {
		os.RemoveAll(filepath.Join(stage, "usr/lib/python3.11", d))
	}
	name := fmt.Sprintf("localhost/golos-oci-test:%d", os.Getpid())
	tar := exec.Command("tar", "-C", stage, "-c", ".")
	imp := exec.Command("podman", "import", "--change", "ENV=PATH=/bin:/usr/bin", "-", name)
	pipe, err := tar.StdoutPipe()
	if err != nil {
		return "", err
	}
	imp.Stdin = pipe
	var impOut bytes.Buffer
	imp.Stdout, imp.Stderr = &impOut, &impOut
	if err := tar.Start(); err != nil {
		return "", err
	}
	if err := imp.Run(); err != nil {
		tar.Wait()
		return "", fmt.Errorf("podman import: %v: %s", err, impOut.Bytes())
	}
	tar.Wait()
	cleanups = append(cleanups, func() { exec.Command("podman", "rmi", "-f", name).Run() })
	return name, nil
}

// podman runs podman with args, the runtime first (runc or golos-oci).
func podman(t *testing.T, runtime string, args ...string) *result {
	t.Helper()
	o := runOpts{timeout: 90 * time.Second}
	return run(exec.Command("podman", append([]string{"--runtime", runtime}, args...)...), &o, o.timeout)
}

// runtimes are the two runtimes compared: runc first.
func runtimes(t *testing.T) [2]string { return [2]string{"runc", ociBin(t)} }

// samePodman runs `podman run --rm` with args under runc and golos-oci, and fails the
// test unless stdout, stderr and the exit status are the same.
func samePodman(t *testing.T, args ...string) {
	t.Helper()
	img := ociImage(t)
	var res [2]*result
	for i, rt := range runtimes(t) {
		a := append(append([]string{"run", "--rm"}, podmanLimits...), args...)
		for j, x := range a {
			if x == "IMAGE" {
				a[j] = img
			}
		}
		res[i] = podman(t, rt, a...)
	}
	r, g := res[0], res[1]
	if r.timedOut || r.err != nil {
		t.Fatalf("runc: %s: %s", r, r.stderr)
	}
	if g.code != r.code || !bytes.Equal(g.stdout, r.stdout) || !bytes.Equal(g.stderr, r.stderr) {
		t.Errorf("podman run %q: golos-oci differs from runc:\nrunc: %s, golos-oci: %s\n--- runc stdout:\n%s--- golos-oci stdout:\n%s--- runc stderr:\n%s--- golos-oci stderr:\n%s---",
			args, r, g, r.stdout, g.stdout, r.stderr, g.stderr)
	}
}

// TestOCIPodmanRun: `podman run --rm` of the same containers under runc and golos-oci:
// busybox, a static and a dynamic C program, python3, exit statuses, a program that dies
// of a signal, environment flags and an env file, a read-only root, a bind mount.
func TestOCIPodmanRun(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "env")
	if err := os.WriteFile(envFile, []byte("# comment\nGOLOS_TEST_A=from the file\nGOLOS_TEST_EMPTY=\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	vol := t.TempDir()
	if err := os.WriteFile(filepath.Join(vol, "f"), []byte("host file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
	}{
		{"busybox", []string{"IMAGE", "sh", "-c", "echo out; echo err >&2; ls /bin; exit 3"}},
		{"static", []string{"IMAGE", "/bin/exitcode", "5", "exit"}},
		// podman orders the environment differently from one run to the next: the
		// variables are compared sorted, without args's hash of them in order.
		{"dynamic-env", []string{"--hostname", "h", "-e", "GOLOS_TEST_A=a b", "-w", "/tmp", "IMAGE", "sh", "-c", `env | sort; /bin/args x "" | grep -v '^environment:'`}},
		{"env-file", []string{"--hostname", "h", "--env-file", envFile, "IMAGE", "sh", "-c", `env | sort; /bin/args | grep -v '^environment:'`}},
		{"python3", []string{"IMAGE", "python3", "-c", "import json, sys; print(json.dumps({'a': [1, 2]})); sys.exit(4)"}},
		{"crash", []string{"IMAGE", "/bin/crash"}},
		{"read-only", []string{"--read-only", "IMAGE", "sh", "-c", "touch /bin/x || echo refused"}},
		{"bind", []string{"-v", vol + ":/data", "IMAGE", "sh", "-c", "cat /data/f; echo new > /data/g; cat /data/g"}},
		{"bind-ro", []string{"-v", vol + ":/data:ro", "IMAGE", "sh", "-c", "cat /data/f; touch /data/h || echo refused"}},
		{"stdin", []string{"-i", "IMAGE", "cat"}},
		// The engine's files bound one by one (golos volumes of single files).
		{"etc-files", []string{"--hostname", "h", "IMAGE", "sh", "-c", "cat /etc/hostname; grep -c localhost /etc/hosts; ls -a /run"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { samePodman(t, c.args...) })
	}
}

// TestOCIPodmanDetached: `podman run -d`, `podman logs`, `podman exec`, `podman kill -s
// TERM` of a container whose handler outlives it, `podman stop`: the same logs, exec
// output and exit statuses as under runc.
func TestOCIPodmanDetached(t *testing.T) {
	img := ociImage(t)
	script := `trap 'echo got TERM' TERM; echo started; while :; do sleep 0.1; done`
	var logs [2]string
	for i, rt := range runtimes(t) {
		name := fmt.Sprintf("golos-oci-test-%d-%d", os.Getpid(), i)
		r := podman(t, rt, append(append([]string{"run", "-d", "--name", name}, podmanLimits...), img, "sh", "-c", script)...)
		if r.code != 0 {
			t.Fatalf("%s: podman run -d: %s: %s", rt, r, r.stderr)
		}
		t.Cleanup(func() { podman(t, rt, "rm", "-f", name) })
		waitLog(t, rt, name, "started\n")
		e := podman(t, rt, "exec", name, "sh", "-c", "echo in exec; cat /proc/1/cmdline >/dev/null; exit 6")
		if e.code != 6 || string(e.stdout) != "in exec\n" {
			t.Errorf("%s: podman exec: %s, stdout %q, stderr %q", rt, e, e.stdout, e.stderr)
		}
		if k := podman(t, rt, "kill", "-s", "TERM", name); k.code != 0 {
			t.Fatalf("%s: podman kill -s TERM: %s: %s", rt, k, k.stderr)
		}
		waitLog(t, rt, name, "started\ngot TERM\n")
		if s := podman(t, rt, "inspect", "-f", "{{.State.Running}}", name); string(s.stdout) != "true\n" {
			t.Errorf("%s: after its TERM handler ran the container is not running: %s %q", rt, s, s.stdout)
		}
		if s := podman(t, rt, "stop", "-t", "1", name); s.code != 0 {
			t.Errorf("%s: podman stop: %s: %s", rt, s, s.stderr)
		}
		s := podman(t, rt, "inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", name)
		logs[i] = string(podman(t, rt, "logs", name).stdout) + "state: " + string(s.stdout)
	}
	if logs[0] != logs[1] {
		t.Errorf("podman logs and state: runc:\n%s\ngolos-oci:\n%s", logs[0], logs[1])
	}
	// Without a handler, the container's first process, its pid namespace's init,
	// ignores podman stop's SIGTERM, and the SIGKILL after the timeout ends it (137).
	var states [2]string
	for i, rt := range runtimes(t) {
		name := fmt.Sprintf("golos-oci-test-init-%d-%d", os.Getpid(), i)
		r := podman(t, rt, append(append([]string{"run", "-d", "--name", name}, podmanLimits...), img,
			"sh", "-c", "echo started; while :; do sleep 0.1; done")...)
		if r.code != 0 {
			t.Fatalf("%s: podman run -d: %s: %s", rt, r, r.stderr)
		}
		t.Cleanup(func() { podman(t, rt, "rm", "-f", name) })
		waitLog(t, rt, name, "started\n")
		podman(t, rt, "stop", "-t", "1", name)
		states[i] = string(podman(t, rt, "inspect", "-f", "{{.State.Running}} {{.State.ExitCode}}", name).stdout)
	}
	if states[0] != states[1] || states[0] != "false 137\n" {
		t.Errorf("podman stop of a container without a TERM handler: runc %q, golos-oci %q, want \"false 137\"", states[0], states[1])
	}
}

// waitLog waits until `podman logs` of the container shows want.
func waitLog(t *testing.T, rt, name, want string) {
	t.Helper()
	var got string
	for i := 0; i < 100; i++ {
		got = string(podman(t, rt, "logs", name).stdout)
		if got == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s: podman logs %s: %q, want %q", rt, name, got, want)
}

// TestOCIContainerd: containerd's runc shim with golos-oci as its runc binary (`ctr run
// --runc-binary`), against the same containers under runc, on the podman test image
// (podman save, ctr images import). The test runs its own containerd on a socket of its
// own, stopped at the end.
func TestOCIContainerd(t *testing.T) {
	needProgram(t, "/usr/bin/containerd", "containerd")
	img := ociImage(t)
	dir, err := os.MkdirTemp("", "golos-ctr-")
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	d := exec.Command("containerd", "--address", sock, "--root", filepath.Join(dir, "root"),
		"--state", filepath.Join(dir, "state"), "--config", "/dev/null")
	var dlog bytes.Buffer
	d.Stdout, d.Stderr = &dlog, &dlog
	if err := d.Start(); err != nil {
		t.Fatalf("containerd: %v", err)
	}
	t.Cleanup(func() {
		d.Process.Kill()
		d.Wait()
		// The snapshots under root are mounted while containers run; none is left.
		os.RemoveAll(dir)
	})
	o := runOpts{timeout: 90 * time.Second}
	ctr := func(args ...string) *result {
		return run(exec.Command("ctr", append([]string{"--address", sock}, args...)...), &o, o.timeout)
	}
	for i := 0; ; i++ {
		if r := ctr("version"); r.code == 0 {
			break
		} else if i == 100 {
			t.Fatalf("containerd did not answer: %s: %s\ncontainerd's log:\n%s", r, r.stderr, dlog.Bytes())
		}
		time.Sleep(100 * time.Millisecond)
	}
	archive := filepath.Join(dir, "image.tar")
	if r := run(exec.Command("podman", "save", "-o", archive, img), &o, o.timeout); r.code != 0 {
		t.Fatalf("podman save: %s: %s", r, r.stderr)
	}
	if r := ctr("images", "import", archive); r.code != 0 {
		t.Fatalf("ctr images import: %s: %s", r, r.stderr)
	}
	cases := [][]string{
		{"sh", "-c", "echo from ctr; echo err >&2; ls /bin | head -3; exit 5"},
		{"/bin/exitcode", "7", "return"},
		{"/bin/crash"},
		{"python3", "-c", "import os; print(sorted(os.listdir('/')))"},
	}
	for n, argv := range cases {
		var res [2]*result
		for i, rt := range runtimes(t) {
			// ctr sometimes loses the whole stdout of a container that exits at once, under
			// runc too (its FIFOs are opened as the task starts): every case prints
			// something, so a run with an empty stdout is tried again, twice at most.
			for try := 0; try < 3; try++ {
				id := fmt.Sprintf("golos-oci-test-%d-%d-%d-%d", os.Getpid(), n, i, try)
				res[i] = ctr(append([]string{"run", "--rm", "--runc-binary", rt, img, id}, argv...)...)
				if len(res[i].stdout) > 0 || res[i].err != nil || res[i].timedOut {
					break
				}
				t.Logf("ctr run %q under %s: no stdout (%s), once more", argv, rt, res[i])
			}
		}
		r, g := res[0], res[1]
		if r.err != nil || r.timedOut {
			t.Fatalf("ctr run %q under runc: %s: %s", argv, r, r.stderr)
		}
		if g.code != r.code || !bytes.Equal(g.stdout, r.stdout) || !bytes.Equal(g.stderr, r.stderr) {
			t.Errorf("ctr run %q: golos-oci differs from runc:\nrunc: %s, golos-oci: %s\n--- runc stdout:\n%s--- golos-oci stdout:\n%s--- runc stderr:\n%s--- golos-oci stderr:\n%s---",
				argv, r, g, r.stdout, g.stdout, r.stderr, g.stderr)
		}
	}
}

// TestOCIPodmanTerminal: `podman run --rm -it` gives a working terminal under golos-oci as
// under runc: the container's shell reads what is typed and answers, its standard input is
// a terminal (the master went to conmon's console socket), the window has the size
// podman gave it, and the shell's exit status is podman's.
func TestOCIPodmanTerminal(t *testing.T) {
	img := ociImage(t)
	for _, rt := range runtimes(t) {
		argv := append(append([]string{"/usr/bin/podman", "--runtime", rt, "run", "--rm", "-it"}, podmanLimits...), img, "sh")
		s := startPty(t, rt, os.Environ(), argv...)
		// The shell's prompt, then a command whose answer is not in what was typed.
		s.waitFor(0, "# ", "the shell's prompt")
		s.send("echo $((6*7)); tty; stty size\r")
		at := s.waitFor(0, "42\r\n", "echo $((6*7))")
		at = s.waitFor(at, "/dev/pts/", "tty")
		s.waitFor(at, "40 250\r\n", "stty size")
		s.send("exit 3\r")
		st, err := s.proc.Wait()
		<-s.done
		if err != nil {
			t.Fatalf("%s: podman run -it: %v", rt, err)
		}
		if st.ExitCode() != 3 {
			t.Errorf("%s: podman run -it: exit status %d, want 3; the terminal shows:\n%s", rt, st.ExitCode(), clip([]byte(s.transcript())))
		}
		s.master.Close()
	}
}
