package kernel

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
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
// it, up to the hierarchy's root (not included: it has no pids.max), found once: a golos
// does not move itself, and its children start in its cgroup.
var pidsCgroupDirs = sync.OnceValue(func() []string {
	cg, ok := readProc("/proc/self/cgroup")
	if !ok {
		return nil
	}
	mi, ok := readProcAll("/proc/self/mountinfo")
	if !ok {
		return nil
	}
	var path string
	v2 := false
	for _, line := range strings.Split(string(cg), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" && f[1] == "" {
			path, v2 = f[2], true // the unified hierarchy, unless v1 has a pids one
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == "pids" {
				path, v2 = f[2], false
			}
		}
		if path != "" && !v2 {
			break
		}
	}
	if path == "" {
		return nil
	}
	for _, line := range strings.Split(string(mi), "\n") {
		// 39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
		fields := strings.Fields(line)
		sep := -1
		for i, x := range fields {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || len(fields) < sep+4 {
			continue
		}
		match := fields[sep+1] == "cgroup2" && v2
		if fields[sep+1] == "cgroup" && !v2 {
			for _, o := range strings.Split(fields[sep+3], ",") {
				match = match || o == "pids"
			}
		}
		if !match {
			continue
		}
		root, mount := fields[3], fields[4]
		rel := path
		if root != "/" {
			if !strings.HasPrefix(path+"/", root+"/") {
				continue
			}
			rel = strings.TrimPrefix(path, root)
		}
		var dirs []string
		for d := filepath.Join(mount, filepath.Clean("/"+rel)); d != mount && len(d) > len(mount); d = filepath.Dir(d) {
			dirs = append(dirs, d)
		}
		return dirs
	}
	return nil
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

// readProcAll reads a file of /proc to its end, with plain system calls (readProc).
func readProcAll(path string) ([]byte, bool) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, false
	}
	defer unix.Close(fd)
	var out []byte
	b := make([]byte, 16<<10)
	for {
		m, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, false
		}
		if m == 0 {
			return out, true
		}
		out = append(out, b[:m]...)
	}
}
