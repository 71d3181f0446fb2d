package kernel

import (
	"bytes"
	"path/filepath"
	"strconv"
	"sync"

	"golos/internal/cgroupfs"
)

// The pids controller of cgroups limits the tasks (threads) of a cgroup and its
// descendants: clone(2) fails with EAGAIN once pids.current would pass pids.max, in any
// of the cgroups from the process's own up to the root (Documentation/admin-guide/
// cgroup-v1/pids.rst, kernel/cgroup/pids.c: pids_can_fork). A container engine sets it
// (podman run --pids-limit). As with RLIMIT_NPROC (nproc.go), the Go runtime of a golos
// that cannot start an OS thread it needs ends the process, so golos refuses a fork or a
// thread of the program's with EAGAIN while the new task's OS threads and the reserve
// would pass a limit: the program reaches it sooner than natively, golos's own threads
// counted too.

// pidsCgroupDirs are the directories of this process's pids cgroup and of those above
// it up to the hierarchy's mount, found once: a golos does not move itself, and its
// children start in its cgroup. The mount's own directory counts only where it shows a
// cgroup below the hierarchy's root (inside a container, the container's, with its
// engine's limit): the root cgroup has no pids.max.
var pidsCgroupDirs = sync.OnceValue(func() []string {
	dir, h, err := cgroupfs.Own("pids")
	if err != nil {
		return nil
	}
	var dirs []string
	for d := dir; len(d) >= len(h.Mount); d = filepath.Dir(d) {
		if d != h.Mount || h.Root != "/" {
			dirs = append(dirs, d)
		}
		if d == h.Mount {
			break
		}
	}
	return dirs
})

// pidsLimit is a pids cgroup of this process's, or one above it, whose pids.max binds.
type pidsLimit struct {
	dir string
	max uint64
}

// pidsLimits are the pids cgroups of this process's whose pids.max is a number, read
// once: a container engine sets the limit before the container's first process starts
// (runc, golos-oci: internal/oci/cgroup.go), and a process with none (most) then reads
// no cgroup file at each fork and thread. A limit set or raised later is not seen.
var pidsLimits = sync.OnceValue(func() []pidsLimit {
	var limits []pidsLimit
	for _, d := range pidsCgroupDirs() {
		b, ok := readProc(d + "/pids.max")
		if !ok {
			continue
		}
		if limit, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64); err == nil {
			limits = append(limits, pidsLimit{d, limit}) // not "max"
		}
	}
	return limits
})

// pidsRoom reports whether need more tasks leave every pids cgroup of this process's
// short of its pids.max by nprocReserve.
func pidsRoom(need int) bool {
	for _, l := range pidsLimits() {
		c, ok := readProc(l.dir + "/pids.current")
		if !ok {
			continue
		}
		cur, err := strconv.ParseUint(string(bytes.TrimSpace(c)), 10, 64)
		if err != nil {
			continue
		}
		if cur+uint64(need+nprocReserve) > l.max {
			return false
		}
	}
	return true
}
