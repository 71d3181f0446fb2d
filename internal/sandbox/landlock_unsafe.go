package sandbox

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Landlock (Documentation/userspace-api/landlock.rst; landlock(7)): a ruleset names the
// file-system accesses it handles, which are then refused everywhere but beneath the
// directories (and on the files) its rules grant them on. golos's ruleset handles every
// file-system access the host's Landlock ABI knows, and grants:
//   - the root and the volumes: all of them, or reading and executing for a read-only one;
//   - /proc: reading, and writing its files (golos writes the program's code through
//     /proc/self/mem, programs write /proc/self/…; the kernel's own knobs under /proc are
//     read-only bind mounts, readOnlyProc, and another process's /proc/PID/root or
//     /proc/PID/cwd lead to its files by their real paths, which Landlock checks);
//   - golos's own executable: running and reading it (a fork or an execve starts golos
//     again).
// From ABI 6 on it also scopes signals and abstract unix sockets: no signal to, and no
// connection to an abstract socket of, a process outside the sandbox.

// landlockABI returns the host's Landlock ABI version (landlock_create_ruleset(2) with
// LANDLOCK_CREATE_RULESET_VERSION), or an error that says why there is none.
func landlockABI() (int, error) {
	v, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, 0, 0, unix.LANDLOCK_CREATE_RULESET_VERSION)
	switch e {
	case 0:
		return int(v), nil
	case unix.ENOSYS:
		return 0, fmt.Errorf("the host kernel has no Landlock (CONFIG_SECURITY_LANDLOCK)")
	case unix.EOPNOTSUPP:
		return 0, fmt.Errorf("the host kernel has Landlock but not enabled (landlock missing from its lsm= list)")
	}
	return 0, fmt.Errorf("landlock: its ABI version: %w", e)
}

// fsAccess returns the file-system accesses Landlock ABI abi handles.
func fsAccess(abi int) uint64 {
	all := uint64(unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE |
		unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR |
		unix.LANDLOCK_ACCESS_FS_REMOVE_DIR | unix.LANDLOCK_ACCESS_FS_REMOVE_FILE |
		unix.LANDLOCK_ACCESS_FS_MAKE_CHAR | unix.LANDLOCK_ACCESS_FS_MAKE_DIR |
		unix.LANDLOCK_ACCESS_FS_MAKE_REG | unix.LANDLOCK_ACCESS_FS_MAKE_SOCK |
		unix.LANDLOCK_ACCESS_FS_MAKE_FIFO | unix.LANDLOCK_ACCESS_FS_MAKE_BLOCK |
		unix.LANDLOCK_ACCESS_FS_MAKE_SYM)
	if abi >= 2 {
		all |= unix.LANDLOCK_ACCESS_FS_REFER
	}
	if abi >= 3 {
		all |= unix.LANDLOCK_ACCESS_FS_TRUNCATE
	}
	if abi >= 5 {
		all |= unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
	}
	return all
}

// landlockRuleset builds golos's ruleset for dirs and returns its descriptor.
func landlockRuleset(dirs []Dir) (int, error) {
	abi, err := landlockABI()
	if err != nil {
		return -1, err
	}
	all := fsAccess(abi)
	read := all & (unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_READ_FILE |
		unix.LANDLOCK_ACCESS_FS_READ_DIR | unix.LANDLOCK_ACCESS_FS_IOCTL_DEV)
	attr := unix.LandlockRulesetAttr{Handled_access_fs: all}
	if abi >= 6 {
		attr.Scoped = unix.LANDLOCK_SCOPE_SIGNAL | unix.LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
	}
	// The attribute's size as the ABI knows it: the first three fields (the later ones,
	// Quiet_*, come with a later ABI than golos asks for).
	size := unsafe.Offsetof(attr.Quiet_access_fs)
	fd, _, e := unix.Syscall(unix.SYS_LANDLOCK_CREATE_RULESET, uintptr(unsafe.Pointer(&attr)), size, 0)
	if e != 0 {
		return -1, fmt.Errorf("landlock: create a ruleset (ABI %d): %w", abi, e)
	}
	ruleset := int(fd)
	add := func(what, path string, access uint64) error {
		pfd, err := unix.Open(path, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: %s: %w", what, path, err)
		}
		defer unix.Close(pfd)
		var st unix.Stat_t
		if err := unix.Fstat(pfd, &st); err != nil {
			return fmt.Errorf("%s: %s: %w", what, path, err)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			// A rule on a file grants only the accesses to a file (landlock_add_rule(2):
			// EINVAL otherwise).
			access &= unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_WRITE_FILE |
				unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE |
				unix.LANDLOCK_ACCESS_FS_IOCTL_DEV
		}
		rule := unix.LandlockPathBeneathAttr{Allowed_access: access & all, Parent_fd: int32(pfd)}
		_, _, e := unix.Syscall6(unix.SYS_LANDLOCK_ADD_RULE, uintptr(ruleset), unix.LANDLOCK_RULE_PATH_BENEATH,
			uintptr(unsafe.Pointer(&rule)), 0, 0, 0)
		if e != 0 {
			return fmt.Errorf("landlock: a rule for %s %s: %w", what, path, e)
		}
		return nil
	}
	type rule struct {
		what, path string
		access     uint64
	}
	rules := []rule{
		{"/proc", "/proc", unix.LANDLOCK_ACCESS_FS_READ_FILE | unix.LANDLOCK_ACCESS_FS_READ_DIR |
			unix.LANDLOCK_ACCESS_FS_WRITE_FILE | unix.LANDLOCK_ACCESS_FS_TRUNCATE},
		{"golos's executable", exe, unix.LANDLOCK_ACCESS_FS_EXECUTE | unix.LANDLOCK_ACCESS_FS_READ_FILE},
	}
	for _, d := range dirs {
		access := all
		if d.ReadOnly {
			access = read
		}
		rules = append(rules, rule{d.What, d.Path, access})
	}
	for _, r := range rules {
		if err := add(r.what, r.path, r.access); err != nil {
			unix.Close(ruleset)
			return -1, err
		}
	}
	return ruleset, nil
}

// landlockRestrictSelf binds the calling thread, and what it runs and starts from now on,
// to the ruleset (landlock_restrict_self(2)).
func landlockRestrictSelf(ruleset int) error {
	_, _, e := unix.Syscall(unix.SYS_LANDLOCK_RESTRICT_SELF, uintptr(ruleset), 0, 0)
	if e != 0 {
		return fmt.Errorf("landlock: restrict golos: %w", e)
	}
	return nil
}
