package tests

import "testing"

// TestOCIPodmanNestedForks: under podman's --ulimit nofile=1024:1024 (podmanLimits), a
// program exec'd in the container whose forked child forks again (a subshell in a
// pipeline), and a chain of forks 12 deep, run as under runc. Each child's golos took its
// descriptor table's top from its end of the socket to its parent, placed above the
// parent's own descriptors, so that the top doubled at each generation until a
// grandchild's golos could not open the container's tmpfs volumes (EMFILE) and the
// program got "can't fork: Cannot allocate memory" (TestFilesNestedForks, without podman).
func TestOCIPodmanNestedForks(t *testing.T) {
	t.Run("exec-subshell", func(t *testing.T) {
		samePodman(t, "IMAGE", "sh", "-c", `exec sh -c "(ls /bin | wc -l; echo x) | cat"`)
	})
	t.Run("chain", func(t *testing.T) {
		samePodman(t, "IMAGE", "sh", "-c", nestedForkScript, "12")
	})
}
