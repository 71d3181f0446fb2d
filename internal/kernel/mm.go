package kernel

import (
	"sort"

	"golang.org/x/sys/unix"

	"golos/internal/loader"
)

// addressSpace tracks which memory belongs to the application. golos's own mappings (the
// Go heap, stacks, golos's text) share the address space; the application may map, unmap,
// protect and advise only its own memory and free space, never golos's. It is what
// clone(2) shares with CLONE_VM (Linux's mm_struct). mu guards the mappings' bookkeeping
// and the break; rw and the vDSO's parts have their own locks.
type addressSpace struct {
	mu    mutex[mmLock]
	owned ranges
	// data is the program's private writable memory (its break too), which RLIMIT_DATA
	// counts (Linux's data_vm: writable, not shared, not stack); kept as mappings are
	// made and unmapped, not as mprotect changes them.
	data ranges
	// area is where the program's mappings go when it names no address (place): apart
	// from golos's own memory (loader.Area); nil leaves the place to the host. foreign is
	// golos's memory found inside it (by a mapping that found its place taken).
	area    *loader.Area
	foreign ranges

	brkStart, brkCur, brkMapped uint64

	rw      rewriter // syscall sites rewritten to enter golos directly (rw.mu)
	vdsoMu  mutex[vdsoLock]
	vdso    []forkMapping // the vDSO's parts (vdsoParts); vdsoMu
	pagemap int           // /proc/self/pagemap, open from the start (fork.go), or -1

	// What Linux keeps in mm_struct about the program the memory holds (exe_file,
	// arg_start…, saved_auxv, start_stack); set at load and by execve.
	exePath      string    // the program on the host (what opening /proc/self/exe opens)
	exeGuestPath string    // the program as the application names it (/proc/self/exe)
	args, env    [2]uint64 // where the argument and environment strings are (loader.Stack)
	auxv         []byte
	// stack is the room below the main stack's top that it may grow down into
	// (loader.Stack.Zone): no mapping that names no address goes there. The stack grows
	// on the host, unseen (syncStack).
	stack      [2]uint64
	startStack uint64 // the stack pointer the program started with (mm->start_stack)
	layout     loader.Layout
	// peak is the most of owned there has been since the program was loaded or forked
	// (Linux's hiwater_vm, status's VmPeak, without the kernel's shared pages): golos's
	// own reservations make the host's meaningless for the program (notePeak).
	peak uint64

	// forkAdvised: the program gave MADV_DONTFORK or MADV_WIPEONFORK advice, which a fork
	// then reads back from the host (forkadvice.go).
	forkAdvised bool

	shared sharedFiles // the files of shared mappings without a path (sharedmem.go)
}

const pageSize = 4096

func pageUp(x uint64) uint64 { return (x + pageSize - 1) &^ (pageSize - 1) }

// userEnd is the end of the x86-64 user address space (TASK_SIZE_MAX).
const userEnd = 0x7ffffffff000

// Each call checks its range in the order and with the errors Linux uses (mm/mmap.c,
// mm/mprotect.c, mm/madvise.c): EINVAL for a misaligned start or an empty range, ENOMEM
// for a range outside the user address space.

// fixedRange checks mmap's MAP_FIXED range (do_mmap, get_unmapped_area).
func fixedRange(addr, length uint64) (hi uint64, e unix.Errno) {
	if length == 0 {
		return 0, unix.EINVAL
	}
	alen := pageUp(length)
	if alen == 0 || alen > userEnd || addr > userEnd-alen {
		return 0, unix.ENOMEM
	}
	if addr%pageSize != 0 {
		return 0, unix.EINVAL
	}
	return addr + alen, 0
}

// unmapRange checks munmap's range (__do_munmap: everything is EINVAL).
func unmapRange(addr, length uint64) (hi uint64, e unix.Errno) {
	if addr%pageSize != 0 || addr > userEnd || length > userEnd-addr {
		return 0, unix.EINVAL
	}
	alen := pageUp(length)
	if alen == 0 {
		return 0, unix.EINVAL
	}
	return addr + alen, 0
}

