package kernel

import (
	"errors"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
	"golos/internal/vfs"
)

// Opening, closing and duplicating descriptors; those golos watches, and its own.

// fileTable is what golos keeps about the process's descriptor table, which clone(2)
// shares with CLONE_FILES: the table itself is the host's (golos's threads share one),
// so this is golos's own part of it. It owns entry.GoFDs, the entry code's copy of which
// descriptors are golos's or watched (markGoFD, releaseGoFD are its only writers).
type fileTable struct {
	ownFDs []int    // golos's own descriptors (the runtime's poller's, the root's, /proc/self/mem's…)
	fdDirs sync.Map // watched descriptors: *procDir, *dirWatch (sysGetdents64), *signalfd (sysRead)
}

// own makes fds golos's own: kept from the application, and its calls on them go to Go.
func (f *fileTable) own(fds ...int) {
	f.ownFDs = append(f.ownFDs, fds...)
	for _, fd := range fds {
		entry.GoFDs[fd&0xffff] = 1
		entry.OwnFDs[fd&0xffff] = 1
	}
	f.setSelectSlack()
}

// setSelectSlack tells the entry code the lowest of golos's own descriptors, for select
// (entry.SelectSlack).
func (f *fileTable) setSelectSlack() {
	low := 0xffff
	for _, fd := range f.ownFDs {
		low = min(low, fd)
	}
	entry.SelectSlack = uint64(0xffff - max(low, 0))
}

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
	p, raw, e := t.procPathArgRaw(dirArg, pathArg)
	if e != 0 {
		return -int64(e)
	}
	if p != "" {
		if t.p.procHidden(p) {
			return -int64(unix.ENOENT) // golos's own descriptor or thread: not there
		}
		if isProcSelf(p, "exe") {
			fd, err := t.p.opener(t.p.mm.exeGuestPath)
			if err == nil && flags&unix.O_CLOEXEC == 0 {
				unix.FcntlInt(uintptr(fd), unix.F_SETFD, 0)
			}
			if err != nil {
				return -int64(errnoOf(err))
			}
			return int64(fd)
		}
		if ps := t.p.procSnapshotFD(p); ps != nil {
			// /proc/self/fd/N of one of those opens the /proc file anew (proc(5)), not
			// its memfd, which would open for writing.
			p = ps.path
		}
		if content, ok := t.procFile(p); ok {
			r := t.p.virtualFile(content, int(flags))
			if r >= 0 {
				t.p.watchFD(int(r), t.newProcSnapshot(p)) // its text made again at a read from the start (procvm.go)
			}
			return r
		}
		if isProcSelf(p, "mem") {
			// The kernel reaches memory through the file as a debugger does
			// (access_remote_vm), which a userfaultfd does not serve (EIO for a page
			// a lazy fork's child has not fetched): the child fetches it all first.
			t.p.finishLazy()
			r := openProcPath(p, flags, mode)
			if r >= 0 {
				t.p.watchFD(int(r), &procMem{}) // procmem.go
			}
			return r
		}
		if d := procDirOf(p); d != nil && (t.p.fsctx.root == nil || d.hide != hideNone) {
			// Watched: a path relative to it is looked at (procPathArgRaw), its listing
			// is without golos's own descriptors or threads (sysGetdents64).
			r := openProcPath(p, flags, mode)
			if r >= 0 {
				t.p.watchFD(int(r), d)
			}
			return r
		}
	}
	// The path golos looked at, never the program's read again (passthroughPath).
	if t.p.fsctx.root == nil {
		return t.passthroughPath(pathArg, raw)
	}
	dirfd := int32(unix.AT_FDCWD)
	if dirArg >= 0 {
		dirfd = int32(t.arg(dirArg))
	}
	guest, e := t.pathOfString(dirfd, raw)
	if e != 0 {
		return -int64(e)
	}
	fd, err := t.p.fsctx.root.Open(guest, int(flags), uint32(mode))
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

