package oci

import "testing"

// TestCgroupPathSystemd: --systemd-cgroup's slice:prefix:name is the cgroupfs path systemd
// gives the scope: a slice's name with dashes is nested in its parents' slices
// (systemd.slice(5): "foo-bar.slice is a slice that is located within foo.slice"), the
// unit is prefix-name.scope (runc's libcontainer/cgroups/systemd: getUnitName), and the
// root slice "-.slice" is the root.
func TestCgroupPathSystemd(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"machine.slice:libpod:abc", "/machine.slice/libpod-abc.scope"},
		{"user-1000.slice:crio:x", "/user.slice/user-1000.slice/crio-x.scope"},
		{"a-b-c.slice:p:n", "/a.slice/a-b.slice/a-b-c.slice/p-n.scope"},
		{"-.slice:p:n", "/p-n.scope"},
		{":p:n", "/system.slice/p-n.scope"},
		{"system.slice::n.slice", "/system.slice/n.slice"},
	} {
		got, err := cgroupPath(c.in, "id", true)
		if err != nil || got != c.want {
			t.Errorf("cgroupPath(%q, systemd): %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"machine.slice", "a:b", "notaslice:p:n", "a/b.slice:p:n"} {
		if got, err := cgroupPath(bad, "id", true); err == nil {
			t.Errorf("cgroupPath(%q, systemd): %q, want an error", bad, got)
		}
	}
	if got, err := cgroupPath("/libpod_parent/libpod-x", "id", false); err != nil || got != "/libpod_parent/libpod-x" {
		t.Errorf("cgroupPath of an absolute cgroupfs path: %q, %v", got, err)
	}
	if got, err := cgroupPath("/a/../../b", "id", false); err != nil || got != "/b" {
		t.Errorf("cgroupPath(/a/../../b): %q, %v; want /b (kept under the hierarchy's root)", got, err)
	}
}
