package kernel

import (
	"sync"

	"golang.org/x/sys/unix"
)

// addressSpace tracks which memory belongs to the application. golos's own mappings (the
// Go heap, stacks, golos's text) share the address space; the application may map, unmap,
// protect and advise only its own memory and free space, never golos's.
type addressSpace struct {
	mu    sync.Mutex
	owned ranges

	brkStart, brkCur, brkMapped uint64
}

const pageSize = 4096

func pageUp(x uint64) uint64 { return (x + pageSize - 1) &^ (pageSize - 1) }

// userEnd is the end of the x86-64 user address space (TASK_SIZE_MAX).
const userEnd = 0x7ffffffff000

// checkRange validates an application range [addr, addr+length) as Linux's mm calls do:
// page-aligned start, non-zero length, no wrap-around, inside the user address space.
func checkRange(addr, length uint64) (hi uint64, e unix.Errno) {
	if addr%pageSize != 0 || length == 0 {
		return 0, unix.EINVAL
	}
	hi = pageUp(addr + length)
	if hi < addr || hi > userEnd || length > userEnd {
		return 0, unix.EINVAL
	}
	return hi, 0
}

func (m *addressSpace) initBrk(start uint64) {
	m.brkStart, m.brkCur, m.brkMapped = start, start, pageUp(start)
}

// brk(2): the break moves within [brkStart, …) as long as the pages it needs are free;
// otherwise it stays where it was, which is how Linux reports failure.
func sysBrk(t *Thread) int64 {
	m := &t.p.mm
	want := t.arg(0)
	m.mu.Lock()
	defer m.mu.Unlock()
	if want < m.brkStart || want > userEnd {
		return int64(m.brkCur)
	}
	need := pageUp(want)
	switch {
	case need > m.brkMapped:
		_, e := rawMmap(m.brkMapped, need-m.brkMapped, unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE, -1, 0)
		if e != 0 {
			return int64(m.brkCur)
		}
		m.owned.add(m.brkMapped, need)
	case need < m.brkMapped:
		unix.RawSyscall(unix.SYS_MUNMAP, uintptr(need), uintptr(m.brkMapped-need), 0)
		m.owned.remove(need, m.brkMapped)
	}
	m.brkMapped = need
	m.brkCur = want
	return int64(want)
}

// mmap(2). A mapping at a place the host picks cannot hit golos's memory; one at a fixed
// address may only replace the application's own memory or fill free space.
func sysMmap(t *Thread) int64 {
	addr, length, prot, flags, fd, off := t.arg(0), t.arg(1), t.arg(2), t.arg(3), t.arg(4), t.arg(5)
	m := &t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	if flags&unix.MAP_FIXED != 0 {
		hi, e := checkRange(addr, length)
		if e != 0 {
			return -int64(e)
		}
		if e := m.claimFree(addr, hi); e != 0 {
			return -int64(e)
		}
	}
	r, e := rawMmap(addr, length, int(prot), int(flags), int(fd), off)
	if e != 0 {
		return -int64(e)
	}
	m.owned.add(r, pageUp(r+length))
	return int64(r)
}

// claimFree makes sure that every page of [lo, hi) is the application's or free, and
// reserves the free ones (so that no thread of golos's takes them before the caller maps
// over them). It fails with ENOMEM, leaving nothing reserved, if golos uses any of them.
func (m *addressSpace) claimFree(lo, hi uint64) unix.Errno {
	gaps := m.owned.gaps(lo, hi)
	for i, g := range gaps {
		_, e := rawMmap(g[0], g[1]-g[0], unix.PROT_NONE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE|unix.MAP_FIXED_NOREPLACE, -1, 0)
		if e != 0 {
			for _, u := range gaps[:i] {
				unix.RawSyscall(unix.SYS_MUNMAP, uintptr(u[0]), uintptr(u[1]-u[0]), 0)
			}
			return unix.ENOMEM
		}
	}
	for _, g := range gaps {
		m.owned.add(g[0], g[1])
	}
	return 0
}

// munmap(2): only the application's own pages are unmapped; unmapping free space is not
// an error on Linux, and golos's pages are, to the application, free space it cannot see.
func sysMunmap(t *Thread) int64 {
	addr, length := t.arg(0), t.arg(1)
	hi, e := checkRange(addr, length)
	if e != 0 {
		return -int64(e)
	}
	m := &t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.owned.intersect(addr, hi) {
		if _, _, e := unix.RawSyscall(unix.SYS_MUNMAP, uintptr(r[0]), uintptr(r[1]-r[0]), 0); e != 0 {
			return -int64(e)
		}
	}
	m.owned.remove(addr, hi)
	return 0
}

// mprotect(2): ENOMEM, as for unmapped pages, when the range is not all the application's.
func sysMprotect(t *Thread) int64 {
	addr, length, prot := t.arg(0), t.arg(1), t.arg(2)
	if length == 0 && addr%pageSize == 0 {
		return 0
	}
	hi, e := checkRange(addr, length)
	if e != 0 {
		return -int64(e)
	}
	m := &t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.owned.contains(addr, hi) {
		return -int64(unix.ENOMEM)
	}
	return passthroughRaw(unix.SYS_MPROTECT, addr, length, prot, 0, 0, 0)
}

// madvise(2): advice reaches only the application's pages (MADV_DONTNEED on golos's heap
// would zero it); a range that is not all the application's gets ENOMEM, as a range with
// unmapped pages does on Linux, after the advice was applied to the rest.
func sysMadvise(t *Thread) int64 {
	addr, length, advice := t.arg(0), t.arg(1), t.arg(2)
	if length == 0 && addr%pageSize == 0 {
		return 0
	}
	hi, e := checkRange(addr, length)
	if e != 0 {
		return -int64(e)
	}
	m := &t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.owned.intersect(addr, hi) {
		if ret := passthroughRaw(unix.SYS_MADVISE, r[0], r[1]-r[0], advice, 0, 0, 0); ret < 0 {
			return ret
		}
	}
	if !m.owned.contains(addr, hi) {
		return -int64(unix.ENOMEM)
	}
	return 0
}

// mremap(2): the old range must be the application's; a fixed new place follows mmap's
// MAP_FIXED rule. Without a fixed place the host only grows into or moves to free space.
func sysMremap(t *Thread) int64 {
	old, oldLen, newLen, flags, newAddr := t.arg(0), t.arg(1), t.arg(2), t.arg(3), t.arg(4)
	if old%pageSize != 0 {
		return -int64(unix.EINVAL)
	}
	m := &t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.owned.contains(old, pageUp(old+max(oldLen, 1))) {
		return -int64(unix.EFAULT)
	}
	if flags&unix.MREMAP_FIXED != 0 {
		hi, e := checkRange(newAddr, newLen)
		if e != 0 {
			return -int64(e)
		}
		if e := m.claimFree(newAddr, hi); e != 0 {
			return -int64(e)
		}
	}
	r := passthroughRaw(unix.SYS_MREMAP, old, oldLen, newLen, flags, newAddr, 0)
	if r < 0 {
		return r
	}
	if flags&unix.MREMAP_DONTUNMAP == 0 {
		m.owned.remove(old, pageUp(old+oldLen))
	}
	m.owned.add(uint64(r), pageUp(uint64(r)+newLen))
	return r
}

func rawMmap(addr, length uint64, prot, flags, fd int, off uint64) (uint64, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_MMAP, uintptr(addr), uintptr(length), uintptr(prot),
		uintptr(flags), uintptr(fd), uintptr(off))
	return uint64(r), e
}