// protectRange checks mprotect's range; hi == addr means there is nothing to do.
func protectRange(addr, length uint64) (hi uint64, e unix.Errno) {
	if addr%pageSize != 0 {
		return 0, unix.EINVAL
	}
	if length == 0 {
		return addr, 0
	}
	alen := pageUp(length)
	if alen == 0 || addr+alen <= addr {
		return 0, unix.ENOMEM
	}
	if addr+alen > userEnd {
		return 0, unix.ENOMEM // no mapping there
	}
	return addr + alen, 0
}

// adviseRange checks madvise's range; hi == addr means there is nothing to do.
func adviseRange(addr, length uint64) (hi uint64, e unix.Errno) {
	if addr%pageSize != 0 {
		return 0, unix.EINVAL
	}
	alen := pageUp(length)
	if length != 0 && alen == 0 || addr+alen < addr {
		return 0, unix.EINVAL
	}
	if addr+alen > userEnd {
		return 0, unix.EINVAL // not user memory at all
	}
	return addr + alen, 0
}

// overLimit reports whether growing the program's memory by as bytes, data of them
// private and writable, would pass its RLIMIT_AS or RLIMIT_DATA: the mapping then fails
// with ENOMEM (mm/mmap.c, may_expand_vm). Caller holds m.mu.
func (p *Process) overLimit(as, data uint64) bool {
	p.nofileMu.Lock()
	asLim, dataLim := p.opts.AS, p.opts.Data
	p.nofileMu.Unlock()
	m := p.mm
	if asLim != nil && asLim.Cur != unix.RLIM_INFINITY && as > 0 {
		m.syncStack() // its growth counts
		if m.owned.size()+as > asLim.Cur {
			return true
		}
	}
	return dataLim != nil && dataLim.Cur != unix.RLIM_INFINITY && data > 0 && m.data.size()+data > dataLim.Cur
}

// isData reports whether a mapping with prot and flags is private writable memory.
func isData(prot, flags uint64) bool {
	// The mapping type is the low two bits: MAP_SHARED (1), MAP_PRIVATE (2) or
	// MAP_SHARED_VALIDATE (3).
	return prot&unix.PROT_WRITE != 0 && flags&unix.MAP_SHARED_VALIDATE == unix.MAP_PRIVATE &&
		flags&unix.MAP_GROWSDOWN == 0
}

// takeProgram makes a program just loaded, and the stack laid out for it, the address
// space's: its mappings, its break, its code (for the rewriter), and where its stack,
// arguments, environment and auxiliary vector lie. A new process's start and an execve
// share it.
func (m *addressSpace) takeProgram(img *loader.Image, stack *loader.Stack) {
	m.mu.Lock()
	for _, r := range img.Mapped {
		m.owned.add(r[0], r[1])
	}
	m.owned.add(stack.Mapped[0], stack.Mapped[1])
	m.initBrk(img.BrkStart)
	m.layout = img.Layout
	m.peak = 0
	m.notePeak()
	m.mu.Unlock()
	for _, c := range img.Code {
		m.rw.addCode(c[0], c[1])
	}
	m.args, m.env, m.auxv, m.stack = stack.Args, stack.Env, stack.Auxv, stack.Zone
	m.startStack = stack.SP
}

// notePeak records the program's mapped size if it is the most so far (peak), after a
// mapping grew it. Caller holds m.mu.
func (m *addressSpace) notePeak() {
	m.peak = max(m.peak, m.owned.size())
}

func (m *addressSpace) initBrk(start uint64) {
	m.brkStart, m.brkCur, m.brkMapped = start, start, pageUp(start)
}

