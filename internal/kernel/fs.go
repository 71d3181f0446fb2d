package kernel

import "golang.org/x/sys/unix"

// The file syscalls pass through to the host: by default the application sees the host's
// files as they are. What golos must hide or virtualise is handled here.

// readlinkat(2) and readlink(2): /proc/self/exe names the program, not golos.
func sysReadlink(t *Thread) int64 {
	return readlinkAt(t, unix.AT_FDCWD, t.arg(0), t.arg(1), t.arg(2))
}

func sysReadlinkat(t *Thread) int64 {
	return readlinkAt(t, int32(t.arg(0)), t.arg(1), t.arg(2), t.arg(3))
}

func readlinkAt(t *Thread, dirfd int32, pathAddr, buf, size uint64) int64 {
	path, e := readString(pathAddr, unix.PathMax)
	if e != 0 {
		return -int64(e)
	}
	bufsiz := int(int32(size)) // readlink(2) takes an int
	if bufsiz <= 0 {
		return -int64(unix.EINVAL)
	}
	if isProcSelfExe(path, dirfd) {
		name := []byte(t.p.exePath)
		n := min(len(name), bufsiz) // readlink(2) truncates silently
		if e := copyOut(buf, name[:n]); e != 0 {
			return -int64(e)
		}
		return int64(n)
	}
	return passthroughRaw(unix.SYS_READLINKAT, uint64(int64(dirfd)), pathAddr, buf, size, 0, 0)
}

func isProcSelfExe(path string, dirfd int32) bool {
	switch path {
	case "/proc/self/exe", "/proc/thread-self/exe":
		return true
	}
	return false
}

// openat(2) and open(2): /proc/self/exe opens the program, not golos.
func sysOpenat(t *Thread) int64 {
	return openAt(t, int32(t.arg(0)), t.arg(1), t.arg(2), t.arg(3))
}

func sysOpen(t *Thread) int64 {
	return openAt(t, unix.AT_FDCWD, t.arg(0), t.arg(1), t.arg(2))
}

func openAt(t *Thread, dirfd int32, pathAddr, flags, mode uint64) int64 {
	path, e := readString(pathAddr, unix.PathMax)
	if e != 0 {
		return -int64(e)
	}
	if isProcSelfExe(path, dirfd) {
		fd, err := unix.Open(t.p.exePath, int(flags), uint32(mode))
		if err != nil {
			return -int64(err.(unix.Errno))
		}
		return int64(fd)
	}
	r, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(int64(dirfd)), uintptr(pathAddr),
		uintptr(flags), uintptr(mode), 0, 0)
	if errno != 0 {
		return -int64(errno)
	}
	return int64(r)
}
