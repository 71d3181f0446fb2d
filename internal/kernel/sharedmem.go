package kernel

import (
	"bytes"
	"fmt"

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// Shared memory without a path (a MAP_SHARED|MAP_ANONYMOUS mapping, a shared mapping of
// /dev/zero, a memfd's) must reach a fork's child, whose golos is a new process that maps
// the same file (fork.go). The only way to the file of a mapping whose descriptor is gone
// is /proc/self/map_files, which Linux opens only for a caller with
// CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN in the initial user namespace
// (fs/proc/base.c, proc_map_files_get_link): a fork of any other user's process
// (PostgreSQL's postmaster, as user postgres, for its main shared memory and every
// popen) failed with ENOMEM. So golos keeps a descriptor of such a file from the
// mapping's start: shared anonymous memory is made a memfd's, as Linux makes it a shmem
// file of its own (mm/shmem.c, shmem_zero_setup), and a shared mapping of a file with no
// path keeps a copy of the program's descriptor. A fork sends those; the child keeps them
// in turn, for its own forks.

// sharedFiles is golos's descriptors of the files behind the program's shared mappings
// without a path. addressSpace.mu guards it.
type sharedFiles struct {
	fds   map[[2]uint64]int // the file's (device, inode) → golos's own descriptor of it
	spans ranges            // where they are mapped, as last seen (a superset, after an mremap)
}

// sharedAnonName is the memfd's name, shown as /dev/zero's in the program's
// /proc/self/maps (procfs.go), as Linux names shared anonymous memory.
const sharedAnonName = "golos-shared-anon"

// mapsSharedAnon is how the host's /proc/self/maps shows such a memfd, and what Linux
// shows for shared anonymous memory (shmem_zero_setup: "dev/zero").
const (
	mapsSharedAnonHost  = "/memfd:" + sharedAnonName + " (deleted)"
	mapsSharedAnonLinux = "/dev/zero (deleted)"
)

// isDevZero reports whether fd is /dev/zero (major 1, minor 5: Documentation/admin-guide/devices.txt),
// a shared mapping of which is shared anonymous memory (drivers/char/mem.c, mmap_zero).
func isDevZero(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR &&
		unix.Major(st.Rdev) == 1 && unix.Minor(st.Rdev) == 5
}

// sharedAnonFile makes the file for a shared anonymous mapping of length bytes: a memfd
// of golos's own, above the program's descriptors. It returns -1 where it cannot (the
// caller then maps as asked, which a fork may not be able to give the child).
func sharedAnonFile(length uint64) int {
	size := pageUp(length)
	if length == 0 || size == 0 || size > userEnd {
		return -1 // the host's EINVAL or ENOMEM
	}
	fd, err := unix.MemfdCreate(sharedAnonName, unix.MFD_CLOEXEC)
	if err != nil {
		return -1
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return -1
	}
	hi, err := vfs.MoveHigh(fd)
	if err != nil {
		return -1
	}
	return hi
}

// chargeSharedAnon answers as Linux would whether a shared anonymous mapping of length
// bytes may be committed. Linux charges the whole of it when the mapping is made, unless
// MAP_NORESERVE exempts it where overcommit allows (mm/shmem.c, shmem_acct_size; the
// heuristic of vm.overcommit_memory=0 refuses one larger than RAM and swap:
// mm/util.c, __vm_enough_memory), while a memfd's pages are charged only as they are
// touched. So golos asks the host with a mapping of that kind that it unmaps at once: no
// page is touched, and the answer is the host's under every overcommit mode.
func chargeSharedAnon(length uint64, flags int) unix.Errno {
	r, e := rawMmap(0, length, unix.PROT_NONE,
		unix.MAP_SHARED|unix.MAP_ANONYMOUS|flags&unix.MAP_NORESERVE, -1, 0)
	if e != 0 {
		return e
	}
	unix.RawSyscall(unix.SYS_MUNMAP, uintptr(r), uintptr(length), 0)
	return 0
}

// holdShared keeps fd, golos's own descriptor of the file now mapped shared at
// [lo, hi), for the forks to come; a file already held keeps its first descriptor, and
// fd is closed. Caller holds p.mm.mu.
func (p *Process) holdShared(fd int, lo, hi uint64) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return
	}
	s := &p.mm.shared
	key := [2]uint64{st.Dev, st.Ino}
	if _, ok := s.fds[key]; ok {
		unix.Close(fd)
	} else {
		if s.fds == nil {
			s.fds = map[[2]uint64]int{}
		}
		s.fds[key] = fd
		p.files.own(fd)
	}
	s.spans.add(lo, hi)
}