// brk(2): the break moves within [brkStart, …) as long as the pages it needs are free;
// otherwise it stays where it was, which is how Linux reports failure.
func sysBrk(t *Thread) int64 {
	m := t.p.mm
	want := t.arg(0)
	m.mu.Lock()
	defer m.mu.Unlock()
	if want < m.brkStart || want > userEnd {
		return int64(m.brkCur)
	}
	need := pageUp(want)
	switch {
	case need > m.brkMapped && t.p.overLimit(need-m.brkMapped, need-m.brkMapped):
		return int64(m.brkCur)
	case need > m.brkMapped:
		_, e := rawMmap(m.brkMapped, need-m.brkMapped, unix.PROT_READ|unix.PROT_WRITE,
			unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE, -1, 0)
		if e != 0 {
			return int64(m.brkCur)
		}
		m.owned.add(m.brkMapped, need)
		m.notePeak()
		m.data.add(m.brkMapped, need)
	case need < m.brkMapped:
		unix.RawSyscall(unix.SYS_MUNMAP, uintptr(need), uintptr(m.brkMapped-need), 0)
		m.owned.remove(need, m.brkMapped)
		m.data.remove(need, m.brkMapped)
	}
	m.brkMapped = need
	m.brkCur = want
	return int64(want)
}

// mmap(2). A mapping at a place the host picks cannot hit golos's memory; one at a fixed
// address may only replace the application's own memory or fill free space.
func sysMmap(t *Thread) int64 {
	addr, length, prot, flags, fd, off := t.arg(0), t.arg(1), t.arg(2), t.arg(3), t.arg(4), t.arg(5)
	if flags&unix.MAP_ANONYMOUS == 0 && off&(pageSize-1) == 0 && t.p.ownFD(int(int32(fd))) {
		// One of golos's descriptors is not open for the program: EBADF, which Linux
		// answers first after an offset that is no multiple of the page size
		// (arch/x86/kernel/sys_x86_64.c, then mm/mmap.c: ksys_mmap_pgoff's fget).
		return -int64(unix.EBADF)
	}
	if flags&unix.MAP_ANONYMOUS == 0 && !(flags&unix.MAP_TYPE != unix.MAP_PRIVATE && prot&unix.PROT_WRITE != 0) {
		if w, ok := t.p.files.fdDirs.Load(int(int32(fd))); ok {
			if _, ok := w.(*procSnapshot); ok {
				// A /proc file of golos's making is a seq_file, which has no mmap: ENODEV
				// (mm/mmap.c, do_mmap: !file->f_op->mmap), where its memfd would map. A
				// shared writable mapping fails before that, on the read-only descriptor
				// (EACCES), as the host answers.
				return -int64(unix.ENODEV)
			}
		}
	}
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	if flags&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE) != 0 {
		m.syncStackIn(addr, addr+pageUp(length))
	}
	grow, growData := pageUp(length), uint64(0)
	if flags&unix.MAP_FIXED != 0 {
		hi, e := fixedRange(addr, length)
		if e != 0 {
			return -int64(e)
		}
		grow = hi - addr - m.owned.sizeIn(addr, hi) // what it maps over is the program's already
		if isData(prot, flags) {
			growData = hi - addr - m.data.sizeIn(addr, hi)
		}
	} else if isData(prot, flags) {
		growData = grow
	}
	if t.p.overLimit(grow, growData) {
		return -int64(unix.ENOMEM)
	}
	if flags&unix.MAP_FIXED != 0 {
		hi, _ := fixedRange(addr, length)
		if e := m.claimFree(addr, hi); e != 0 {
			return -int64(e)
		}
	}
	// Shared anonymous memory (MAP_SHARED or MAP_SHARED_VALIDATE, which both have the
	// MAP_SHARED bit), and a shared mapping of /dev/zero, which is the same (mm/mmap.c,
	// do_mmap; drivers/char/mem.c, mmap_zero), get a file of golos's that a fork can give
	// the child (sharedmem.go).
	held, mapFlags, mapFD, mapOff := -1, flags, fd, off
	if flags&unix.MAP_SHARED != 0 && flags&(unix.MAP_HUGETLB|unix.MAP_GROWSDOWN) == 0 && off%pageSize == 0 &&
		(flags&unix.MAP_ANONYMOUS != 0 || off == 0 && isDevZero(int(fd))) {
		if e := chargeSharedAnon(length, int(flags)); e != 0 {
			return -int64(e)
		}
		if held = sharedAnonFile(length); held >= 0 {
			mapFlags, mapFD, mapOff = flags&^unix.MAP_ANONYMOUS, uint64(held), 0
		}
	}
	r, e := m.mmapPlaced(addr, length, int(prot), int(mapFlags), int(mapFD), mapOff)
	if e != 0 {
		if held >= 0 {
			unix.Close(held)
		}
		return -int64(e)
	}
	if flags&unix.MAP_FIXED != 0 {
		t.p.releaseShared(r, pageUp(r+length)) // what it mapped over
	}
	switch {
	case held >= 0:
		t.p.holdShared(held, r, pageUp(r+length))
	case flags&unix.MAP_SHARED != 0 && flags&unix.MAP_ANONYMOUS == 0:
		t.p.holdSharedCopy(int(fd), r, pageUp(r+length))
	}
	m.owned.add(r, pageUp(r+length))
	m.notePeak()
	if isData(prot, flags) {
		m.data.add(r, pageUp(r+length))
	} else {
		m.data.remove(r, pageUp(r+length))
	}
	if flags&unix.MAP_FIXED != 0 {
		t.p.mm.rw.removeCode(r, pageUp(r+length)) // what it mapped over (elsewhere: free space)
	}
	if prot&unix.PROT_EXEC != 0 && flags&unix.MAP_ANONYMOUS == 0 {
		t.p.mm.rw.addCode(r, r+length) // a library's code, as the dynamic loader maps it
	}
	return int64(r)
}

