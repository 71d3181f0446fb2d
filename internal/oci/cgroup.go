package oci

import (
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/cgroupfs"
)

// Cgroups: the container's processes go into the cgroup linux.cgroupsPath names, with the
// limits of linux.resources written there, as runc's cgroupfs manager does
// (config-linux.md, "Control groups"; runc's libcontainer/cgroups/fs and fs2). golos-oci
// makes the cgroup in every hierarchy the host has mounted (cgroup v1, one per controller,
// or v2's unified one, or both: a hybrid host), the init process moves itself there
// before it waits for start (initProcess), exec's processes too, and delete removes it.
// Every process of the container is golos's, whose own threads count toward pids.max and
// whose own memory toward the memory limit: a program reaches the limits sooner than
// under runc.

// Resources is the part of linux.resources golos-oci applies.
type Resources struct {
	Memory *struct {
		Limit       *int64 `json:"limit"`
		Reservation *int64 `json:"reservation"`
		Swap        *int64 `json:"swap"`
	} `json:"memory"`
	CPU *struct {
		Shares *uint64 `json:"shares"`
		Quota  *int64  `json:"quota"`
		Period *uint64 `json:"period"`
		Cpus   string  `json:"cpus"`
		Mems   string  `json:"mems"`
	} `json:"cpu"`
	Pids *struct {
		Limit int64 `json:"limit"`
	} `json:"pids"`
}

// cgroupPath is the cgroup linux.cgroupsPath names, from the root of each hierarchy: an
// absolute path as it is; a relative one under this process's own cgroup (runc's
// libcontainer/cgroups/fs: the parent's cgroup of the "devices" hierarchy, here of the
// first one /proc/self/cgroup lists); with --systemd-cgroup, "slice:prefix:name" is the
// cgroupfs path systemd would give it (slice "a-b.slice" under a.slice/a-b.slice, then
// prefix-name.scope: systemd.slice(5)), made here without systemd. An empty path is the
// container's id, as runc's.
func cgroupPath(p, id string, systemd bool) (string, error) {
	if systemd {
		parts := strings.Split(p, ":")
		if p == "" {
			parts = []string{"", "golos-oci", id}
		}
		if len(parts) != 3 {
			return "", fmt.Errorf("linux.cgroupsPath %q: with --systemd-cgroup it is slice:prefix:name", p)
		}
		slice := parts[0]
		if slice == "" {
			slice = "system.slice"
		}
		if !strings.HasSuffix(slice, ".slice") || strings.Contains(slice, "/") {
			return "", fmt.Errorf("linux.cgroupsPath %q: %q is not a slice", p, slice)
		}
		dir := "/"
		name := strings.TrimSuffix(slice, ".slice")
		if name != "-" {
			words := strings.Split(name, "-")
			for i := range words {
				dir = path.Join(dir, strings.Join(words[:i+1], "-")+".slice")
			}
		}
		unit := parts[2]
		if parts[1] != "" {
			unit = parts[1] + "-" + unit
		}
		if !strings.HasSuffix(unit, ".slice") {
			unit += ".scope"
		}
		return path.Join(dir, unit), nil
	}
	if p == "" {
		p = id
	}
	if path.IsAbs(p) {
		return path.Clean(p), nil
	}
	own, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", err
	}
	parent := "/"
	if line, _, _ := strings.Cut(string(own), "\n"); line != "" {
		if f := strings.SplitN(line, ":", 3); len(f) == 3 {
			parent = f[2]
		}
	}
	return path.Join(parent, path.Clean("/"+p)), nil
}

// errNoCgroups is a host that refuses golos-oci a cgroup (rootless, a read-only
// cgroupfs): the container runs without, as runc's rootless mode does.
type errNoCgroups struct{ err error }

func (e *errNoCgroups) Error() string { return e.err.Error() }

// refused reports whether err is the host's refusal rather than a bad value.
func refused(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS)
}

