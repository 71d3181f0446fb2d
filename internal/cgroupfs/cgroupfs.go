// Package cgroupfs finds the cgroup hierarchies mounted in this mount namespace and this
// process's cgroups in them (cgroups(7); proc(5): /proc/self/mountinfo, /proc/self/cgroup),
// for golos-oci's containers, --sandbox's pids limit and the kernel's task headroom.
//
// It reads files with plain system calls, no os.File: the kernel reads them where an OS
// thread may be short (internal/kernel, nproc.go), and an os.File's finalizer would start
// the runtime's finalizer goroutine.
package cgroupfs

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Hierarchy is a cgroup hierarchy mounted here: one per controller set on cgroup v1, the
// unified one on v2, both on a hybrid host.
type Hierarchy struct {
	Mount       string   // where it is mounted
	Root        string   // the cgroup at its mount point (mountinfo's field 4)
	V2          bool     // the unified hierarchy (cgroup2)
	Controllers []string // v1: its controllers (and name=…); v2: cgroup.controllers
}

// Has reports whether the hierarchy has controller c.
func (h *Hierarchy) Has(c string) bool {
	for _, x := range h.Controllers {
		if x == c {
			return true
		}
	}
	return false
}

// Dir is the directory of cgroup cg (a path from the hierarchy's root, as
// /proc/PID/cgroup gives it) under the hierarchy's mount, which shows its cgroup Root;
// "" when cg is not below Root.
func (h *Hierarchy) Dir(cg string) string {
	rel, err := filepath.Rel(h.Root, filepath.Clean("/"+cg))
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return ""
	}
	return filepath.Join(h.Mount, rel)
}

// Hierarchies lists the cgroup hierarchies mounted in this mount namespace, each once.
func Hierarchies() ([]Hierarchy, error) {
	mi, err := ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return parseMountinfo(string(mi), func(mount string) []string {
		b, _ := ReadFile(filepath.Join(mount, "cgroup.controllers"))
		return strings.Fields(string(b))
	}), nil
}

// mountOptions are a v1 cgroup mount's super options that name no controller
// (kernel/cgroup/cgroup-v1.c, cgroup1_parse_param); the others with "=" are left out too,
// but for name=.
var mountOptions = map[string]bool{"rw": true, "ro": true, "xattr": true, "noprefix": true,
	"clone_children": true, "cpuset_v2_mode": true, "all": true, "none": true, "favordynmods": true,
	"nofavordynmods": true}

// parseMountinfo finds the cgroup mounts in mountinfo; controllers reads a v2 mount's.
func parseMountinfo(mountinfo string, controllers func(mount string) []string) []Hierarchy {
	var hs []Hierarchy
	seen := map[string]bool{}
	for _, line := range strings.Split(mountinfo, "\n") {
		// 35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
		f := strings.Fields(line)
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || len(f) < sep+4 {
			continue
		}
		fstype := f[sep+1]
		if fstype != "cgroup" && fstype != "cgroup2" || seen[f[2]] { // f[2]: one per hierarchy mounted twice
			continue
		}
		seen[f[2]] = true
		h := Hierarchy{Mount: unescape(f[4]), Root: unescape(f[3]), V2: fstype == "cgroup2"}
		if h.V2 {
			h.Controllers = controllers(h.Mount)
		} else {
			for _, o := range strings.Split(f[sep+3], ",") {
				if !mountOptions[o] && !strings.Contains(o, "=") || strings.HasPrefix(o, "name=") {
					h.Controllers = append(h.Controllers, o)
				}
			}
		}
		hs = append(hs, h)
	}
	return hs
}

// Own returns the directory of this process's cgroup for controller and the hierarchy
// it is in: the v1 hierarchy that has the controller, else the unified one when it has
// it (cgroups(7): /proc/PID/cgroup's "0::PATH").
func Own(controller string) (string, Hierarchy, error) {
	cg, err := ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", Hierarchy{}, err
	}
	hs, err := Hierarchies()
	if err != nil {
		return "", Hierarchy{}, err
	}
	return own(string(cg), hs, controller)
}

func own(cgroupFile string, hs []Hierarchy, controller string) (string, Hierarchy, error) {
	var v1, v2 string
	haveV1, haveV2 := false, false
	for _, line := range strings.Split(strings.TrimSpace(cgroupFile), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" && f[1] == "" {
			v2, haveV2 = f[2], true
		}
		for _, c := range strings.Split(f[1], ",") {
			if c == controller {
				v1, haveV1 = f[2], true
			}
		}
	}
	for _, h := range hs {
		switch {
		case haveV1 && !h.V2 && h.Has(controller):
			if d := h.Dir(v1); d != "" {
				return d, h, nil
			}
		case !haveV1 && haveV2 && h.V2 && h.Has(controller):
			if d := h.Dir(v2); d != "" {
				return d, h, nil
			}
		}
	}
	return "", Hierarchy{}, errors.New("no " + controller + " cgroup hierarchy mounted where this process's cgroup is")
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// ReadFile reads a file of /proc or of a cgroup to its end with plain system calls.
func ReadFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var out []byte
	b := make([]byte, 16<<10)
	for {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, b[:n]...)
	}
}