// mmapMinAddr is vm.mmap_min_addr's default: a hint below it is taken as this address
// (mm/mmap.c, round_hint_to_min).
const mmapMinAddr = 0x10000

const hugePage = 2 << 20

// mmapPlaced is mmap(2) with golos choosing the place of a mapping that names no fixed
// address, as Linux's get_unmapped_area would: the hint if its pages are free, else the
// highest free place in the program's area (place). MAP_FIXED, MAP_FIXED_NOREPLACE and
// MAP_32BIT mappings, and every mapping of a process without an area, are the host's to
// place. Caller holds m.mu.
func (m *addressSpace) mmapPlaced(hint, length uint64, prot, flags, fd int, off uint64) (uint64, unix.Errno) {
	size := pageUp(length)
	if m.area == nil || flags&(unix.MAP_FIXED|unix.MAP_FIXED_NOREPLACE|unix.MAP_32BIT) != 0 || size == 0 || size > userEnd {
		return rawMmap(hint, length, prot, flags, fd, off) // and the host's errors for bad sizes
	}
	if hint != 0 {
		hint = pageUp(max(hint, mmapMinAddr))
		_, onStub := m.rw.stubBelow(hint, hint+size)
		if hint <= userEnd-size && !m.owned.overlaps(hint, hint+size) && !m.inStackGap(hint, hint+size) && !onStub {
			r, e := rawMmap(hint, length, prot, flags|unix.MAP_FIXED_NOREPLACE, fd, off)
			if e != unix.EEXIST {
				return r, e
			}
			m.learnForeign() // golos's own memory is there: the hint is not taken
		}
	}
	for try := 0; try < 3; try++ {
		at, ok := m.place(size, flags&unix.MAP_ANONYMOUS != 0)
		if !ok {
			break
		}
		r, e := rawMmap(at, length, prot, flags|unix.MAP_FIXED_NOREPLACE, fd, off)
		if e != unix.EEXIST {
			return r, e
		}
		m.learnForeign()
	}
	return rawMmap(0, length, prot, flags, fd, off) // no room in the area: the host's place
}