// cgroupSetup makes the container's cgroup in each hierarchy and writes its limits. It
// returns the directories made (for the init process to join, and delete to remove) and
// the volumes that show them at the container's cgroup mount (dest, "" for none), as
// runc's bind mounts of each hierarchy's cgroup do: the container reads its own limits
// at /sys/fs/cgroup/pids/pids.max (v1) or /sys/fs/cgroup/pids.max (v2). An
// *errNoCgroups is the host's refusal; on any error nothing is left.
func cgroupSetup(cg string, res *Resources, dest string) (dirs []string, vols []volume, err error) {
	hs, err := cgroupfs.Hierarchies()
	if err != nil {
		return nil, nil, fmt.Errorf("cgroups: %w", err)
	}
	if len(hs) == 0 {
		return nil, nil, &errNoCgroups{errors.New("the host has no cgroup file system mounted")}
	}
	defer func() {
		if err != nil {
			cgroupRemove(dirs)
			dirs, vols = nil, nil
		}
	}()
	for i := range hs {
		h := &hs[i]
		d := h.Dir(cg)
		if d == "" {
			continue
		}
		if err := makeCgroup(h, d); err != nil {
			if refused(err) {
				return dirs, nil, &errNoCgroups{fmt.Errorf("cgroup %s: %w", d, err)}
			}
			return dirs, nil, fmt.Errorf("cgroup %s: %w", d, err)
		}
		dirs = append(dirs, d)
		if err := writeLimits(h, d, res); err != nil {
			return dirs, nil, err
		}
		if dest != "" && strings.HasPrefix(h.Mount+"/", "/sys/fs/cgroup/") {
			vols = append(vols, volume{Host: d, Guest: path.Join(dest, strings.TrimPrefix(h.Mount, "/sys/fs/cgroup")), ReadOnly: true})
		}
	}
	return dirs, vols, nil
}

// makeCgroup makes d and the cgroups above it that are missing. A new cpuset cgroup (v1)
// has no CPUs and no memory nodes, and no process may join it until it has (cpusets(7)):
// each gets its parent's, as runc's cpuset manager does (ensureParent).
func makeCgroup(h *cgroupfs.Hierarchy, d string) error {
	var made []string
	for p := d; p != h.Mount && p != "/"; p = filepath.Dir(p) {
		if _, err := os.Stat(p); err == nil {
			break
		}
		made = append(made, p)
	}
	for i := len(made) - 1; i >= 0; i-- {
		p := made[i]
		if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if !h.V2 && h.Has("cpuset") {
			for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
				if b, _ := os.ReadFile(filepath.Join(p, f)); strings.TrimSpace(string(b)) != "" {
					continue
				}
				b, err := os.ReadFile(filepath.Join(filepath.Dir(p), f))
				if err != nil {
					return err
				}
				if err := writeCgroupFile(p, f, strings.TrimSpace(string(b))); err != nil {
					return err
				}
			}
		}
		if h.V2 {
			// The controllers the limits need, enabled for the parent's children
			// (cgroups(7), "Enabling and disabling controllers"); those the parent cannot
			// give are left out, as the limits that would need them.
			for _, c := range []string{"cpu", "cpuset", "memory", "pids"} {
				if h.Has(c) {
					writeCgroupFile(filepath.Dir(p), "cgroup.subtree_control", "+"+c)
				}
			}
		}
	}
	return nil
}

func writeCgroupFile(dir, name, value string) error {
	err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0)
	if err != nil {
		return fmt.Errorf("cgroup: write %q to %s: %w", value, filepath.Join(dir, name), errors.Unwrap(err))
	}
	return nil
}

