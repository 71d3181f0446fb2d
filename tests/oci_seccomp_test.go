package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestOCIPodmanSeccomp: linux.seccomp in config.json binds the container's processes
// under golos-oci as under runc: a profile of the test's own (--security-opt seccomp=FILE)
// that answers mkdir with an errno, kills on rmdir, and refuses socket(AF_INET6, …) by
// its argument; and podman's default profile, whose default action is ENOSYS and which
// refuses kexec_load with EPERM. Output and exit status are compared with runc's.
func TestOCIPodmanSeccomp(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "seccomp.json")
	const custom = `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
 "syscalls": [
  {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
  {"names": ["rmdir"], "action": "SCMP_ACT_KILL"},
  {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97,
   "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 2, "op": "SCMP_CMP_LE"}]},
  {"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
   "args": [{"index": 1, "value": 4294967295, "valueTwo": 4096, "op": "SCMP_CMP_MASKED_EQ"}]},
  {"names": ["getpriority"], "action": "SCMP_ACT_ERRNO", "errnoRet": 34,
   "args": [{"index": 1, "value": 4294967296, "op": "SCMP_CMP_GE"}]},
  {"names": ["no_such_syscall", "stime"], "action": "SCMP_ACT_ERRNO"}
 ]}`
	if err := os.WriteFile(profile, []byte(custom), 0o644); err != nil {
		t.Fatal(err)
	}
	// socket(AF_INET6, SOCK_STREAM) and (AF_INET6, SOCK_DGRAM) are refused, (AF_INET6,
	// SOCK_RAW = 3) and AF_UNIX are not; getpriority(PRIO_PROCESS, who) by who's bits.
	script := `mkdir /tmp/d; echo "mkdir: $?"; syscall 41 10 1; syscall 41 10 2; syscall 41 1 1;
syscall 140 0 4096; syscall 140 0 0x100001000; syscall 140 0 0; syscall 140 0 0x200000000;
grep Seccomp /proc/self/status; sh -c 'rmdir /tmp'; echo "rmdir: $?"; mkdir /tmp/e`
	t.Run("custom", func(t *testing.T) {
		samePodman(t, "--security-opt", "seccomp="+profile, "IMAGE", "sh", "-c", script)
	})
	// podman's own profile: kexec_load (246) EPERM, a number past the table ENOSYS,
	// vhangup (153, the capability is not granted) EPERM, getpid allowed.
	t.Run("default", func(t *testing.T) {
		samePodman(t, "IMAGE", "sh", "-c", "syscall 246; syscall 1000; syscall 153; syscall 39; grep Seccomp /proc/self/status; mkdir /tmp/d && echo made")
	})
	t.Run("exec", func(t *testing.T) {
		// podman exec's process is under the container's profile too.
		img := ociImage(t)
		var outs [2]string
		for i, rt := range runtimes(t) {
			name := fmt.Sprintf("golos-oci-seccomp-%d-%d", os.Getpid(), i)
			r := podman(t, rt, append(append([]string{"run", "-d", "--name", name, "--security-opt", "seccomp=" + profile}, podmanLimits...), img, "sleep", "60")...)
			if r.code != 0 {
				t.Fatalf("%s: podman run -d: %s: %s", rt, r, r.stderr)
			}
			t.Cleanup(func() { podman(t, rt, "rm", "-f", "-t", "0", name) })
			e := podman(t, rt, "exec", name, "sh", "-c", "mkdir /tmp/x; echo $?; grep Seccomp /proc/self/status")
			outs[i] = e.String() + " " + string(e.stdout) + string(e.stderr)
		}
		if outs[0] != outs[1] {
			t.Errorf("podman exec under the profile: runc %q, golos-oci %q", outs[0], outs[1])
		}
	})
}
