package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// golosForUsers lets every user reach golos and golos-oci in the tests' work directory
// (os.MkdirTemp made it 0700): the container's user executes golos, as it would from
// /usr/local/bin.
func golosForUsers(t *testing.T) {
	t.Helper()
	if err := os.Chmod(filepath.Dir(ociBin(t)), 0o711); err != nil {
		t.Fatal(err)
	}
}

// userScript: who the process is, a write where the user may (/tmp) and where it may not
// (/bin, root's 0555), the engine's files bound one by one (/etc/hosts, /etc/hostname in
// podman's 0700 userdata directory), a volume, and forked and exec'd programs, whose
// golos opens the root and volumes again, among them an exec'd program's forks of forks
// (TestOCIPodmanNestedForks).
const userScript = `id; touch /tmp/x && echo ok; ls -n /tmp/x | awk '{print $3, $4}'; touch /bin/x 2>/dev/null || echo refused;
grep -c localhost /etc/hosts; cat /etc/hostname; cat /data/f; sh -c 'echo child; exec id -u';
sh -c 'exec sh -c "(echo grandchild; id -g) | cat"'; exec /bin/args a | grep -v '^environment:'`

// TestOCIPodmanUser: `podman run --user` under golos-oci as under runc: the container's
// processes run as the user and group given, although podman's root and its /etc files
// lie in directories only root may enter (golos-oci binds them in the init process's
// mount namespace before it becomes the user: internal/oci/view.go).
func TestOCIPodmanUser(t *testing.T) {
	golosForUsers(t)
	vol := t.TempDir()
	if err := os.WriteFile(vol+"/f", []byte("volume file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, user := range []string{"1000:1000", "65534:65534", "0:0"} {
		t.Run(user, func(t *testing.T) {
			samePodman(t, "--user", user, "--hostname", "h", "-v", vol+":/data:ro", "IMAGE", "sh", "-c", userScript)
		})
	}
}

// TestOCIPodmanExecUser: `podman exec --user` in a container started as root, and plain
// exec in one started as a user, under golos-oci as under runc.
func TestOCIPodmanExecUser(t *testing.T) {
	img := ociImage(t)
	golosForUsers(t)
	var outs [2]string
	for i, rt := range runtimes(t) {
		for j, c := range []struct{ runUser, execUser string }{{"0:0", "1000:1000"}, {"1000:1000", ""}} {
			name := fmt.Sprintf("golos-oci-user-%d-%d-%d", os.Getpid(), i, j)
			r := podman(t, rt, append(append([]string{"run", "-d", "--name", name, "--user", c.runUser, "--hostname", "h"}, podmanLimits...), img, "sleep", "60")...)
			if r.code != 0 {
				t.Fatalf("%s: podman run -d --user %s: %s: %s", rt, c.runUser, r, r.stderr)
			}
			t.Cleanup(func() { podman(t, rt, "rm", "-f", "-t", "0", name) })
			args := []string{"exec"}
			if c.execUser != "" {
				args = append(args, "--user", c.execUser)
			}
			e := podman(t, rt, append(args, name, "sh", "-c", userScript+"; exit 3")...)
			outs[i] += fmt.Sprintf("--- run --user %s, exec --user %q: %s\n%s%s", c.runUser, c.execUser, e, e.stdout, e.stderr)
		}
	}
	if outs[0] != outs[1] {
		t.Errorf("podman exec --user: runc:\n%s\ngolos-oci:\n%s", outs[0], outs[1])
	}
}