// place returns the highest place for size bytes in the program's area that is neither
// the program's nor golos's, as Linux's top-down layout takes the highest free place
// below its mmap base (mm/mmap.c, unmapped_area_topdown). An anonymous mapping whose
// size is a multiple of 2 MiB is aligned to 2 MiB, so that huge pages can back it, as
// Linux 6.x aligns it (__get_unmapped_area, thp_get_unmapped_area_vmflags). Caller holds
// m.mu.
func (m *addressSpace) place(size uint64, anon bool) (uint64, bool) {
	if m.area == nil {
		return 0, false
	}
	align := uint64(pageSize)
	if anon && size%hugePage == 0 {
		align = hugePage
	}
	top := m.area.Hi
	for {
		at, ok := m.owned.highestGap(m.area.Lo, top, size, align)
		if !ok {
			return 0, false
		}
		if at < m.stack[1] && at+size > m.stack[0] {
			top = m.stack[0] // the main stack's room (Linux's gap above its mmap base)
			continue
		}
		f, taken := m.foreign.overlapStart(at, at+size)
		if s, stub := m.rw.stubBelow(at, at+size); stub && (!taken || s < f) {
			f, taken = s, true
		}
		if !taken {
			return at, true
		}
		top = f
	}
}

// syncStack makes the program's what the main stack has grown down by since golos last
// looked: the host grows it (a VM_GROWSDOWN region: loader.NewStack) on faults below it,
// the program's, golos's copies' and the host kernel's, without golos seeing. Only the
// stack grows into its room (m.stack), where golos maps nothing, so a gap there whose
// top page is mapped is the stack's growth, mapped from some page up to the gap's top:
// mincore(2) of that page (one call per gap, most often one), and a binary search where
// it is mapped. Caller holds m.mu.
func (m *addressSpace) syncStack() {
	lo, top := m.stack[0], m.stack[1]
	r := m.owned.r
	j := sort.Search(len(r), func(i int) bool { return r[i][0] >= top }) - 1 // the last range below top
	for edge := top; edge > lo; {
		if j >= 0 && r[j][1] >= edge {
			edge, j = r[j][0], j-1 // the program's down to r[j]'s start
			continue
		}
		gap := lo // the gap [gap, edge)
		if j >= 0 {
			gap = max(lo, r[j][1])
		}
		if pageMapped(edge - pageSize) {
			a, b := gap, edge-pageSize // a's page may be unmapped, b's is mapped
			for a < b {
				mid := a + (b-a)/2&^(pageSize-1)
				if pageMapped(mid) {
					b = mid
				} else {
					a = mid + pageSize
				}
			}
			m.owned.add(b, edge)
			m.notePeak()
			r = m.owned.r
			j = sort.Search(len(r), func(i int) bool { return r[i][0] >= b }) - 1
		}
		edge = gap
	}
}

// inStackGap reports whether [lo, hi) meets the stack_guard_gap below the main stack's
// start, where Linux takes no hint (mm/mmap.c, generic_get_unmapped_area_topdown:
// addr + len <= vm_start_gap(vma)), so that the stack can still grow. Caller holds m.mu.
func (m *addressSpace) inStackGap(lo, hi uint64) bool {
	if !(lo < m.stack[1] && hi > m.stack[0]) {
		return false
	}
	m.syncStack()
	r := m.owned.r
	i := sort.Search(len(r), func(i int) bool { return r[i][1] > m.startStack })
	if i == len(r) || r[i][0] > m.startStack {
		return false // the stack's region is gone
	}
	start := r[i][0]
	return lo < start && hi > start-min(start, loader.StackGuardGap)
}

// syncStackIn is syncStack where [lo, hi) meets the main stack's room: the calls on
// other memory do without. Caller holds m.mu.
func (m *addressSpace) syncStackIn(lo, hi uint64) {
	if lo < m.stack[1] && hi > m.stack[0] {
		m.syncStack()
	}
}

