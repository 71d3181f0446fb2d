package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The container's cgroup (linux.cgroupsPath) with podman's limits (linux.resources), under
// golos-oci as under runc: the same limits read inside the container, a program that
// allocates past --memory killed, a fork loop stopped by --pids-limit, and the cgroup
// made on the host with the container's processes in it, and removed with the container.

// cgroupScript prints the limits the container sees in its cgroup files, in either
// layout (v1: a directory per controller; v2: one).
const cgroupScript = `cd /sys/fs/cgroup; for f in pids/pids.max memory/memory.limit_in_bytes cpu/cpu.shares cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us pids.max memory.max cpu.max cpu.weight; do [ -f $f ] && echo "$f: $(cat $f)"; done; echo done`

// TestOCIPodmanCgroupLimits: --pids-limit, --memory, --cpus and --cpu-shares are in the
// container's cgroup files as under runc.
func TestOCIPodmanCgroupLimits(t *testing.T) {
	samePodman(t, "--pids-limit", "50", "--memory", "64m", "--cpus", "0.5", "--cpu-shares", "512", "IMAGE", "sh", "-c", cgroupScript)
	// Not an empty comparison: runc shows the limits (and so golos-oci, by the above).
	r := podman(t, "runc", append(append([]string{"run", "--rm"}, podmanLimits...), "--pids-limit", "50", "--memory", "64m", ociImage(t), "sh", "-c", cgroupScript)...)
	if !strings.Contains(string(r.stdout), "pids.max: 50\n") || !strings.Contains(string(r.stdout), ": 67108864\n") && !strings.Contains(string(r.stdout), "memory.max: 67108864\n") {
		t.Errorf("runc: the container's cgroup files do not show the limits:\n%s", r.stdout)
	}
}

// TestOCIPodmanMemoryLimit: a program that builds a string of 128 MiB (awk, doubling it)
// under --memory 64m (podman's memory+swap is twice the limit) is killed by the kernel's
// OOM killer (SIGKILL, 137) under golos-oci as under runc; without the limit it runs to
// its end.
func TestOCIPodmanMemoryLimit(t *testing.T) {
	script := `echo start; awk 'BEGIN { s = "x"; while (length(s) < 100000000) s = s s }'; echo "awk: $?"`
	// conmon writes a file "oom" to its working directory when the container's cgroup
	// has had an OOM kill: podman runs in a temporary one.
	dir := t.TempDir()
	var res [2]*result
	for i, rt := range runtimes(t) {
		res[i] = podmanIn(t, dir, rt, append(append([]string{"run", "--rm"}, podmanLimits...), "--memory", "64m", ociImage(t), "sh", "-c", script)...)
	}
	if res[0].code != res[1].code || string(res[0].stdout) != string(res[1].stdout) || string(res[0].stderr) != string(res[1].stderr) {
		t.Errorf("--memory 64m: runc %s, golos-oci %s\n--- runc stdout:\n%s--- golos-oci stdout:\n%s--- runc stderr:\n%s--- golos-oci stderr:\n%s",
			res[0], res[1], res[0].stdout, res[1].stdout, res[0].stderr, res[1].stderr)
	}
	r := res[0]
	if string(r.stdout) != "start\nawk: 137\n" {
		t.Errorf("runc, --memory 64m: %s, stdout %q, want awk killed (137)", r, r.stdout)
	}
	g := podmanIn(t, dir, ociBin(t), append(append([]string{"run", "--rm"}, podmanLimits...), ociImage(t), "sh", "-c", script)...)
	if string(g.stdout) != "start\nawk: 0\n" {
		t.Errorf("golos-oci, no memory limit: %s, stdout %q, want awk to end (0); stderr:\n%s", g, g.stdout, g.stderr)
	}
}

// TestOCIPodmanPidsLimit: under --pids-limit 40, a program forking children that wait
// gets EAGAIN under golos-oci as under runc, short of the limit. Under runc it makes 39
// (itself the 40th task); under golos-oci fewer: each process is a golos, whose own OS
// threads count toward pids.max, and golos refuses a fork while the new golos's threads
// would pass it (internal/kernel/pidscgroup.go). The same program without the limit makes
// all the 80 it asks for: the limit is what stopped it.
func TestOCIPodmanPidsLimit(t *testing.T) {
	img := ociImage(t)
	re := regexp.MustCompile(`^forked (\d+), then EAGAIN\n$`)
	var counts [2]int
	for i, rt := range runtimes(t) {
		r := podman(t, rt, append(append([]string{"run", "--rm"}, podmanLimits...), "--pids-limit", "40", img, "/bin/forkcount", "80")...)
		m := re.FindStringSubmatch(string(r.stdout))
		if r.code != 0 || m == nil {
			t.Fatalf("%s, --pids-limit 40: %s, stdout %q, want \"forked N, then EAGAIN\"; stderr:\n%s", rt, r, r.stdout, clip(r.stderr))
		}
		if len(r.stderr) != 0 {
			t.Errorf("%s, --pids-limit 40: stderr:\n%s", rt, clip(r.stderr))
		}
		counts[i], _ = strconv.Atoi(m[1])
	}
	if counts[0] < 35 || counts[0] >= 40 {
		t.Errorf("runc, --pids-limit 40: forked %d, want 35 to 39", counts[0])
	}
	if counts[1] < 1 || counts[1] >= 40 {
		t.Errorf("golos-oci, --pids-limit 40: forked %d, want 1 to 39", counts[1])
	}
	g := podman(t, ociBin(t), append(append([]string{"run", "--rm"}, podmanLimits...), img, "/bin/forkcount", "80")...)
	if g.code != 0 || string(g.stdout) != "forked 80, all asked\n" {
		t.Errorf("golos-oci, no pids limit: %s, stdout %q, want all 80 forked; stderr:\n%s", g, g.stdout, clip(g.stderr))
	}
}