// writeLimits writes linux.resources' limits to the files of hierarchy h's cgroup d
// (runc's libcontainer/cgroups/fs/{memory,pids,cpu,cpuset}.go for v1; fs2 for v2, with
// cpu.shares converted to cpu.weight as runc's ConvertCPUSharesToCgroupV2Value).
func writeLimits(h *cgroupfs.Hierarchy, d string, res *Resources) error {
	if res == nil {
		return nil
	}
	var w [][2]string
	if m := res.Memory; m != nil {
		switch {
		case h.V2 && h.Has("memory"):
			if m.Limit != nil {
				w = append(w, [2]string{"memory.max", limitValue(*m.Limit)})
				if m.Swap != nil {
					// runtime-spec's swap is memory+swap; v2's swap.max is swap alone.
					swap := "max"
					if *m.Swap >= 0 && *m.Limit > 0 {
						swap = strconv.FormatInt(max(*m.Swap-*m.Limit, 0), 10)
					}
					if _, err := os.Stat(filepath.Join(d, "memory.swap.max")); err == nil {
						w = append(w, [2]string{"memory.swap.max", swap})
					}
				}
			}
			if m.Reservation != nil {
				w = append(w, [2]string{"memory.low", limitValue(*m.Reservation)})
			}
		case !h.V2 && h.Has("memory"):
			if m.Limit != nil {
				w = append(w, [2]string{"memory.limit_in_bytes", strconv.FormatInt(*m.Limit, 10)})
			}
			if m.Swap != nil {
				// Only where the kernel accounts swap (CONFIG_MEMCG_SWAP).
				if _, err := os.Stat(filepath.Join(d, "memory.memsw.limit_in_bytes")); err == nil {
					w = append(w, [2]string{"memory.memsw.limit_in_bytes", strconv.FormatInt(*m.Swap, 10)})
				}
			}
			if m.Reservation != nil {
				w = append(w, [2]string{"memory.soft_limit_in_bytes", strconv.FormatInt(*m.Reservation, 10)})
			}
		}
	}
	// A pids limit of 0 is none given (runc's fs/pids.go writes nothing then).
	if p := res.Pids; p != nil && p.Limit != 0 && h.Has("pids") {
		w = append(w, [2]string{"pids.max", limitValue(p.Limit)})
	}
	if c := res.CPU; c != nil {
		if h.Has("cpu") {
			if h.V2 {
				if c.Shares != nil && *c.Shares != 0 {
					w = append(w, [2]string{"cpu.weight", strconv.FormatUint(1+((min(max(*c.Shares, 2), 262144)-2)*9999)/262142, 10)})
				}
				if c.Quota != nil || c.Period != nil {
					quota, period := "max", uint64(100000)
					if c.Quota != nil && *c.Quota > 0 {
						quota = strconv.FormatInt(*c.Quota, 10)
					}
					if c.Period != nil && *c.Period != 0 {
						period = *c.Period
					}
					w = append(w, [2]string{"cpu.max", fmt.Sprintf("%s %d", quota, period)})
				}
			} else {
				if c.Shares != nil && *c.Shares != 0 {
					w = append(w, [2]string{"cpu.shares", strconv.FormatUint(*c.Shares, 10)})
				}
				// The period first: a quota above the old period may be refused.
				if c.Period != nil && *c.Period != 0 {
					w = append(w, [2]string{"cpu.cfs_period_us", strconv.FormatUint(*c.Period, 10)})
				}
				if c.Quota != nil && *c.Quota != 0 {
					w = append(w, [2]string{"cpu.cfs_quota_us", strconv.FormatInt(*c.Quota, 10)})
				}
			}
		}
		if h.Has("cpuset") {
			if c.Cpus != "" {
				w = append(w, [2]string{"cpuset.cpus", c.Cpus})
			}
			if c.Mems != "" {
				w = append(w, [2]string{"cpuset.mems", c.Mems})
			}
		}
	}
	for _, kv := range w {
		if err := writeCgroupFile(d, kv[0], kv[1]); err != nil {
			return err
		}
	}
	return nil
}

// limitValue is a v2 limit or pids.max: "max" for none (a negative one).
func limitValue(n int64) string {
	if n < 0 {
		return "max"
	}
	return strconv.FormatInt(n, 10)
}

// joinCgroups moves this process, all its threads, into each of dirs (cgroup.procs:
// writing 0 names the writer, cgroups(7)).
func joinCgroups(dirs []string) error {
	for _, d := range dirs {
		if err := writeCgroupFile(d, "cgroup.procs", "0"); err != nil {
			return err
		}
	}
	return nil
}

// cgroupRemove removes the container's cgroups, once its processes are gone: a cgroup
// with none is removed with rmdir(2) (cgroups(7)); an exiting process may leave it a
// moment after waitGone saw it a zombie (EBUSY), so the removal is tried for a while.
func cgroupRemove(dirs []string) error {
	var errs []error
	for i := len(dirs) - 1; i >= 0; i-- {
		d := dirs[i]
		var err error
		for try := 0; try < 100; try++ {
			if err = unix.Rmdir(d); err != unix.EBUSY {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err != nil && err != unix.ENOENT {
			errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
		}
	}
	return errors.Join(errs...)
}