// placeClaimed is place for size bytes with the place's pages claimed (claimFree); where
// golos's own memory turns out to be there (a stub page of the rewriter's, placed near the
// program's code), it learns it (learnForeign) and places again, as mmapPlaced does.
// Caller holds m.mu.
func (m *addressSpace) placeClaimed(size uint64) (uint64, bool) {
	for try := 0; try < 3; try++ {
		at, ok := m.place(size, false)
		if !ok {
			return 0, false
		}
		if m.claimFree(at, at+size) == 0 {
			return at, true
		}
		m.learnForeign()
	}
	return 0, false
}

// learnForeign reads golos's own mappings inside the program's area from the host's
// /proc/self/maps (readMaps) into m.foreign: a mapping that found its place taken met
// one. Caller holds m.mu.
func (m *addressSpace) learnForeign() {
	maps, _, err := readMaps()
	if err != nil || m.area == nil {
		return
	}
	m.syncStack() // the stack's growth is the program's, not golos's
	for _, h := range maps {
		if h.Hi <= m.area.Lo || h.Lo >= m.area.Hi {
			continue
		}
		for _, g := range m.owned.gaps(h.Lo, h.Hi) {
			m.foreign.add(g[0], g[1])
		}
	}
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
	m.notePeak()
	return 0
}

// munmap(2): only the application's own pages are unmapped; unmapping free space is not
// an error on Linux, and golos's pages are, to the application, free space it cannot see.
func sysMunmap(t *Thread) int64 {
	addr, length := t.arg(0), t.arg(1)
	hi, e := unmapRange(addr, length)
	if e != 0 {
		return -int64(e)
	}
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncStackIn(addr, hi)
	for _, r := range m.owned.intersect(addr, hi) {
		if _, _, e := unix.RawSyscall(unix.SYS_MUNMAP, uintptr(r[0]), uintptr(r[1]-r[0]), 0); e != 0 {
			return -int64(e)
		}
	}
	m.owned.remove(addr, hi)
	m.data.remove(addr, hi)
	t.p.mm.rw.removeCode(addr, hi)
	t.p.releaseShared(addr, hi)
	return 0
}

// mprotect(2) and pkey_mprotect(2), checked alike: ENOMEM, as for unmapped pages, when the
// range is not all the application's.
func sysMprotect(t *Thread) int64 {
	addr, length := t.arg(0), t.arg(1)
	hi, e := protectRange(addr, length)
	if e != 0 || hi == addr {
		return -int64(e)
	}
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncStackIn(addr, hi)
	if !m.owned.contains(addr, hi) {
		return -int64(unix.ENOMEM)
	}
	// PROT_GROWSDOWN on the main stack is the host's too: its stack grows down
	// (VM_GROWSDOWN), as Linux's, and the change reaches down to its start
	// (mm/mprotect.c, do_mprotect_pkey), all of it the program's.
	return passthroughFast(t) // mprotect, or pkey_mprotect with its key
}

// policyRange checks the range of mbind(2) and set_mempolicy_home_node(2) (mm/mempolicy.c:
// a misaligned start or a range that wraps is EINVAL); hi == addr means an empty range.
func policyRange(addr, length uint64) (hi uint64, e unix.Errno) {
	if addr%pageSize != 0 {
		return 0, unix.EINVAL
	}
	hi = addr + pageUp(length)
	if hi < addr || length != 0 && hi == addr {
		return 0, unix.EINVAL
	}
	return hi, 0
}

// mbind(2): a NUMA policy for the application's pages only; a range that is not all the
// application's gets EFAULT, as one with an unmapped hole does on Linux.
func sysMbind(t *Thread) int64 {
	addr, length := t.arg(0), t.arg(1)
	hi, e := policyRange(addr, length)
	if e != 0 {
		return -int64(e)
	}
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncStackIn(addr, hi)
	if hi != addr && !m.owned.contains(addr, hi) {
		return -int64(unix.EFAULT)
	}
	return passthroughFast(t)
}

