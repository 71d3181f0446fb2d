package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/cgroupfs"
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
// a cgroup v2 one (cgroupfs.Own); on v2, only where the controller is available to that
// cgroup (its cgroup.controllers), not just at the hierarchy's root.
func ownPidsCgroup() (string, bool, error) {
	dir, h, err := cgroupfs.Own("pids")
	if err != nil {
		return "", false, err
	}
	if h.V2 {
		ctl, err := cgroupfs.ReadFile(filepath.Join(dir, "cgroup.controllers"))
		if err != nil || !slices.Contains(strings.Fields(string(ctl)), "pids") {
			return "", false, fmt.Errorf("the pids controller is not available to golos's cgroup %s", dir)
		}
	}
	return dir, h.V2, nil
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