// TestOCIPodmanCgroupLifetime: the container's cgroup exists on the host while it runs,
// with its limit and its first process (podman inspect's State.Pid) in it, an exec'd
// process joins it, and it is gone once the container is removed: under golos-oci as
// under runc.
func TestOCIPodmanCgroupLifetime(t *testing.T) {
	img := ociImage(t)
	var outs [2]string
	for i, rt := range runtimes(t) {
		name := fmt.Sprintf("golos-oci-cgroup-%d-%d", os.Getpid(), i)
		r := podman(t, rt, append(append([]string{"run", "-d", "--name", name}, podmanLimits...), "--pids-limit", "50", img, "sleep", "60")...)
		if r.code != 0 {
			t.Fatalf("%s: podman run -d: %s: %s", rt, r, r.stderr)
		}
		t.Cleanup(func() { podman(t, rt, "rm", "-f", "-t", "0", name) })
		in := podman(t, rt, "inspect", "-f", "{{.State.CgroupPath}} {{.State.Pid}}", name)
		f := strings.Fields(string(in.stdout))
		if len(f) != 2 || !strings.HasPrefix(f[0], "/") {
			t.Fatalf("%s: podman inspect: %s %q", rt, in, in.stdout)
		}
		dir := hostPidsCgroup(t, f[0])
		var b strings.Builder
		limit, err := os.ReadFile(filepath.Join(dir, "pids.max"))
		fmt.Fprintf(&b, "pids.max: %q %v\n", limit, err)
		procs, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		fmt.Fprintf(&b, "the first process in it: %v\n", strings.Contains("\n"+string(procs), "\n"+f[1]+"\n"))
		e := podman(t, rt, "exec", name, "sh", "-c", "grep -c '"+f[0]+"$' /proc/self/cgroup")
		fmt.Fprintf(&b, "exec's hierarchies in it: %s", e.stdout)
		if rm := podman(t, rt, "rm", "-f", "-t", "0", name); rm.code != 0 {
			t.Errorf("%s: podman rm: %s: %s", rt, rm, rm.stderr)
		}
		_, err = os.Stat(dir)
		fmt.Fprintf(&b, "after rm: exists %v\n", err == nil)
		outs[i] = b.String()
	}
	if outs[0] != outs[1] {
		t.Errorf("the container's cgroup: runc:\n%s\ngolos-oci:\n%s", outs[0], outs[1])
	}
	if !strings.Contains(outs[0], "pids.max: \"50\\n\"") || !strings.Contains(outs[0], "in it: true") {
		t.Errorf("runc: not the expected cgroup:\n%s", outs[0])
	}
}

// podmanIn is podman run in directory dir.
func podmanIn(t *testing.T, dir, runtime string, args ...string) *result {
	t.Helper()
	o := runOpts{timeout: 90 * time.Second, dir: dir}
	return run(exec.Command("podman", append([]string{"--runtime", runtime}, args...)...), &o, o.timeout)
}

// hostPidsCgroup is the host directory of cgroup cg in the pids hierarchy: v1's own, or
// the unified one.
func hostPidsCgroup(t *testing.T, cg string) string {
	t.Helper()
	if fi, err := os.Stat("/sys/fs/cgroup/pids"); err == nil && fi.IsDir() {
		return filepath.Join("/sys/fs/cgroup/pids", cg)
	}
	return filepath.Join("/sys/fs/cgroup", cg)
}

// TestOCICgroupsRefused: where the host refuses the container's cgroup (here a read-only
// cgroupfs: every cgroup mount remounted read-only in a mount namespace of the test's own,
// unshare -m, which leaves the host's as they are), golos-oci says so in one line on
// stderr and runs the container without it, as runc's rootless mode does (runc itself,
// as root, fails there: the reference is the program's own output natively).
func TestOCICgroupsRefused(t *testing.T) {
	needProgram(t, "/usr/bin/unshare", "util-linux")
	argv := []string{"sh", "-c", "echo ran; exit 4"}
	b := ociBundle(t, nil, argv, func(c map[string]any) {
		l := c["linux"].(map[string]any)
		l["cgroupsPath"] = fmt.Sprintf("/golos-oci-refused-%d", os.Getpid())
		l["resources"] = map[string]any{"pids": map[string]any{"limit": 10}}
	})
	state := t.TempDir()
	ro := `awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts | while read m; do mount -o remount,bind,ro "$m" || exit 99; done; exec "$@"`
	o := runOpts{dir: b, timeout: 60 * time.Second}
	g := run(exec.Command("unshare", "-m", "sh", "-c", ro, "sh", ociBin(t), "--root", state, "run", "c1"), &o, o.timeout)
	nat := run(exec.Command("/bin/busybox", argv...), &runOpts{}, 10*time.Second)
	if g.code != nat.code || string(g.stdout) != string(nat.stdout) {
		t.Errorf("golos-oci run with a read-only cgroupfs: %s, stdout %q; native %s, stdout %q; stderr:\n%s", g, g.stdout, nat, nat.stdout, g.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(string(g.stderr), "\n"), "\n")
	if len(lines) != 1 || !strings.HasPrefix(lines[0], "golos-oci: cgroups: ") || !strings.Contains(lines[0], "read-only file system") ||
		!strings.HasSuffix(lines[0], "the container runs without resource limits") {
		t.Errorf("golos-oci run with a read-only cgroupfs: stderr %q, want one line saying the container runs without its cgroup", g.stderr)
	}
	if ents, _ := os.ReadDir(state); len(ents) != 0 {
		t.Errorf("the state root keeps %d entries after run", len(ents))
	}
}