// set_mempolicy_home_node(2): the home node of the application's pages in the range; as
// on Linux, parts of the range without a mapping (here: golos's) are left alone.
func sysSetMempolicyHomeNode(t *Thread) int64 {
	addr, length, node, flags := t.arg(0), t.arg(1), t.arg(2), t.arg(3)
	hi, e := policyRange(addr, length)
	if e != 0 {
		return -int64(e)
	}
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncStackIn(addr, hi)
	parts := m.owned.intersect(addr, hi)
	if len(parts) == 0 {
		// Nothing of the application's: the host checks the node and the flags alone.
		return passthroughRaw(unix.SYS_SET_MEMPOLICY_HOME_NODE, addr, 0, node, flags, 0, 0)
	}
	for _, r := range parts {
		if ret := passthroughRaw(unix.SYS_SET_MEMPOLICY_HOME_NODE, r[0], r[1]-r[0], node, flags, 0, 0); ret < 0 {
			return ret
		}
	}
	return 0
}

// mseal(2): only the application's own memory may be sealed; a range that is not all the
// application's gets ENOMEM, as a range that is not fully mapped does.
func sysMseal(t *Thread) int64 {
	addr, length, flags := t.arg(0), t.arg(1), t.arg(2)
	if flags != 0 || addr%pageSize != 0 {
		return -int64(unix.EINVAL)
	}
	hi := addr + pageUp(length)
	if hi < addr {
		return -int64(unix.EINVAL)
	}
	if hi == addr {
		return 0
	}
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncStackIn(addr, hi)
	if !m.owned.contains(addr, hi) {
		return -int64(unix.ENOMEM)
	}
	return passthroughFast(t)
}

// madvise(2): advice reaches only the application's pages (MADV_DONTNEED on golos's heap
// would zero it); a range that is not all the application's gets ENOMEM, as a range with
// unmapped pages does on Linux, after the advice was applied to the rest.
func sysMadvise(t *Thread) int64 {
	addr, length, advice := t.arg(0), t.arg(1), t.arg(2)
	hi, e := adviseRange(addr, length)
	if e != 0 || hi == addr {
		return -int64(e)
	}
	if dropsPages(advice) {
		// Linux's pages read zero afterwards; a lazy fork's child would get the
		// holder's back (lazyfork_unsafe.go).
		t.p.finishLazy()
	}
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncStackIn(addr, hi)
	for _, r := range m.owned.intersect(addr, hi) {
		if ret := passthroughRaw(unix.SYS_MADVISE, r[0], r[1]-r[0], advice, 0, 0, 0); ret < 0 {
			return ret
		}
		if forkAdvice(advice) {
			m.forkAdvised = true
		}
	}
	if !m.owned.contains(addr, hi) {
		return -int64(unix.ENOMEM)
	}
	return 0
}

// dropsPages says whether madvise's advice drops pages, which then read zero (madvise(2):
// MADV_DONTNEED, MADV_FREE, MADV_REMOVE, MADV_DONTNEED_LOCKED).
func dropsPages(advice uint64) bool {
	switch advice {
	case unix.MADV_DONTNEED, unix.MADV_FREE, unix.MADV_REMOVE, 24: // 24: MADV_DONTNEED_LOCKED
		return true
	}
	return false
}

