package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultPidsLimit is --pids-limit's default: podman's default pids limit is 2048 tasks
// (containers.conf, pids_limit), of the program's; here golos's own threads count too,
// 6 to 16 a process (internal/kernel, nproc.go), hence more.
const DefaultPidsLimit = 4096

// A fork bomb in the sandbox is bounded as in a container: the sandbox's tasks (every
// thread of every process in it, golos's included) are a pids cgroup of their own,
// whose pids.max is --pids-limit, where fork(2) and clone(2) fail with EAGAIN
// (Documentation/admin-guide/cgroup-v1/pids.rst, cgroup-v2.rst "PID"). The cgroup is
// made beneath the one golos is in, which takes write access to it: root's, or a
// delegated cgroup v2 subtree (a user's systemd service with Delegate=yes).
//
// Where none can be made, a user other than root gets RLIMIT_NPROC in the sandbox's
// user namespace instead (Enter, RlimitNprocFlag): Linux counts it per user
// namespace (kernel/ucount.c, is_rlimit_overlimit), so it bounds the sandbox's tasks
// alone, and the program sees it (getrlimit(2)), as under docker run --ulimit nproc.
// Root, to which RLIMIT_NPROC does not apply, gets neither, and is told so: the limit is
// then golos's own count alone (kernel.Options.TaskLimit), which a program that takes
// over golos is not held to.
//
// Either way golos counts the sandbox's tasks itself before each fork and thread
// (kernel.Options.TaskLimit, the pid namespace's tasks in /proc) and gives the program
// EAGAIN before the host refuses golos's runtime a thread, which would end it.

// RlimitNprocFlag is golos run's hidden flag that tells the golos of Enter to set
// RLIMIT_NPROC (Config.RlimitNproc): Spawn could make no pids cgroup.
const RlimitNprocFlag = "--sandbox-rlimit-nproc"

// limitTasks bounds the tasks of the sandbox Spawn is about to start as argv to limit
// (none for 0): it makes a pids cgroup and moves golos into it, so that the next process
// is born there, and returns it and the function that moves golos back (to call once
// that process is started); where it cannot, it has Enter set RLIMIT_NPROC (argv gets
// RlimitNprocFlag), or, for root, says once on stderr that golos's count alone holds.
func limitTasks(argv []string, limit int) (*pidsCgroup, func(), []string) {
	nothing := func() {}
	if limit <= 0 {
		return nil, nothing, argv
	}
	cg, err := newPidsCgroup(limit)
	if err == nil {
		back, jerr := cg.join()
		if jerr == nil {
			return cg, back, argv
		}
		cg.remove()
		err = jerr
	}
	if os.Getuid() != 0 {
		out := append([]string{}, argv[:2]...)
		out = append(out, RlimitNprocFlag, strconv.Itoa(limit))
		return nil, nothing, append(out, argv[2:]...)
	}
	fmt.Fprintf(os.Stderr, "golos: --sandbox: --pids-limit %d is golos's own count only, which a program that takes over golos escapes: %v\n", limit, err)
	return nil, nothing, argv
}

// pidsCgroup is the cgroup Spawn made for a sandbox.
type pidsCgroup struct {
	dir  string // its directory
	home string // the directory of the cgroup golos was in
}

// newPidsCgroup makes a pids cgroup for a sandbox beneath golos's own, limited to limit
// tasks.
func newPidsCgroup(limit int) (*pidsCgroup, error) {
	home, v2, err := ownPidsCgroup()
	if err != nil {
		return nil, err
	}
	if v2 {
		// The pids controller must be enabled for the new cgroup's parent's children
		// (cgroup-v2.rst, "Enabling and Disabling"); already so in a delegated subtree
		// that has it, refused (EBUSY) in one that holds processes of its own.
		if err := os.WriteFile(filepath.Join(home, "cgroup.subtree_control"), []byte("+pids"), 0); err != nil {
			return nil, fmt.Errorf("enable the pids controller in %s: %w", home, err)
		}
	}
	dir := filepath.Join(home, "golos-sandbox-"+strconv.Itoa(os.Getpid()))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("make a pids cgroup: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pids.max"), []byte(strconv.Itoa(limit)), 0); err != nil {
		unix.Rmdir(dir)
		return nil, fmt.Errorf("set %s/pids.max: %w", dir, err)
	}
	return &pidsCgroup{dir: dir, home: home}, nil
}

// ownPidsCgroup returns the directory of the pids cgroup golos is in, and whether it is
// a cgroup v2 one: the pids line of /proc/self/cgroup (cgroups(7); v2's "0::PATH" when
// no v1 hierarchy has the pids controller), beneath the mount point of its hierarchy
// (/proc/self/mountinfo, proc(5): the mount's root within the hierarchy, its mount
// point, its type and, for v1, the controllers among its super options).
func ownPidsCgroup() (string, bool, error) {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return "", false, err
	}
	var v1Path, v2Path string
	haveV1, haveV2 := false, false
	for line := range strings.SplitSeq(strings.TrimSpace(string(b)), "\n") {
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[0] == "0" && f[1] == "" {
			v2Path, haveV2 = f[2], true
		}
		for c := range strings.SplitSeq(f[1], ",") {
			if c == "pids" {
				v1Path, haveV1 = f[2], true
			}
		}
	}
	mi, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "", false, err
	}
	defer mi.Close()
	sc := bufio.NewScanner(mi)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := -1
		for i, s := range f {
			if s == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || sep+3 >= len(f) {
			continue
		}
		root, mnt, typ, opts := f[3], unescapeMount(f[4]), f[sep+1], f[sep+3]
		switch {
		case haveV1 && typ == "cgroup" && hasOpt(opts, "pids"):
			if rel, ok := within(v1Path, root); ok {
				return filepath.Join(mnt, rel), false, nil
			}
		case !haveV1 && haveV2 && typ == "cgroup2":
			if rel, ok := within(v2Path, root); ok {
				dir := filepath.Join(mnt, rel)
				ctl, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
				if err == nil && hasField(string(ctl), "pids") {
					return dir, true, nil
				}
			}
		}
	}
	return "", false, errors.New("no pids cgroup hierarchy mounted where golos's cgroup is")
}

// within returns path relative to a mount's root within its hierarchy, if it is there.
func within(path, root string) (string, bool) {
	rel, err := filepath.Rel(root, path)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false
	}
	return rel, true
}

func hasOpt(opts, name string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == name {
			return true
		}
	}
	return false
}

func hasField(s, name string) bool {
	for f := range strings.FieldsSeq(s) {
		if f == name {
			return true
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
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

// join moves golos's process (all its threads) into the cgroup, so that the sandbox's
// golos it starts next is born in it; the function it returns moves golos back. (A v1
// cgroup has no CLONE_INTO_CGROUP, and a process moved once it runs could fork first.)
// golos's own threads count against pids.max meanwhile, a handful.
func (c *pidsCgroup) join() (back func(), err error) {
	if err := os.WriteFile(filepath.Join(c.dir, "cgroup.procs"), []byte("0"), 0); err != nil {
		return nil, fmt.Errorf("enter the pids cgroup %s: %w", c.dir, err)
	}
	return func() {
		os.WriteFile(filepath.Join(c.home, "cgroup.procs"), []byte("0"), 0)
	}, nil
}

// remove removes the cgroup once the sandbox has ended: its last tasks may still be
// leaving it (rmdir(2) EBUSY) for a moment.
func (c *pidsCgroup) remove() {
	for i := 0; i < 200; i++ {
		if err := unix.Rmdir(c.dir); err != unix.EBUSY {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}
