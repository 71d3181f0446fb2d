package kernel

import (
	"slices"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// Opening, closing and duplicating descriptors; those golos watches, and its own.

// openat(2) and open(2).
func sysOpenat(t *Thread) int64 {
	return t.openAt(0, 1, t.arg(2), t.arg(3))
}

func sysOpen(t *Thread) int64 {
	return t.openAt(-1, 0, t.arg(1), t.arg(2))
}

// creat(2) is open(2) with O_CREAT|O_WRONLY|O_TRUNC (without a root the host's creat
// takes the call as it is).
func sysCreat(t *Thread) int64 {
	return t.openAt(-1, 0, unix.O_CREAT|unix.O_WRONLY|unix.O_TRUNC, t.arg(1))
}

func (t *Thread) openAt(dirArg, pathArg int, flags, mode uint64) int64 {
	p, e := t.procPathArg(dirArg, pathArg)
	if e != 0 {
		return -int64(e)
	}
	if p != "" {
		if t.p.procOwnFD(p) {
			return -int64(unix.ENOENT) // golos's own descriptor: not open
		}
		if isProcSelf(p, "exe") {
			fd, err := t.p.opener(t.p.exeGuestPath)
			if err == nil && flags&unix.O_CLOEXEC == 0 {
				unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
			}
			if err != nil {
				return -int64(errnoOf(err))
			}
			return int64(fd)
		}
		if content, ok := t.procFile(p); ok {
			return t.p.virtualFile(content, int(flags))
		}
		if d := procDirOf(p); d != nil && (t.p.fs == nil || d.hide != hideNone) {
			// Watched: a path relative to it is looked at (procPathArg), its listing
			// is without golos's own descriptors or threads (sysGetdents64).
			r := passthrough(t)
			if r >= 0 {
				t.p.watchFD(int(r), d)
			}
			return r
		}
	}
	if t.p.fs == nil {
		return passthrough(t)
	}
	guest, e := t.pathArgs(dirArg, pathArg)
	if e != 0 {
		return -int64(e)
	}
	fd, err := t.p.fs.Open(guest, int(flags), uint32(mode))
	if err != nil {
		return -int64(errnoOf(err))
	}
	if d := procDirOf(p); d != nil {
		t.p.watchFD(fd, d)
	} else if flags&unix.O_PATH == 0 {
		t.p.watchDir(fd)
	}
	return int64(fd)
}

// close(2), dup2(2), dup3(2): golos's own descriptors (those of --root's mounts) are
// not there for the application.
func sysClose(t *Thread) int64 {
	fd := int(int32(t.arg(0)))
	if t.p.ownFD(fd) {
		return -int64(unix.EBADF)
	}
	t.p.unwatchFD(fd)
	return passthroughFast(t)
}

// close_range(2): the application's descriptors in [first, last] are closed (or marked
// close-on-exec with CLOSE_RANGE_CLOEXEC); golos's own in the range are skipped, as if
// they were not open. CLOSE_RANGE_UNSHARE would give the calling thread a table of its
// own, while golos's threads must share one: without it the range is closed for every
// thread of the process, which a single-threaded program cannot tell apart.
func sysCloseRange(t *Thread) int64 {
	first, last, flags := uint64(uint32(t.arg(0))), uint64(uint32(t.arg(1))), uint32(t.arg(2))
	if flags&^(unix.CLOSE_RANGE_UNSHARE|unix.CLOSE_RANGE_CLOEXEC) != 0 || first > last {
		return -int64(unix.EINVAL)
	}
	flags &^= unix.CLOSE_RANGE_UNSHARE
	own := slices.Sorted(slices.Values(t.p.ownFDs))
	lo := first
	for _, fd := range own {
		if fd := uint64(fd); fd >= lo && fd <= last {
			if fd > lo {
				if r := passthroughRaw(unix.SYS_CLOSE_RANGE, lo, fd-1, uint64(flags), 0, 0, 0); r < 0 {
					return r
				}
			}
			lo = fd + 1
		}
	}
	if lo <= last {
		if r := passthroughRaw(unix.SYS_CLOSE_RANGE, lo, last, uint64(flags), 0, 0, 0); r < 0 {
			return r
		}
	}
	if flags&unix.CLOSE_RANGE_CLOEXEC == 0 {
		var closed []int
		t.p.fdDirs.Range(func(k, _ any) bool {
			if fd := uint64(k.(int)); fd >= first && fd <= last {
				closed = append(closed, k.(int))
			}
			return true
		})
		for _, fd := range closed {
			t.p.unwatchFD(fd)
		}
	}
	return 0
}

// dup(2), fcntl(2) F_DUPFD and F_DUPFD_CLOEXEC, dup2(2), dup3(2): a copy of a watched
// descriptor is watched the same way (it shares the open file, and its position).
func sysDup(t *Thread) int64 {
	old := int(int32(t.arg(0)))
	if t.p.ownFD(old) {
		return -int64(unix.EBADF)
	}
	r := passthroughFast(t)
	t.p.copyWatch(old, r)
	return r
}

func sysFcntl(t *Thread) int64 {
	old := int(int32(t.arg(0)))
	if t.p.ownFD(old) {
		return -int64(unix.EBADF)
	}
	r := passthrough(t)
	if cmd := int(int32(t.arg(1))); cmd == unix.F_DUPFD || cmd == unix.F_DUPFD_CLOEXEC {
		t.p.copyWatch(old, r)
	}
	return r
}

func sysDup2(t *Thread) int64 {
	old, nfd := int(int32(t.arg(0))), int(int32(t.arg(1)))
	if t.p.ownFD(old) || t.p.ownFD(nfd) {
		return -int64(unix.EBADF)
	}
	if old == nfd {
		return passthroughFast(t) // dup2: nothing closed; dup3: EINVAL
	}
	w, watched := t.p.fdDirs.Load(old)
	r := passthroughFast(t)
	if r >= 0 {
		t.p.unwatchFD(nfd) // closed and replaced
		if watched {
			t.p.watchFD(nfd, w)
		}
	}
	return r
}

// copyWatch watches descriptor nfd (a result: nothing if negative) as old is watched.
func (p *Process) copyWatch(old int, nfd int64) {
	if nfd < 0 {
		return
	}
	if w, ok := p.fdDirs.Load(old); ok {
		p.watchFD(int(nfd), w)
	}
}

// watchFD makes fd one of the application's descriptors whose calls golos must see: a
// rewritten site then sends them to Go too (entry.GoFDs). w says why: true for a
// /proc/self/fd listing, a *dirWatch for a directory with virtual children, a *signalfd
// for a signalfd (signalfd.go).
func (p *Process) watchFD(fd int, w any) {
	if old, ok := p.fdDirs.Swap(fd, w); ok {
		if sfd, ok := old.(*signalfd); ok {
			p.dropSignalfdFD(sfd, fd)
		}
	}
	entry.GoFDs[fd&0xffff] = 1
	if sfd, ok := w.(*signalfd); ok {
		p.addSignalfdFD(sfd, fd)
	}
}

// unwatchFD forgets fd, which is being closed or replaced.
func (p *Process) unwatchFD(fd int) {
	w, ok := p.fdDirs.LoadAndDelete(fd)
	if !ok {
		return
	}
	if sfd, ok := w.(*signalfd); ok {
		p.dropSignalfdFD(sfd, fd)
	}
	p.releaseGoFD(fd)
}

// releaseGoFD clears fd's entry in entry.GoFDs, which golos no longer looks at, unless
// another of golos's or a watched descriptor has the same low 16 bits.
func (p *Process) releaseGoFD(fd int) {
	slot := fd & 0xffff
	still := false
	for _, o := range p.ownFDs {
		still = still || o&0xffff == slot
	}
	p.fdDirs.Range(func(k, _ any) bool {
		still = still || k.(int)&0xffff == slot
		return !still
	})
	if !still {
		entry.GoFDs[slot] = 0
	}
}

// ownFD reports whether fd is one of golos's own descriptors.
func (p *Process) ownFD(fd int) bool {
	for _, o := range p.ownFDs {
		if fd == o {
			return true
		}
	}
	return false
}