// mremap(2): the old range must be the application's; a fixed new place follows mmap's
// MAP_FIXED rule. Without a fixed place the host only grows into or moves to free space.
func sysMremap(t *Thread) int64 {
	old, oldLen, newLen, flags, newAddr := t.arg(0), t.arg(1), t.arg(2), t.arg(3), t.arg(4)
	if old%pageSize != 0 {
		return -int64(unix.EINVAL)
	}
	t.p.finishLazy() // the holder knows the pages at their old place (lazyfork_unsafe.go)
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncStackIn(old, pageUp(old+max(oldLen, 1)))
	if !m.owned.contains(old, pageUp(old+max(oldLen, 1))) {
		return -int64(unix.EFAULT)
	}
	if flags&unix.MREMAP_FIXED != 0 {
		// mremap_to: a misplaced or oversized target is EINVAL.
		if newAddr%pageSize != 0 || newLen > userEnd || newAddr > userEnd-newLen {
			return -int64(unix.EINVAL)
		}
		hi := newAddr + pageUp(newLen)
		if e := m.claimFree(newAddr, hi); e != 0 {
			return -int64(e)
		}
	}
	wasData := m.data.contains(old, pageUp(old+max(oldLen, 1)))
	grow := pageUp(newLen) - min(pageUp(oldLen), pageUp(newLen))
	if flags&unix.MREMAP_DONTUNMAP != 0 {
		grow = pageUp(newLen) // the old pages stay mapped
	}
	growData := uint64(0)
	if wasData {
		growData = grow
	}
	if t.p.overLimit(grow, growData) {
		return -int64(unix.ENOMEM)
	}
	r := m.mremapPlaced(old, oldLen, newLen, flags, newAddr)
	if r < 0 {
		return r
	}
	if flags&unix.MREMAP_DONTUNMAP == 0 {
		m.owned.remove(old, pageUp(old+oldLen))
		m.data.remove(old, pageUp(old+oldLen))
		t.p.mm.rw.removeCode(old, pageUp(old+oldLen))
	}
	m.owned.add(uint64(r), pageUp(uint64(r)+newLen))
	m.notePeak()
	if wasData {
		m.data.add(uint64(r), pageUp(uint64(r)+newLen))
	}
	t.p.releaseShared(old, pageUp(old+max(oldLen, 1))) // moved or shrunk: seen again where it is
	if flags&unix.MREMAP_FIXED != 0 {
		t.p.releaseShared(uint64(r), pageUp(uint64(r)+newLen)) // what it moved over
	}
	return r
}

// mremapPlaced is mremap(2) with golos choosing where a mapping that may move goes: it
// grows in place if it can, else it moves to place's choice in the program's area
// (MREMAP_DONTUNMAP always moves), as Linux moves it to get_unmapped_area's. Caller holds
// m.mu.
func (m *addressSpace) mremapPlaced(old, oldLen, newLen, flags, newAddr uint64) int64 {
	if m.area == nil || flags&unix.MREMAP_MAYMOVE == 0 || flags&unix.MREMAP_FIXED != 0 ||
		pageUp(newLen) <= pageUp(oldLen) && flags&unix.MREMAP_DONTUNMAP == 0 {
		return passthroughRaw(unix.SYS_MREMAP, old, oldLen, newLen, flags, newAddr, 0)
	}
	if flags&unix.MREMAP_DONTUNMAP == 0 {
		r := passthroughRaw(unix.SYS_MREMAP, old, oldLen, newLen, flags&^unix.MREMAP_MAYMOVE, 0, 0)
		if r != -int64(unix.ENOMEM) {
			return r
		}
	}
	size := pageUp(newLen)
	at, ok := m.placeClaimed(size)
	if !ok {
		return passthroughRaw(unix.SYS_MREMAP, old, oldLen, newLen, flags, newAddr, 0) // the host's place
	}
	r := passthroughRaw(unix.SYS_MREMAP, old, oldLen, newLen, flags|unix.MREMAP_FIXED, at, 0)
	if r < 0 {
		unix.RawSyscall(unix.SYS_MUNMAP, uintptr(at), uintptr(size), 0) // claimFree's reservation
		m.owned.remove(at, at+size)
	}
	return r
}

func rawMmap(addr, length uint64, prot, flags, fd int, off uint64) (uint64, unix.Errno) {
	r, _, e := unix.RawSyscall6(unix.SYS_MMAP, uintptr(addr), uintptr(length), uintptr(prot),
		uintptr(flags), uintptr(fd), uintptr(off))
	return uint64(r), e
}