// openProcPath opens p, the cleaned path under /proc that golos looked at, on the host:
// that path, not the program's, which another of its threads may change between golos's
// look and the host's (a path swapped for a host file outside the root, or for
// /proc/self/fd/N of golos's own descriptor, was opened as it was then).
func openProcPath(p string, flags, mode uint64) int64 {
	fd, err := unix.Open(p, int(flags), uint32(mode))
	if err != nil {
		return -int64(errnoOf(err))
	}
	return int64(fd)
}

// close(2), dup2(2), dup3(2): golos's own descriptors (those of --root's mounts) are
// not there for the application.
func sysClose(t *Thread) int64 {
	fd := int(int32(t.arg(0)))
	defer t.p.lockLow()()
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
	defer t.p.lockLow()()
	own := slices.Sorted(slices.Values(append(slices.Clone(t.p.files.ownFDs), vfs.TempFDs()...)))
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
		t.p.files.fdDirs.Range(func(k, _ any) bool {
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
	// F_DUPFD_QUERY's second descriptor (an unsigned int to the kernel: fs/fcntl.c,
	// f_dupfd_query) is not open for the program when it is golos's.
	if int(int32(t.arg(1))) == unix.F_DUPFD_QUERY && t.p.ownFD(int(uint32(t.arg(2)))) {
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
	defer t.p.lockLow()()
	if t.p.ownFD(old) || t.p.ownFD(nfd) {
		return -int64(unix.EBADF)
	}
	if old == nfd {
		return passthroughFast(t) // dup2: nothing closed; dup3: EINVAL
	}
	w, watched := t.p.files.fdDirs.Load(old)
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
	if w, ok := p.files.fdDirs.Load(old); ok {
		p.watchFD(int(nfd), w)
	}
}

// watchFD makes fd one of the application's descriptors whose calls golos must see: a
// rewritten site then sends them to Go too (entry.GoFDs). w says why: true for a
// /proc/self/fd listing, a *dirWatch for a directory with virtual children, a *signalfd
// for a signalfd (signalfd.go), a *procSnapshot for a /proc file of golos's making
// (procvm.go), a *procMem for /proc/self/mem (procmem.go).
func (p *Process) watchFD(fd int, w any) {
	if old, ok := p.files.fdDirs.Swap(fd, w); ok {
		if sfd, ok := old.(*signalfd); ok {
			p.dropSignalfdFD(sfd, fd)
		}
	}
	entry.GoFDs[fd&0xffff] = 1
	if sfd, ok := w.(*signalfd); ok {
		p.addSignalfdFD(sfd, fd)
	}
}

// watchedArg is the descriptor in the first argument, and what golos watches it as when
// that is a *W (nil otherwise). entry.GoFDs answers first for the descriptors golos does
// not watch at all, without a look into fdDirs.
func watchedArg[W any](t *Thread) (*W, int) {
	fd := int(int32(t.arg(0)))
	if entry.GoFDs[fd&0xffff] == 0 {
		return nil, fd
	}
	v, _ := t.p.files.fdDirs.Load(fd)
	w, _ := v.(*W)
	return w, fd
}

// unwatchFD forgets fd, which is being closed or replaced.
func (p *Process) unwatchFD(fd int) {
	w, ok := p.files.fdDirs.LoadAndDelete(fd)
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
	for _, o := range p.files.ownFDs {
		still = still || o&0xffff == slot
	}
	p.files.fdDirs.Range(func(k, _ any) bool {
		still = still || k.(int)&0xffff == slot
		return !still
	})
	if !still {
		entry.GoFDs[slot] = 0
	}
}

// ownFDsNow is golos's own descriptors at this moment: the lasting ones (files.ownFDs),
// and those it opens for a moment (a fork's socket to the child's golos, its start-up
// log, its copies of the program's descriptors: vfs.HighOwn; the Go runtime's ForkExec
// pipe: forkPipeFDs), which another process's listing of this one's fd directory may
// meet too.
func (p *Process) ownFDsNow() []int {
	own := slices.Clone(p.files.ownFDs)
	for _, fd := range append(append(vfs.HighOwn(), forkPipeFDs()...), vfs.TempFDs()...) {
		if !slices.Contains(own, fd) {
			own = append(own, fd)
		}
	}
	return own
}

// ownFD reports whether fd is one of golos's own descriptors, a lasting one or one a
// path lookup holds for a moment (vfs.IsTemp).
func (p *Process) ownFD(fd int) bool {
	for _, o := range p.files.ownFDs {
		if fd == o {
			return true
		}
	}
	return vfs.IsTemp(fd)
}

// markTemp marks a temporary descriptor of a path lookup as one of golos's own for the
// entry code while it is held (vfs.Hook): a rewritten site's call on it goes to Go, which
// answers EBADF (ownFD). The number was free when the lookup took it, so nothing of the
// program's is marked there.
func markTemp(fd int, held bool) {
	var b uint8
	if held {
		b = 1
	}
	entry.OwnFDs[fd&0xffff] = b
	entry.GoFDs[fd&0xffff] = b
}

// lockLow, in a root, waits until no path lookup holds a descriptor at the program's
// numbers, and keeps new ones from starting until unlock (vfs.LockLow): for the
// program's calls that close or replace descriptors, which would otherwise reach the
// lookup's, and the listings of its own.
func (p *Process) lockLow() (unlock func()) {
	if p.fsctx.root == nil {
		return func() {}
	}
	return vfs.LockLow()
}

// ownFDArg reports whether one of the arguments in args, each a descriptor, is one of
// golos's own: sendfile(2)'s in_fd, splice(2)'s and copy_file_range(2)'s fd_out, tee(2)'s
// fd_out, epoll_ctl(2)'s fd. Through them a program would read, write or watch golos's
// descriptors (its standard error's copy, its sockets to the other golos processes of
// the tree) where Linux answers EBADF for a descriptor that is not open.
func (t *Thread) ownFDArg(args argMask) bool {
	for i := range 6 {
		if args&(1<<i) != 0 && t.p.ownFD(int(int32(t.arg(i)))) {
			return true
		}
	}
	return false
}

// openat2(2)'s struct open_how, and the flags Linux's build_open_flags (fs/open.c) accepts
// in it (include/linux/fcntl.h VALID_OPEN_FLAGS, VALID_RESOLVE_FLAGS; O_PATH_FLAGS).
const (
	validOpenFlags   = 0o37777703
	validResolve     = 0x3f // RESOLVE_NO_XDEV … RESOLVE_CACHED
	resolveCached    = 0x20
	openPathFlags    = unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_PATH | unix.O_CLOEXEC
	openTmpfileFlags = unix.O_TMPFILE &^ unix.O_DIRECTORY // __O_TMPFILE
)

// openat2(2): openat(2) with its flags, mode and RESOLVE_ flags in a struct open_how of
// the caller's size. The checks are Linux's, in its order (fs/open.c: openat2, then
// build_open_flags), made here so that an open of a /proc file golos answers itself is
// refused as on Linux too. Without a root the host's openat2 resolves the path (through
// openAt, which answers for /proc); in a root, the RESOLVE_ flags are the kernel's too:
// RESOLVE_BENEATH and RESOLVE_IN_ROOT keep the path beneath the directory descriptor (or
// the working directory), which lies in the root, so the host's openat2 takes the call as
// it is; the other flags are added to those that confine the path to the root
// (vfs.OpenResolve). In a root with volumes only the first way is open: the others are
// refused with ENOSYS (which openat2's callers take for "use openat"), and named once.
func sysOpenat2(t *Thread) int64 {
	howAddr, size := t.arg(2), t.arg(3)
	if size < abi.OpenHowSizeVer0 {
		return -int64(unix.EINVAL)
	}
	if size > pageSize {
		return -int64(unix.E2BIG)
	}
	// copy_struct_from_user: bytes past what golos knows must be zero (E2BIG).
	var how abi.OpenHow
	if e := abi.CopyStructIn(entry.CopyIn, abi.Bytes(&how), howAddr, size); e != 0 {
		return -int64(e)
	}
	flags, mode, resolve := how.Flags, how.Mode, how.Resolve
	switch {
	case flags&^validOpenFlags != 0, resolve&^validResolve != 0,
		resolve&unix.RESOLVE_BENEATH != 0 && resolve&unix.RESOLVE_IN_ROOT != 0:
		return -int64(unix.EINVAL)
	case flags&(unix.O_CREAT|openTmpfileFlags) != 0 && mode&^0o7777 != 0,
		flags&(unix.O_CREAT|openTmpfileFlags) == 0 && mode != 0:
		return -int64(unix.EINVAL)
	case flags&openTmpfileFlags != 0 && (flags&unix.O_TMPFILE != unix.O_TMPFILE || flags&(unix.O_WRONLY|unix.O_RDWR) == 0):
		return -int64(unix.EINVAL)
	case flags&openTmpfileFlags == 0 && flags&unix.O_PATH != 0 && flags&^openPathFlags != 0:
		return -int64(unix.EINVAL)
	case resolve&resolveCached != 0 && flags&(unix.O_TRUNC|unix.O_CREAT|openTmpfileFlags) != 0:
		return -int64(unix.EAGAIN) // never attempted from the cache alone
	}
	if t.p.fsctx.root == nil || resolve == 0 {
		return t.openAt(0, 1, flags, mode)
	}
	if resolve&(unix.RESOLVE_BENEATH|unix.RESOLVE_IN_ROOT) != 0 {
		if t.p.opts.RootReadOnly && flags&(unix.O_WRONLY|unix.O_RDWR|unix.O_CREAT|unix.O_TRUNC|unix.O_APPEND|openTmpfileFlags) != 0 {
			return -int64(unix.EROFS)
		}
		if !t.p.fsctx.root.HasVolumes() {
			// With golos's copy of the struct open_how, whose RESOLVE_ flags another of
			// the program's threads could clear once golos has looked.
			howCopy := heapBytes(len(abi.Bytes(&how)))
			copy(howCopy, abi.Bytes(&how))
			args := t.args()
			args[3] = uint64(len(howCopy))
			r := callWithBytes(t, args, 2, howCopy, true)
			if r >= 0 && flags&unix.O_PATH == 0 {
				t.p.watchDir(int(r))
			}
			return r
		}
	}
	guest, e := t.pathArgs(0, 1)
	if e != 0 {
		return -int64(e)
	}
	fd, err := t.p.fsctx.root.OpenResolve(guest, int(flags), uint32(mode), resolve)
	if errors.Is(err, vfs.ErrVolumes) {
		t.p.unsupported("openat2 with RESOLVE_ flags in a root with volumes", "golos resolves paths across its volumes itself (ENOSYS: use openat)")
		return -int64(unix.ENOSYS)
	}
	if err != nil {
		return -int64(errnoOf(err))
	}
	if flags&unix.O_PATH == 0 {
		t.p.watchDir(fd)
	}
	return int64(fd)
}

// stdClosedAtStart has bit n set when golos was started without descriptor n (0, 1 or
// 2), where the Go runtime has opened /dev/null since (StdClosedAtStart).
var stdClosedAtStart uint8

// StdClosedAtStart records which of descriptors 0, 1 and 2 golos was started without,
// as its entry point found them (cmd/golos/prestart_amd64.s): the Go runtime opens
// /dev/null in their place before golos's code runs (runtime/fds_unix.go, checkfds),
// and the program must find them closed, as a program started so natively does (its
// first open(2) takes the lowest free number; a forked child of a program that closed
// its stdout has none either).
func StdClosedAtStart(mask uint8) {
	stdClosedAtStart = mask
}

// closeStdClosedAtStart closes again the standard descriptors golos was started without,
// just before the program runs.
func closeStdClosedAtStart() {
	for fd := range 3 {
		if stdClosedAtStart&(1<<fd) != 0 {
			unix.Close(fd)
		}
	}
}
