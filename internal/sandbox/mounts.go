package sandbox

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// readOnlyProcPaths are the parts of /proc that change the host's kernel rather than
// show a process (Docker's "readonly paths"). The sandbox's root user is the host's
// root user (Spawn's identity map), which the kernel's sysctl files let write
// (kernel/sysctl.c, test_perm: the global root uid), whatever the user namespace.
var readOnlyProcPaths = []string{"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus", "/proc/fs"}

// readOnlyProc makes readOnlyProcPaths read-only in the sandbox's mount namespace: each is
// bind-mounted on itself, and the new mount made read-only (mount_setattr(2)). The
// mount namespace's mounts are first made private, so that none of this reaches the
// host's (mount_namespaces(7); a namespace owned by a new user namespace gets its
// shared mounts as slaves anyway).
func readOnlyProc() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make the mounts private: %w", err)
	}
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
