package kernel

import "golang.org/x/sys/unix"

// The working directory: getcwd(2), chdir(2), fchdir(2).

// getcwd(2), chdir(2), fchdir(2): with a root, the working directory is a guest path.
func sysGetcwd(t *Thread) int64 {
	if t.p.fs == nil {
		return passthroughFast(t)
	}
	cwd := append([]byte(t.p.cwd()), 0)
	if uint64(len(cwd)) > t.arg(1) {
		return -int64(unix.ERANGE)
	}
	if e := copyOut(t.arg(0), cwd); e != 0 {
		return -int64(e)
	}
	return int64(len(cwd))
}

func sysChdir(t *Thread) int64 {
	if t.p.fs == nil {
		return passthrough(t)
	}
	guest, e := t.pathOf(unix.AT_FDCWD, t.arg(0))
	if e != 0 {
		return -int64(e)
	}
	fd, err := t.p.fs.Open(guest, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return -int64(errnoOf(err))
	}
	defer unix.Close(fd)
	// The host's working directory follows, for anything that still resolves there.
	if err := unix.Fchdir(fd); err != nil {
		return -int64(errnoOf(err))
	}
	// The working directory as Linux keeps it: where the path led, symlinks resolved.
	if canon, err := t.p.fs.FDPath(fd); err == nil {
		guest = canon
	}
	t.p.setCwd(guest)
	return 0
}

func sysFchdir(t *Thread) int64 {
	if t.p.fs == nil {
		return passthroughFast(t)
	}
	guest, err := t.p.fs.FDPath(int(int32(t.arg(0))))
	if err != nil {
		return -int64(unix.EBADF)
	}
	if r := passthroughFast(t); r < 0 {
		return r
	}
	t.p.setCwd(guest)
	return 0
}

func (p *Process) cwd() string {
	p.cwdMu.Lock()
	defer p.cwdMu.Unlock()
	return p.cwdPath
}

func (p *Process) setCwd(guest string) {
	p.cwdMu.Lock()
	p.cwdPath = guest
	p.cwdMu.Unlock()
}
