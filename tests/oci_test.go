package tests

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// golos-oci, golos as an OCI runtime, driven through its command line as an engine
// drives runc: a bundle the test builds (a busybox-static root and a static C program),
// create/start/state/kill/delete/run, against the same program run natively.

// ociBin is the golos-oci built beside the golos under test.
func ociBin(t *testing.T) string {
	t.Helper()
	needGolos(t)
	p := filepath.Join(filepath.Dir(golosBin), "golos-oci")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("golos-oci is not beside golos: %v", err)
	}
	return p
}

// ociBundle makes a bundle: rootfs with /bin/busybox (and sh, echo, cat, sleep, ls
// links), each of progs copied to /bin/NAME, and a config.json like `runc spec`'s
// (the default mounts and namespaces), with process.args args, changed by edit.
func ociBundle(t *testing.T, progs map[string]string, args []string, edit func(c map[string]any)) string {
	t.Helper()
	if _, err := os.Stat("/bin/busybox"); err != nil {
		t.Fatalf("/bin/busybox: %v (%s)", err, installHint)
	}
	b := t.TempDir()
	rootCopy(t, "/bin/busybox", filepath.Join(b, "rootfs/bin/busybox"), 0o755)
	for _, l := range []string{"sh", "echo", "cat", "sleep", "ls", "kill"} {
		if err := os.Symlink("busybox", filepath.Join(b, "rootfs/bin", l)); err != nil {
			t.Fatal(err)
		}
	}
	for name, p := range progs {
		rootCopy(t, p, filepath.Join(b, "rootfs/bin", name), 0o755)
	}
	os.MkdirAll(filepath.Join(b, "rootfs/tmp"), 0o1777)
	c := map[string]any{
		"ociVersion": "1.0.2",
		"process": map[string]any{
			"terminal": false, "user": map[string]any{"uid": 0, "gid": 0},
			"args": args,
			"env":  []string{"PATH=/bin", "TERM=xterm"},
			"cwd":  "/",
			"rlimits": []map[string]any{
				{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024},
			},
			"noNewPrivileges": true,
		},
		"root":     map[string]any{"path": "rootfs", "readonly": false},
		"hostname": "golos-oci-test",
		"mounts": []map[string]any{
			{"destination": "/proc", "type": "proc", "source": "proc"},
			{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": []string{"nosuid", "strictatime", "mode=755", "size=65536k"}},
			{"destination": "/dev/pts", "type": "devpts", "source": "devpts"},
			{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": []string{"mode=1777"}},
			{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": []string{"ro"}},
		},
		"linux": map[string]any{
			"namespaces": []map[string]any{
				{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"},
			},
		},
	}
	if edit != nil {
		edit(c)
	}
	data, err := json.MarshalIndent(c, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return b
}

// proc returns config c's process object.
func proc(c map[string]any) map[string]any { return c["process"].(map[string]any) }

// oci runs golos-oci with args (the state root first), in dir.
func oci(t *testing.T, state, dir string, args ...string) *result {
	t.Helper()
	o := runOpts{dir: dir, timeout: 30 * time.Second}
	return run(exec.Command(ociBin(t), append([]string{"--root", state}, args...)...), &o, o.timeout)
}

// stateOf is `golos-oci state ID` decoded.
func stateOf(t *testing.T, state, id string) map[string]any {
	t.Helper()
	r := oci(t, state, "", "state", id)
	if r.code != 0 {
		t.Fatalf("state %s: %s: %s", id, r, r.stderr)
	}
	var s map[string]any
	if err := json.Unmarshal(r.stdout, &s); err != nil {
		t.Fatalf("state %s: %v: %s", id, err, r.stdout)
	}
	return s
}

// TestOCIRun: `golos-oci run` of a static C program in a bundle gives the program's
// stdout and exit status as the program run natively with the same arguments,
// environment and working directory; a program that dies of a signal gives 128+N, as a
// shell (and runc run) shows it; the container's state directory is gone afterwards.
func TestOCIRun(t *testing.T) {
	forFlavours(t, "exitcode", func(t *testing.T, path string) {
		for _, how := range []string{"exit", "return", "_exit"} {
			argv := []string{"/bin/exitcode", "3", how}
			b := ociBundle(t, map[string]string{"exitcode": path}, argv, nil)
			state := t.TempDir()
			g := oci(t, state, b, "run", "c1")
			nat := runNative(&runOpts{nativePath: path}, argv...)
			if g.code != nat.code || !bytes.Equal(g.stdout, nat.stdout) {
				t.Errorf("%s: golos-oci run: %s, stdout %q (stderr %q); native: %s, stdout %q",
					how, g, g.stdout, g.stderr, nat, nat.stdout)
			}
			if ents, _ := os.ReadDir(state); len(ents) != 0 {
				t.Errorf("%s: the state root keeps %d entries after run", how, len(ents))
			}
		}
	})
	t.Run("args-env-cwd", func(t *testing.T) {
		// Natively under the same name: the program prints its executable's basename.
		path := filepath.Join(t.TempDir(), "args")
		rootCopy(t, prog(t, "args.glibc-static"), path, 0o755)
		argv := []string{"/bin/args", "one", "", "two words"}
		env := []string{"PATH=/bin", "GOLOS_TEST_A=a value", "GOLOS_TEST_EMPTY="}
		b := ociBundle(t, map[string]string{"args": path}, argv, func(c map[string]any) {
			proc(c)["env"] = env
			proc(c)["cwd"] = "/tmp"
		})
		g := oci(t, t.TempDir(), b, "run", "c2")
		// Natively: the same arguments, only that environment and the HOME runc adds when
		// it has none (the root has no /etc/passwd: "/"), in a directory also named /tmp
		// (the program prints its working directory).
		cmd := &exec.Cmd{Path: path, Args: argv, Env: append(env, "HOME=/"), Dir: "/tmp"}
		var out bytes.Buffer
		cmd.Stdout = &out
		err := cmd.Run()
		if err != nil {
			t.Fatalf("native: %v", err)
		}
		if g.code != 0 || !bytes.Equal(g.stdout, out.Bytes()) {
			t.Errorf("golos-oci run: %s, stderr %q\n--- golos-oci stdout:\n%s--- native stdout:\n%s", g, g.stderr, g.stdout, out.Bytes())
		}
	})
	t.Run("signal", func(t *testing.T) {
		// A real fault kills the container's first process: exit status 128+N.
		b := ociBundle(t, map[string]string{"crash": prog(t, "oci_crash.glibc-static")}, []string{"/bin/crash"}, nil)
		g := oci(t, t.TempDir(), b, "run", "c3")
		nat := runNative(&runOpts{}, prog(t, "oci_crash.glibc-static"))
		if nat.signal != syscall.SIGSEGV {
			t.Fatalf("native: %s", nat)
		}
		if g.code != 128+int(syscall.SIGSEGV) || string(g.stdout) != string(nat.stdout) {
			t.Errorf("golos-oci run: %s, stdout %q, stderr %q; want status %d and stdout %q", g, g.stdout, g.stderr,
				128+int(syscall.SIGSEGV), nat.stdout)
		}
		// A kill of itself, which has no handler, is ignored, as by a pid namespace's
		// init (under runc the container's first process is one; natively: unshare).
		script := "echo before; kill -SEGV $$; echo after"
		b = ociBundle(t, nil, []string{"/bin/sh", "-c", script}, nil)
		g = oci(t, t.TempDir(), b, "run", "c4")
		nat = runNative(&runOpts{}, "unshare", "--pid", "--fork", "/bin/busybox", "sh", "-c", script)
		if nat.code != 0 || string(nat.stdout) != "before\nafter\n" {
			t.Fatalf("native, as a pid namespace's init: %s, stdout %q", nat, nat.stdout)
		}
		if g.code != nat.code || string(g.stdout) != string(nat.stdout) {
			t.Errorf("golos-oci run of %q: %s, stdout %q, stderr %q; native init: %s, stdout %q", script, g, g.stdout, g.stderr, nat, nat.stdout)
		}
	})
	t.Run("hostname-readonly-bind", func(t *testing.T) {
		vol := t.TempDir()
		if err := os.WriteFile(filepath.Join(vol, "f"), []byte("from the host\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		argv := []string{"/bin/sh", "-c", "cat /proc/sys/kernel/hostname; cat /data/f; echo new > /data/g && echo wrote; " +
			"echo x > /rootfile || echo root read-only; cat /ro/f; echo y > /ro/h || echo volume read-only"}
		b := ociBundle(t, nil, argv, func(c map[string]any) {
			c["root"].(map[string]any)["readonly"] = true
			c["mounts"] = append(c["mounts"].([]map[string]any),
				map[string]any{"destination": "/data", "type": "bind", "source": vol, "options": []string{"rbind", "rw"}},
				map[string]any{"destination": "/ro", "type": "bind", "source": vol, "options": []string{"rbind", "ro"}})
		})
		g := oci(t, t.TempDir(), b, "run", "c4")
		want := "golos-oci-test\nfrom the host\nwrote\nroot read-only\nfrom the host\nvolume read-only\n"
		if g.code != 0 || string(g.stdout) != want {
			t.Errorf("golos-oci run: %s\nstdout:\n%s\nwant:\n%s\nstderr:\n%s", g, g.stdout, want, g.stderr)
		}
		if data, err := os.ReadFile(filepath.Join(vol, "g")); err != nil || string(data) != "new\n" {
			t.Errorf("the bind mount's new file: %q, %v", data, err)
		}
		if _, err := os.Stat(filepath.Join(b, "rootfs/rootfile")); err == nil {
			t.Errorf("a read-only root was written")
		}
	})
}

// TestOCILifecycle: create stops the container before its program runs (state
// "created", the pid in --pid-file), start releases it ("running"), kill delivers the
// signal ("stopped"), delete removes it; what runc refuses is refused.
func TestOCILifecycle(t *testing.T) {
	vol := t.TempDir()
	b := ociBundle(t, nil, []string{"/bin/sh", "-c", "echo started > /data/out; exec sleep 60"}, func(c map[string]any) {
		c["mounts"] = append(c["mounts"].([]map[string]any),
			map[string]any{"destination": "/data", "type": "bind", "source": vol, "options": []string{"rbind"}})
	})
	state := t.TempDir()
	pidFile := filepath.Join(t.TempDir(), "pid")
	if r := oci(t, state, "", "create", "--bundle", b, "--pid-file", pidFile, "lc"); r.code != 0 {
		t.Fatalf("create: %s: %s", r, r.stderr)
	}
	t.Cleanup(func() { oci(t, state, "", "delete", "--force", "lc") })
	s := stateOf(t, state, "lc")
	data, _ := os.ReadFile(pidFile)
	if s["status"] != "created" || s["id"] != "lc" || s["bundle"] != b || strconv.Itoa(int(s["pid"].(float64))) != string(data) {
		t.Fatalf("after create: state %v, pid file %q", s, data)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(vol, "out")); err == nil {
		t.Fatalf("the program ran before start")
	}
	if r := oci(t, state, "", "delete", "lc"); r.code != 0 {
		// runc deletes a created container without --force: not an error.
		t.Fatalf("delete of a created container: %s: %s", r, r.stderr)
	}
	if r := oci(t, state, "", "state", "lc"); r.code == 0 {
		t.Fatalf("state after delete: %s", r.stdout)
	}
	if r := oci(t, state, "", "create", "--bundle", b, "--pid-file", pidFile, "lc"); r.code != 0 {
		t.Fatalf("create: %s: %s", r, r.stderr)
	}
	if r := oci(t, state, "", "create", "--bundle", b, "lc"); r.code == 0 || !strings.Contains(string(r.stderr), "already exists") {
		t.Errorf("a second create of the same id: %s: %s", r, r.stderr)
	}
	if r := oci(t, state, "", "start", "lc"); r.code != 0 {
		t.Fatalf("start: %s: %s", r, r.stderr)
	}
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(filepath.Join(vol, "out")); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if data, err := os.ReadFile(filepath.Join(vol, "out")); err != nil || string(data) != "started\n" {
		t.Fatalf("after start: %q, %v", data, err)
	}
	if s := stateOf(t, state, "lc"); s["status"] != "running" {
		t.Fatalf("after start: state %v", s)
	}
	if r := oci(t, state, "", "start", "lc"); r.code == 0 {
		t.Errorf("a second start succeeded")
	}
	if r := oci(t, state, "", "delete", "lc"); r.code == 0 {
		t.Errorf("delete of a running container without --force succeeded")
	}
	// exec: a process in the running container, waited for, and one left running.
	if r := oci(t, state, "", "exec", "lc", "sh", "-c", "cat /data/out; exit 4"); r.code != 4 || string(r.stdout) != "started\n" {
		t.Errorf("exec: %s, stdout %q, stderr %q; want status 4 and the container's file", r, r.stdout, r.stderr)
	}
	execPidFile := filepath.Join(t.TempDir(), "exec.pid")
	if r := oci(t, state, "", "exec", "-d", "--pid-file", execPidFile, "lc", "sleep", "60"); r.code != 0 {
		t.Fatalf("exec -d: %s: %s", r, r.stderr)
	}
	initPid, _ := os.ReadFile(pidFile)
	execPid, _ := os.ReadFile(execPidFile)
	r := oci(t, state, "", "ps", "--format", "json", "lc")
	var pids []int
	if r.code != 0 || json.Unmarshal(r.stdout, &pids) != nil || !slices.Contains(pids, atoi(initPid)) || !slices.Contains(pids, atoi(execPid)) {
		t.Errorf("ps: %s: %s %s; want the init process %s and the exec'd one %s", r, r.stdout, r.stderr, initPid, execPid)
	}
	// kill --all reaches the exec'd process too.
	if r := oci(t, state, "", "kill", "--all", "lc", "KILL"); r.code != 0 {
		t.Fatalf("kill: %s: %s", r, r.stderr)
	}
	for i := 0; i < 100 && running(atoi(execPid)); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if running(atoi(execPid)) {
		t.Errorf("kill --all left the exec'd process %s running", execPid)
	}
	for i := 0; i < 100 && stateOf(t, state, "lc")["status"] != "stopped"; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if s := stateOf(t, state, "lc"); s["status"] != "stopped" {
		t.Fatalf("after kill: state %v", s)
	}
	if r := oci(t, state, "", "kill", "lc", "TERM"); r.code == 0 {
		t.Errorf("kill of a stopped container succeeded")
	}
	if r := oci(t, state, "", "delete", "lc"); r.code != 0 {
		t.Fatalf("delete: %s: %s", r, r.stderr)
	}
	if ents, _ := os.ReadDir(state); len(ents) != 0 {
		t.Errorf("the state root keeps %d entries after delete", len(ents))
	}
}

func atoi(b []byte) int {
	n, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return n
}

// running reports whether process pid exists and is not a zombie (proc(5): the state
// after the command name in /proc/PID/stat).
func running(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z' && s[i+2] != 'X'
}

// TestOCIBadInput: a bundle golos-oci cannot run gives one clear line on stderr, an error
// line in the engine's --log file (json, as runc writes it), and leaves nothing in the
// state root; unknown properties are ignored, as the runtime-spec requires.
func TestOCIBadInput(t *testing.T) {
	cases := []struct {
		name string
		edit func(c map[string]any)
		want string // in the error; "" for a bundle that runs
	}{
		{"unknown fields", func(c map[string]any) {
			c["golosNoSuchField"] = map[string]any{"x": 1}
			proc(c)["alsoUnknown"] = true
		}, ""},
		{"missing root", func(c map[string]any) { c["root"] = map[string]any{"path": "nosuchdir"} }, "root.path"},
		{"no root", func(c map[string]any) { delete(c, "root") }, "root.path is missing"},
		{"mount source", func(c map[string]any) {
			c["mounts"] = append(c["mounts"].([]map[string]any),
				map[string]any{"destination": "/data", "type": "bind", "source": "/nonexistent/golos", "options": []string{"rbind"}})
		}, "/nonexistent/golos"},
		{"bad type", func(c map[string]any) { proc(c)["args"] = "not a list" }, "config.json"},
		{"no args", func(c map[string]any) { proc(c)["args"] = []string{} }, "process.args"},
		{"mount type", func(c map[string]any) {
			c["mounts"] = append(c["mounts"].([]map[string]any),
				map[string]any{"destination": "/x", "type": "nfs", "source": "h:/x"})
		}, `type "nfs"`},
	}
	for _, c := range cases {
		t.Run(strings.ReplaceAll(c.name, " ", "-"), func(t *testing.T) {
			b := ociBundle(t, nil, []string{"/bin/echo", "ran"}, c.edit)
			state := t.TempDir()
			logFile := filepath.Join(t.TempDir(), "log.json")
			r := oci(t, state, "", "--log", logFile, "--log-format", "json", "create", "--bundle", b, "bad")
			// --log before the command is a global flag; the engine passes it so.
			if c.want == "" {
				if r.code != 0 {
					t.Fatalf("create: %s: %s", r, r.stderr)
				}
				oci(t, state, "", "start", "bad")
				oci(t, state, "", "delete", "--force", "bad")
				return
			}
			lines := strings.Split(strings.TrimSpace(string(r.stderr)), "\n")
			if r.code == 0 || len(lines) != 1 || !strings.Contains(lines[0], c.want) || crashed(r.stderr) {
				t.Errorf("create: %s, stderr %q; want one line with %q", r, r.stderr, c.want)
			}
			data, _ := os.ReadFile(logFile)
			var entry struct{ Level, Msg string }
			if err := json.Unmarshal(bytes.TrimSpace(data), &entry); err != nil || entry.Level != "error" || !strings.Contains(entry.Msg, c.want) {
				t.Errorf("--log file: %q (%v); want a json error line with %q", data, err, c.want)
			}
			if ents, _ := os.ReadDir(state); len(ents) != 0 {
				t.Errorf("the state root keeps %d entries after a failed create", len(ents))
			}
		})
	}
}

// TestOCIFeatures: `features` prints the runtime-spec features document.
func TestOCIFeatures(t *testing.T) {
	r := oci(t, t.TempDir(), "", "features")
	var f struct {
		OCIVersionMax string   `json:"ociVersionMax"`
		Hooks         []string `json:"hooks"`
	}
	if r.code != 0 || json.Unmarshal(r.stdout, &f) != nil || f.OCIVersionMax == "" || len(f.Hooks) == 0 {
		t.Errorf("features: %s: %s %s", r, r.stdout, r.stderr)
	}
}

// TestOCIHooks: hooks run as runc runs them (config.md, "POSIX-platform Hooks"): with
// their own arguments and environment, the container's state on stdin, created before
// start, running after it, stopped after delete; a failing createRuntime hook fails the
// create and leaves nothing behind.
func TestOCIHooks(t *testing.T) {
	out := t.TempDir()
	hook := func(name string) map[string]any {
		return map[string]any{"path": "/bin/sh", "args": []string{"sh", "-c", `cat > "$OUT/` + name + `"`},
			"env": []string{"OUT=" + out}}
	}
	b := ociBundle(t, nil, []string{"/bin/echo", "ran"}, func(c map[string]any) {
		c["hooks"] = map[string]any{
			"createRuntime": []any{hook("createRuntime")},
			"poststart":     []any{hook("poststart")},
			"poststop":      []any{hook("poststop")},
		}
	})
	state := t.TempDir()
	if r := oci(t, state, "", "run", "--bundle", b, "hk"); r.code != 0 || string(r.stdout) != "ran\n" {
		t.Fatalf("run: %s, stdout %q, stderr %q", r, r.stdout, r.stderr)
	}
	for name, status := range map[string]string{"createRuntime": "created", "poststart": "running", "poststop": "stopped"} {
		data, err := os.ReadFile(filepath.Join(out, name))
		var s map[string]any
		if err == nil {
			err = json.Unmarshal(data, &s)
		}
		if err != nil || s["id"] != "hk" || s["status"] != status || s["bundle"] != b {
			t.Errorf("%s hook's stdin: %q (%v); want the state of hk, %s", name, data, err, status)
		}
	}
	b = ociBundle(t, nil, []string{"/bin/echo", "ran"}, func(c map[string]any) {
		c["hooks"] = map[string]any{"createRuntime": []any{map[string]any{"path": "/bin/false"}}}
	})
	if r := oci(t, state, "", "create", "--bundle", b, "hk2"); r.code == 0 || !strings.Contains(string(r.stderr), "createRuntime hook") {
		t.Errorf("create with a failing hook: %s, stderr %q", r, r.stderr)
	}
	if ents, _ := os.ReadDir(state); len(ents) != 0 {
		t.Errorf("the state root keeps %d entries", len(ents))
	}
}
