package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestOCIPodmanFileBind: a bind mount of a single file (-v FILE:/etc/motd, as podman
// binds its /etc/hosts, /etc/hostname and /run/.containerenv) is the host file itself
// under golos-oci as under runc: a write from outside is seen inside (podman exec), a
// write inside reaches the host file, and the engine's own file binds read the same.
func TestOCIPodmanFileBind(t *testing.T) {
	img := ociImage(t)
	var outs [2]string
	for i, rt := range runtimes(t) {
		f := filepath.Join(t.TempDir(), "motd")
		if err := os.WriteFile(f, []byte("first\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("golos-oci-bindfile-%d-%d", os.Getpid(), i)
		r := podman(t, rt, append(append([]string{"run", "-d", "--name", name, "--hostname", "h", "-v", f + ":/etc/motd"}, podmanLimits...),
			img, "sleep", "60")...)
		if r.code != 0 {
			t.Fatalf("%s: podman run -d: %s: %s", rt, r, r.stderr)
		}
		t.Cleanup(func() { podman(t, rt, "rm", "-f", "-t", "0", name) })
		out := ""
		e := podman(t, rt, "exec", name, "cat", "/etc/motd")
		out += e.String() + " " + string(e.stdout) + string(e.stderr)
		if err := os.WriteFile(f, []byte("written outside\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		e = podman(t, rt, "exec", name, "sh", "-c", "cat /etc/motd; echo inside >> /etc/motd; rm /etc/motd; cat /etc/hostname; ls -a /run /etc")
		out += e.String() + " " + string(e.stdout) + string(e.stderr)
		data, err := os.ReadFile(f)
		out += fmt.Sprintf("host file: %q %v\n", data, err)
		outs[i] = out
	}
	if outs[0] != outs[1] {
		t.Errorf("a file's bind mount: runc:\n%s\ngolos-oci:\n%s", outs[0], outs[1])
	}
}
