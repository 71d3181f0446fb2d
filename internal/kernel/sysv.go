package kernel

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// System V shared memory: shmget(2) and shmctl(2) are the host's (the program shares the
// host's IPC namespace, as a container without one of its own does); shmat(2) and
// shmdt(2) map and unmap memory, so golos places the segment in the program's area and
// keeps its address-space bookkeeping, as mmap(2) and munmap(2) do. golos itself never
// attaches a segment, so every SysV mapping in the process is the program's.

// shmLBA is SHMLBA on x86-64: the page size (arch/x86/include/asm/shmparam.h).
const shmLBA = pageSize

// shmat(2)'s flags that golang.org/x/sys does not name (include/uapi/linux/shm.h).
const (
	shmRemap = 0o40000  // SHM_REMAP: take over the range
	shmExec  = 0o100000 // SHM_EXEC: executable
)

// shmat(2), following ipc/shm.c's do_shmat: the address checks first (EINVAL), then the
// segment (the host's errors), then the place. Without an address the segment goes where
// place finds room, as Linux's get_unmapped_area would put it; at a given address without
// SHM_REMAP it may not overlap any mapping (EINVAL: find_vma_intersection), and with
// SHM_REMAP it replaces only the program's own memory: golos's, which is free space to
// the program, cannot be replaced, and the call fails with EINVAL as if the address were
// unusable.
func sysShmat(t *Thread) int64 {
	id, addr, flg := int(int32(t.arg(0))), t.arg(1), int(t.arg(2))
	if id < 0 {
		return -int64(unix.EINVAL)
	}
	at := addr
	if at != 0 {
		if at%shmLBA != 0 {
			if flg&unix.SHM_RND == 0 {
				return -int64(unix.EINVAL)
			}
			at &^= shmLBA - 1
			if at == 0 && flg&shmRemap != 0 {
				return -int64(unix.EINVAL)
			}
		}
	} else if flg&shmRemap != 0 {
		return -int64(unix.EINVAL)
	}
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		// No such segment, or no permission to read it: shmat fails the same way (it
		// needs read permission too), and the host says how.
		return m.shmatHost(id, addr, flg)
	}
	size := pageUp(ds.Segsz)
	if size == 0 || t.p.overLimit(size, 0) {
		return -int64(unix.ENOMEM)
	}
	switch {
	case addr != 0 && (at < mmapMinAddr || at > userEnd-size):
		// An address below vm.mmap_min_addr (a rounded-down 0 too), or past the user
		// address space: golos has nothing there, and the host refuses it as it would
		// natively (security_mmap_addr, TASK_SIZE).
		return m.shmatHost(id, addr, flg)
	case addr != 0 && flg&shmRemap == 0:
		return m.shmatHost(id, addr, flg)
	case addr != 0:
		gaps := m.owned.gaps(at, at+size)
		if m.claimFree(at, at+size) != 0 {
			return -int64(unix.EINVAL)
		}
		r := m.shmatHost(id, addr, flg)
		if r < 0 {
			for _, g := range gaps {
				unix.RawSyscall(unix.SYS_MUNMAP, uintptr(g[0]), uintptr(g[1]-g[0]), 0)
				m.owned.remove(g[0], g[1])
			}
		}
		return r
	}
	for try := 0; try < 3; try++ {
		place, ok := m.place(size, false)
		if !ok {
			break
		}
		r := m.shmatHost(id, place, flg)
		if r != -int64(unix.EINVAL) {
			return r
		}
		// The segment exists, so EINVAL means the place overlaps a mapping: golos's own
		// memory is there.
		m.learnForeign()
		if !m.foreign.overlaps(place, place+size) {
			return r
		}
	}
	return m.shmatHost(id, 0, flg) // no room in the area: the host's place
}

// shmatHost makes shmat(2) on the host and records the mapping it made as the program's
// (shared memory, not data). Caller holds m.mu.
func (m *addressSpace) shmatHost(id int, addr uint64, flg int) int64 {
	r := passthroughRaw(unix.SYS_SHMAT, uint64(id), addr, uint64(flg), 0, 0, 0)
	if r < 0 {
		return r
	}
	lo := uint64(r)
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
		// Not while it is attached (a removed segment stays until detached); should it
		// fail, the extent of the mapping is the host's.
		ds.Segsz = pageSize
		if maps, _, err := readMaps(); err == nil {
			for _, e := range maps {
				if e.Lo == lo {
					ds.Segsz = e.Hi - e.Lo
				}
			}
		}
	}
	hi := lo + pageUp(ds.Segsz)
	m.owned.add(lo, hi)
	m.notePeak()
	m.data.remove(lo, hi)
	return r
}

