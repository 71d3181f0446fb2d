package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"
)

// readOnlyProcPaths are the parts of /proc that change the host's kernel rather than
// show a process (Docker's "readonly paths"). The sandbox's root user is the host's
// root user (Spawn's identity map), which the kernel's sysctl files let write
// (kernel/sysctl.c, test_perm: the global root uid), whatever the user namespace.
//
// The cgroup file systems are read-only too, as in a Docker container: without --root
// the host's mounts are the sandbox's, and root, which keeps CAP_DAC_OVERRIDE, could
// otherwise raise its own pids cgroup's pids.max or leave the cgroup (pids.go).
var readOnlyProcPaths = []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs",
	"/sys/fs/cgroup"}

// readOnlyProc makes readOnlyProcPaths read-only in the sandbox's mount namespace: each is
// bind-mounted on itself, and the new mount made read-only (mount_setattr(2)).
func readOnlyProc() error {
	for _, p := range readOnlyProcPaths {
		if err := unix.Mount(p, p, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue // not in this kernel's /proc
			}
			return fmt.Errorf("bind-mount %s: %w", p, err)
		}
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err := unix.MountSetattr(unix.AT_FDCWD, p, unix.AT_RECURSIVE, &attr); err != nil {
			return fmt.Errorf("make %s read-only: %w", p, err)
		}
	}
	return nil
}

// newProc mounts the procfs of the sandbox's new pid namespace on /proc, over the host's,
// in the sandbox's own mount namespace: the program's /proc/1 is its own process, and
// /proc lists only its tree, as in a container (pid_namespaces(7), "/proc and pid
// namespaces"); golos's own reads of /proc/self find its process there too. It comes
// before readOnlyProc's bind mounts: a user namespace may mount a procfs only while
// the one it would show anew is not partly covered (fs/namespace.c, mnt_already_visible).
func newProc() error {
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("mount the new pid namespace's /proc: %w", err)
	}
	return nil
}

// loopbackUp brings up the loopback interface of a new network namespace, which starts
// down (netdevice(7): SIOCGIFFLAGS, SIOCSIFFLAGS), so that the program has 127.0.0.1
// and ::1 as under docker run --net=none.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("a socket to bring up lo: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("lo's flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("bring up lo: %w", err)
	}
	return nil
}

// newRootAt is where the sandbox's new root file system is put together: a tmpfs
// mounted over /tmp in the sandbox's own mount namespace (the host's /tmp is not
// touched, and what it held stays reachable through the descriptors opened first).
const newRootAt = "/tmp"

// onlyDirs makes the mount namespace hold only what golos needs: the root and the
// volumes, /proc and golos's executable, each at its host path, so that a host path
// outside them (a unix socket's, which Landlock's ABI here does not confine) names
// nothing at all. A tmpfs becomes the namespace's root (pivot_root(2), then the old root
// detached: umount2(2) MNT_DETACH), with a bind mount of each at its own path, made
// read-only by the kernel for a read-only root or volume (mount_setattr(2)
// MOUNT_ATTR_RDONLY). Each source is opened before the tmpfs can hide it, and mounted
// from its descriptor (/proc/self/fd/N).
func onlyDirs(dirs []Dir) error {
	exePath, err := os.Readlink(exe)
	if err != nil {
		return fmt.Errorf("golos's executable: %w", err)
	}
	type bind struct {
		Dir
		fd  int
		dir bool
	}
	all := append([]Dir{{What: "/proc", Path: "/proc"}, {What: "golos's executable", Path: exePath, ReadOnly: true}}, dirs...)
	// Parents before their children: a volume inside the root is mounted over it.
	sort.SliceStable(all, func(i, j int) bool { return len(all[i].Path) < len(all[j].Path) })
	var binds []bind
	defer func() {
		for _, b := range binds {
			unix.Close(b.fd)
		}
	}()
	for _, d := range all {
		fd, err := unix.Open(d.Path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", d.What, d.Path, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil {
			unix.Close(fd)
			return fmt.Errorf("%s: %s: %w", d.What, d.Path, err)
		}
		binds = append(binds, bind{d, fd, st.Mode&unix.S_IFMT == unix.S_IFDIR})
	}
	if err := unix.Mount("tmpfs", newRootAt, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=0755"); err != nil {
		return fmt.Errorf("a tmpfs for the new root at %s: %w", newRootAt, err)
	}
	for _, b := range binds {
		target := filepath.Join(newRootAt, b.Path)
		if b.dir {
			err = os.MkdirAll(target, 0o755)
		} else if err = os.MkdirAll(filepath.Dir(target), 0o755); err == nil {
			var f int
			if f, err = unix.Open(target, unix.O_CREAT|unix.O_WRONLY|unix.O_CLOEXEC, 0o644); err == nil {
				unix.Close(f)
			}
		}
		if err != nil {
			return fmt.Errorf("%s: a mount point in the new root: %w", b.What, err)
		}
		src := "/proc/self/fd/" + strconv.Itoa(b.fd)
		if err := unix.Mount(src, target, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			return fmt.Errorf("%s: bind-mount %s: %w", b.What, b.Path, err)
		}
		if b.ReadOnly {
			attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
			if err := unix.MountSetattr(unix.AT_FDCWD, target, unix.AT_RECURSIVE, &attr); err != nil {
				return fmt.Errorf("%s: make %s read-only: %w", b.What, b.Path, err)
			}
		}
	}
	// pivot_root(".", "."): the old root ends up on top of the new one, and is then
	// detached (pivot_root(2), NOTES).
	if err := unix.Chdir(newRootAt); err != nil {
		return fmt.Errorf("enter the new root: %w", err)
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return fmt.Errorf("pivot_root to the new root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return fmt.Errorf("detach the host's root: %w", err)
	}
	return unix.Chdir("/")
}
