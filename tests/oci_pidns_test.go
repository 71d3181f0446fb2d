package tests

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestOCIPodmanPidNamespace: the container's first process is pid 1 of a pid namespace
// of its own under golos-oci as under runc (podman always asks for one): getpid is 1,
// getppid 0, /proc/1 is the first process, /proc and ps list the container's processes
// only, a child's parent is 1, and a SIGKILL from inside the namespace does not reach
// its init (pid_namespaces(7)). Pids other than 1 are masked: golos's processes take
// pids of their own on the way (a fork's helper), so the numbers differ.
func TestOCIPodmanPidNamespace(t *testing.T) {
	// ps and ls write to files: a pipeline's other processes, starting, would be listed
	// or not by chance (under golos, a fork's helper too).
	script := `echo "pid $$ ppid $PPID"; tr '\0' ' ' < /proc/1/cmdline; echo;
ps -o pid,ppid,args > /tmp/ps; awk '{ if ($1 != 1 && $1 != "PID") $1 = "N"; print }' /tmp/ps;
ls /proc > /tmp/ls; grep -c '^[0-9]' /tmp/ls; sh -c 'echo "child of $PPID"; kill -KILL 1; echo "kill 1: $?"';
sleep 0.2; echo "init lives"; readlink /proc/self >/dev/null && echo self; grep -c . /proc/1/status >/dev/null && echo status`
	samePodman(t, "IMAGE", "sh", "-c", script)
}

// TestOCIPodmanPidNamespaceExec: a podman exec'd process joins the container's pid
// namespace under golos-oci as under runc: its parent is 0 (outside the namespace), ps
// and /proc/1 show the container's processes, and its exit status and death by a signal
// are podman exec's.
func TestOCIPodmanPidNamespaceExec(t *testing.T) {
	img := ociImage(t)
	var outs [2]string
	for i, rt := range runtimes(t) {
		name := fmt.Sprintf("golos-oci-pidns-%d-%d", os.Getpid(), i)
		r := podman(t, rt, append(append([]string{"run", "-d", "--name", name}, podmanLimits...), img, "sleep", "60")...)
		if r.code != 0 {
			t.Fatalf("%s: podman run -d: %s: %s", rt, r, r.stderr)
		}
		t.Cleanup(func() { podman(t, rt, "rm", "-f", "-t", "0", name) })
		e := podman(t, rt, "exec", name, "sh", "-c", `echo "ppid $PPID"; tr '\0' ' ' < /proc/1/cmdline; echo;
ps -o pid,ppid,args > /tmp/ps; awk '{ if ($1 != 1 && $1 != "PID") $1 = "N"; if ($2 != 1 && $2 != 0 && $2 != "PPID") $2 = "N"; print }' /tmp/ps; exit 3`)
		k := podman(t, rt, "exec", name, "sh", "-c", "kill -9 $$")
		outs[i] = fmt.Sprintf("%s\n%s%s--- kill: %s\n", e, e.stdout, e.stderr, k)
	}
	if outs[0] != outs[1] {
		t.Errorf("podman exec in the pid namespace: runc:\n%s\ngolos-oci:\n%s", outs[0], outs[1])
	}
}

// TestOCIPodmanPidNamespaceJoin: `podman run --pid container:X` passes X's pid namespace
// by path (linux.namespaces' {"type": "pid", "path": "/proc/N/ns/pid"}); the second
// container joins it under golos-oci as under runc: its parent is 0 (outside the
// namespace), its pid is not 1, /proc/1 is the first container's process, and ps and /proc
// list both containers' processes. Pids other than 1 are masked.
func TestOCIPodmanPidNamespaceJoin(t *testing.T) {
	img := ociImage(t)
	script := `echo "ppid $PPID"; [ $$ -ne 1 ] && echo "not pid 1"; tr '\0' ' ' < /proc/1/cmdline; echo;
ls /proc > /tmp/ls; grep -c '^[0-9]' /tmp/ls; ps -o pid,args > /tmp/ps; awk '{ if ($1 != 1 && $1 != "PID") $1 = "N"; print }' /tmp/ps`
	var outs [2]string
	for i, rt := range runtimes(t) {
		name := fmt.Sprintf("golos-oci-pidjoin-%d-%d", os.Getpid(), i)
		r := podman(t, rt, append(append([]string{"run", "-d", "--name", name}, podmanLimits...), img, "sleep", "60")...)
		if r.code != 0 {
			t.Fatalf("%s: podman run -d: %s: %s", rt, r, r.stderr)
		}
		t.Cleanup(func() { podman(t, rt, "rm", "-f", "-t", "0", name) })
		j := podman(t, rt, append(append([]string{"run", "--rm", "--pid", "container:" + name}, podmanLimits...), img, "sh", "-c", script)...)
		outs[i] = fmt.Sprintf("%s\n%s%s", j, j.stdout, j.stderr)
	}
	if outs[0] != outs[1] {
		t.Errorf("podman run --pid container:X: runc:\n%s\ngolos-oci:\n%s", outs[0], outs[1])
	}
	if !strings.Contains(outs[0], "    1 sleep 60\n") {
		t.Errorf("runc: the joined namespace's processes are not listed:\n%s", outs[0])
	}
}
