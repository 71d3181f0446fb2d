package tests

import (
	"fmt"
	"os"
	"testing"
)

// TestOCIPodmanCapabilities: process.capabilities binds the container's processes under
// golos-oci as under runc: /proc/self/status's capability sets, a raw socket (refused
// without CAP_NET_RAW, which podman does not grant by default) and a chown (refused
// without CAP_CHOWN), with podman's default capabilities, --cap-add, --cap-drop all, and
// in a podman exec'd process.
func TestOCIPodmanCapabilities(t *testing.T) {
	script := `grep Cap /proc/self/status; syscall 41 2 3 1; chown 5 /tmp; echo "chown: $?"`
	for _, c := range []struct {
		name  string
		flags []string
	}{
		{"default", nil},
		{"add-net-raw", []string{"--cap-add", "NET_RAW"}},
		{"drop-all", []string{"--cap-drop", "all"}},
		{"drop-chown", []string{"--cap-drop", "CHOWN", "--cap-add", "SYS_ADMIN"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			samePodman(t, append(c.flags, "IMAGE", "sh", "-c", script)...)
		})
	}
	t.Run("exec", func(t *testing.T) {
		img := ociImage(t)
		var outs [2]string
		for i, rt := range runtimes(t) {
			name := fmt.Sprintf("golos-oci-caps-%d-%d", os.Getpid(), i)
			r := podman(t, rt, append(append([]string{"run", "-d", "--name", name, "--cap-drop", "NET_BIND_SERVICE"}, podmanLimits...), img, "sleep", "60")...)
			if r.code != 0 {
				t.Fatalf("%s: podman run -d: %s: %s", rt, r, r.stderr)
			}
			t.Cleanup(func() { podman(t, rt, "rm", "-f", "-t", "0", name) })
			e := podman(t, rt, "exec", name, "sh", "-c", script)
			outs[i] = e.String() + "\n" + string(e.stdout) + string(e.stderr)
		}
		if outs[0] != outs[1] {
			t.Errorf("podman exec: runc:\n%s\ngolos-oci:\n%s", outs[0], outs[1])
		}
	})
}