// shmdt(2): the host detaches the segment attached at addr (ipc/shm.c, do_shmdt: every
// mapping of it from addr on, within its size); golos forgets the SysV mappings that are
// gone. Only the program's memory can be SysV shared memory.
func sysShmdt(t *Thread) int64 {
	addr := t.arg(0)
	if addr%pageSize != 0 {
		return -int64(unix.EINVAL)
	}
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	before, _, err := readMaps()
	if err != nil {
		return -int64(unix.ENOMEM)
	}
	r := passthroughRaw(unix.SYS_SHMDT, addr, 0, 0, 0, 0, 0)
	if r < 0 {
		return r
	}
	after, _, err := readMaps()
	if err != nil {
		return r
	}
	left := map[[3]uint64]bool{}
	for _, e := range after {
		if sysvMapping(e) {
			left[[3]uint64{e.Lo, e.Hi, e.Ino}] = true
		}
	}
	for _, e := range before {
		if sysvMapping(e) && e.Lo >= addr && !left[[3]uint64{e.Lo, e.Hi, e.Ino}] {
			m.owned.remove(e.Lo, e.Hi)
			m.data.remove(e.Lo, e.Hi)
			t.p.mm.rw.removeCode(e.Lo, e.Hi)
		}
	}
	return r
}

// sysvMapping reports whether m, a line of /proc/self/maps, is a System V shared memory
// segment: its file is named "SYSV" and the key in 8 hex digits, and is always deleted
// (ipc/shm.c, newseg); its inode number is the segment's id.
func sysvMapping(m forkMapping) bool {
	name, ok := strings.CutPrefix(m.Path, "/SYSV")
	if !ok || !m.Shared {
		return false
	}
	key, ok := strings.CutSuffix(name, " (deleted)")
	if !ok || len(key) != 8 {
		return false
	}
	_, err := strconv.ParseUint(key, 16, 32)
	return err == nil
}

// attachSysV makes a fork child's copy of the SysV mapping m: the child attaches the
// segment again (so shmctl's shm_nattch counts it, as Linux's fork does through the
// mapping's open, ipc/shm.c shm_open), anywhere first, then moves the part m covers to m's
// place and detaches the rest. Linux lets a process attach a segment already marked for
// removal (shmctl(2), IPC_RMID), so one removed while attached is given to the child too.
func attachSysV(m forkMapping) error {
	flg := 0
	if m.Prot&unix.PROT_WRITE == 0 {
		flg |= unix.SHM_RDONLY
	}
	if m.Prot&unix.PROT_EXEC != 0 {
		flg |= shmExec
	}
	length := m.Hi - m.Lo
	// The place must be free in the child, as mapRegions' MAP_FIXED_NOREPLACE checks.
	if _, e := rawMmap(m.Lo, length, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE|unix.MAP_FIXED_NOREPLACE, -1, 0); e != 0 {
		if e == unix.EEXIST {
			return fmt.Errorf(placeTaken+"map %#x-%#x (%s) in the child: %w", m.Lo, m.Hi, m.Path, e)
		}
		return fmt.Errorf("map %#x-%#x (%s) in the child: %w", m.Lo, m.Hi, m.Path, e)
	}
	fail := func(what string, e error) error {
		unix.RawSyscall(unix.SYS_MUNMAP, uintptr(m.Lo), uintptr(length), 0)
		return fmt.Errorf("attach System V shared memory %d at %#x-%#x in the child: %s: %w", m.Ino, m.Lo, m.Hi, what, e)
	}
	base, _, e := unix.RawSyscall(unix.SYS_SHMAT, uintptr(m.Ino), 0, uintptr(flg))
	if e != 0 {
		return fail("shmat", e)
	}
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(int(m.Ino), unix.IPC_STAT, &ds); err != nil {
		unix.RawSyscall(unix.SYS_SHMDT, base, 0, 0)
		return fail("shmctl", err)
	}
	size := uintptr(pageUp(ds.Segsz))
	if m.Offset+length > uint64(size) {
		unix.RawSyscall(unix.SYS_SHMDT, base, 0, 0)
		return fail("its size", unix.EINVAL)
	}
	part := base + uintptr(m.Offset)
	if _, _, e := unix.RawSyscall6(unix.SYS_MREMAP, part, uintptr(length), uintptr(length),
		unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, uintptr(m.Lo), 0); e != 0 {
		unix.RawSyscall(unix.SYS_SHMDT, base, 0, 0)
		return fail("mremap", e)
	}
	// What is left of the first attach, before and after the part moved.
	if m.Offset > 0 {
		unix.RawSyscall(unix.SYS_MUNMAP, base, uintptr(m.Offset), 0)
	}
	if end := part + uintptr(length); end < base+size {
		unix.RawSyscall(unix.SYS_MUNMAP, end, base+size-end, 0)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_MPROTECT, uintptr(m.Lo), uintptr(length), uintptr(m.Prot)); e != 0 {
		return fmt.Errorf("protect %#x-%#x in the child: %w", m.Lo, m.Hi, e)
	}
	return nil
}