// holdSharedCopy keeps a copy of the program's descriptor fd, now mapped shared at
// [lo, hi), when the child of a fork could not open the file again by its path
// (reopenable): a memfd, a deleted file. Caller holds p.mm.mu.
func (p *Process) holdSharedCopy(fd int, lo, hi uint64) {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		return // a device's memory: the child maps the device again, or not at all
	}
	if _, ok := p.mm.shared.fds[[2]uint64{st.Dev, st.Ino}]; ok {
		p.mm.shared.spans.add(lo, hi)
		return
	}
	path, err := vfs.HostFDPath(fd)
	if err == nil {
		m := forkMapping{Path: path, Dev: st.Dev, Ino: st.Ino}
		if m.reopenable() {
			return
		}
	}
	c, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, vfs.HighFD())
	if err != nil {
		return
	}
	p.holdShared(c, lo, hi)
}

// sharedFD is a new descriptor of the file of a shared mapping m held by golos, for a
// fork's child, or -1. Caller holds p.mm.mu.
func (p *Process) sharedFD(m forkMapping) int {
	fd, ok := p.mm.shared.fds[[2]uint64{m.Dev, m.Ino}]
	if !ok {
		return -1
	}
	c, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	return c
}

// releaseShared lets go of the files no longer mapped after [lo, hi) was unmapped or
// mapped over, read from the host's map: a file held past its last mapping would keep
// its memory. Caller holds p.mm.mu.
func (p *Process) releaseShared(lo, hi uint64) {
	s := &p.mm.shared
	if len(s.fds) == 0 || !s.spans.overlaps(lo, hi) {
		return
	}
	maps, _, err := readMaps()
	if err != nil {
		return
	}
	live := map[[2]uint64]bool{}
	s.spans = ranges{}
	for _, m := range maps {
		key := [2]uint64{m.Dev, m.Ino}
		if _, ok := s.fds[key]; ok && m.Shared && p.mm.owned.overlaps(m.Lo, m.Hi) {
			live[key] = true
			s.spans.add(m.Lo, m.Hi)
		}
	}
	for key, fd := range s.fds {
		if !live[key] {
			unix.Close(fd)
			p.dropOwnFD(fd)
			delete(s.fds, key)
		}
	}
}

// dropShared lets go of every file held, at an execve, which ends every mapping.
func (p *Process) dropShared() {
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	for key, fd := range p.mm.shared.fds {
		unix.Close(fd)
		p.dropOwnFD(fd)
		delete(p.mm.shared.fds, key)
	}
	p.mm.shared.spans = ranges{}
}

// holdForkShared keeps, in a fork's child, the descriptors of the shared mappings' files
// its parent sent (shared, by forkMapping.SharedFD), for the child's own forks.
func (p *Process) holdForkShared(maps []forkMapping, shared []int) error {
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	kept := make([]bool, len(shared))
	for _, m := range maps {
		if m.SharedFD <= 0 {
			continue
		}
		i := m.SharedFD - 1
		if kept[i] {
			p.mm.shared.spans.add(m.Lo, m.Hi)
			continue
		}
		fd, err := vfs.MoveHigh(shared[i])
		kept[i] = true
		if err != nil {
			return fmt.Errorf("keep the file of the shared memory at %#x: %w", m.Lo, err)
		}
		p.holdShared(fd, m.Lo, m.Hi)
	}
	for i, fd := range shared {
		if !kept[i] {
			unix.Close(fd)
		}
	}
	return nil
}

// linuxSharedAnon names golos's memfds for shared anonymous memory in the host's maps or
// smaps text raw as Linux names that memory.
func linuxSharedAnon(raw []byte) []byte {
	return bytes.ReplaceAll(raw, []byte(mapsSharedAnonHost), []byte(mapsSharedAnonLinux))
}
