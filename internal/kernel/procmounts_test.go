package kernel

import "testing"

// TestMountPathEscapes: the escapes of the mount files, as a mount point with a space, a
// tab, a newline and a backslash shows in /proc/self/mounts (fstab(5): "\040" for a space).
func TestMountPathEscapes(t *testing.T) {
	for _, c := range []struct{ kernel, path string }{
		{`/mnt/a\040b`, "/mnt/a b"},
		{`/x\011y\012z\134w`, "/x\ty\nz\\w"},
		{`/plain`, "/plain"},
		{`/end\04`, `/end\04`}, // too short to be an escape: as it is
	} {
		if got := unescapeMountPath(c.kernel); got != c.path {
			t.Errorf("unescapeMountPath(%q) = %q, want %q", c.kernel, got, c.path)
		}
		if c.kernel == `/end\04` {
			continue
		}
		if got := escapeMountPath(c.path); got != c.kernel {
			t.Errorf("escapeMountPath(%q) = %q, want %q", c.path, got, c.kernel)
		}
	}
}
