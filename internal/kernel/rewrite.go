package kernel

import (
	"fmt"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
	"golos/internal/syspatch"
	"golos/internal/vfs"
)

// Syscall sites are rewritten lazily: the second time a site traps through Syscall User
// Dispatch (a site that runs once, as most of a short program's and of its dynamic
// loader's do, is not worth the rewrite, which costs some ten traps), golos checks it
// (package syspatch) and, if it is a "mov $nr,%eax; syscall" in
// the code of a file the application mapped (its program, interpreter, libraries; never
// anonymous or JIT code), makes it jump to a stub that enters golos directly. Only sites
// that run are touched, and nothing is paid at start-up.
//
// Other threads may be running the very site being rewritten, so the jump goes in as
// Linux's text_poke_bp() does it: an int3 on the first byte, the other four bytes, then
// the jump's first byte, each step followed by a core-serialising membarrier(2) for all
// the process's threads. A thread that meets the int3 meanwhile traps with SIGTRAP, and
// golos carries on for it as the original mov would have (stepOverPatch). golos's entry
// point registers for that membarrier while it is the process's only thread, which costs
// the kernel nothing; failing that, registering takes milliseconds, so it is done in the
// background when the application starts its second thread. While the application has
// one thread, there is nobody to race with.
type rewriter struct {
	mem     int           // /proc/self/mem, open for the rewriter's whole life (one of golos's descriptors)
	mu      mutex[rwLock] // guards code, pages and rewritten, and is held across a rewrite
	code    ranges        // file-backed executable mappings
	tried   sync.Map      // syscall instruction address → syspatch.Site, or false (left alone)
	once    sync.Map      // syscall instruction address → true: it has trapped once
	patched sync.Map      // site address → syspatch.Site: where an int3 may have been met
	pages   []stubPage
	// stubsAt is where pages' executable views are, for place to step over without the
	// lock: a stub page lies inside the program's area, near its code (stubPageNear).
	stubsAt  atomic.Pointer[[]uint64]
	synced   atomic.Bool // membarrier's SYNC_CORE command is registered
	syncing  sync.Once
	threaded atomic.Bool // the application has had more than one thread
	stopped  atomic.Bool // a raw task runs the program's code: no more rewrites (stop)

	rewritten uint64 // sites rewritten (for --stats)
}

// A stub page is mapped twice: where the application's code reaches it (read and
// execute only) and, for golos to write stubs into, at an alias (read and write) of the
// same memory. So a new stub costs a plain copy, without a change of protection.
type stubPage struct {
	addr  uint64 // the executable view
	alias uint64 // the writable view
	used  int
}

// openMem opens /proc/self/mem for the rewriter, among golos's own descriptors at the
// top of the table; it returns the descriptor golos must hide from the application.
func (w *rewriter) openMem() (int, error) {
	fd, err := unix.Open("/proc/self/mem", unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /proc/self/mem to rewrite syscall sites: %w", err)
	}
	hi, err := vfs.MoveHigh(fd)
	if err != nil {
		return -1, fmt.Errorf("move /proc/self/mem's descriptor: %w", err)
	}
	w.mem = hi
	return hi, nil
}

// addCode makes [lo, hi) code whose sites may be rewritten.
func (w *rewriter) addCode(lo, hi uint64) {
	w.mu.Lock()
	w.code.add(lo, hi)
	w.mu.Unlock()
}

// removeCode forgets code that was unmapped or mapped over, and its sites (which lie
// only in code: rewrite looks at no other).
func (w *rewriter) removeCode(lo, hi uint64) {
	w.mu.Lock()
	wasCode := len(w.code.intersect(lo, hi)) > 0
	w.code.remove(lo, hi)
	w.mu.Unlock()
	if !wasCode {
		return
	}
	for _, m := range []*sync.Map{&w.tried, &w.patched, &w.once} {
		m.Range(func(k, _ any) bool {
			if a := k.(uint64); a >= lo && a < hi {
				m.Delete(k)
			}
			return true
		})
	}
}

// trapped is called for a syscall that trapped through Syscall User Dispatch; rip is the
// address after its syscall instruction.
func (p *Process) trapped(rip uint64) {
	if p.opts.NoRewrite || rip < 2 {
		return
	}
	sc := rip - 2
	if _, seen := p.mm.rw.tried.Load(sc); seen {
		return
	}
	if _, again := p.mm.rw.once.LoadOrStore(sc, true); !again {
		return // its first trap
	}
	p.mm.rw.rewrite(sc)
}

// stop ends the rewriting for good, once a rewrite under way is done: a raw task
// (rawtask.go) that met a site's int3 meanwhile would die of the SIGTRAP, which only
// golos's threads step over (stepOverPatch), and with every site on its slow path
// (entry.SlowSites) a rewrite gains nothing.
func (w *rewriter) stop() {
	w.mu.Lock()
	w.stopped.Store(true)
	w.mu.Unlock()
}

// rewrite rewrites the site whose syscall instruction is at sc, if it is one.
func (w *rewriter) rewrite(sc uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, seen := w.tried.Load(sc); seen || w.stopped.Load() {
		return
	}
	synced := w.synced.Load()
	if w.threaded.Load() && !synced {
		return // not yet: this site will trap again
	}
	if !w.code.contains(sc, sc+2) {
		return // not a file's code (yet): it may be when it traps again
	}
	w.tried.Store(sc, false)
	lo := sc - min(syspatch.Window, sc)
	for !w.code.contains(lo, sc) {
		lo++
	}
	buf := make([]byte, sc+2-lo)
	if copyIn(lo, buf) != 0 {
		return
	}
	s, ok := knownSites.before(buf, lo) // sitememo.go
	if !ok {
		return
	}
	pg, idx, ok := w.stubSlot(s.Addr)
	if !ok {
		return
	}
	stub, jmp, err := syspatch.Stub(pg.addr, idx, s)
	if err != nil {
		return
	}
	// The stub is not reachable yet: it goes in at once, through the page's alias.
	if copyOut(pg.alias+uint64(syspatch.StubOffset(idx)), stub) != 0 {
		return
	}
	pg.used++
	w.tried.Store(sc, s)
	// The code is not writable: the jump goes in through /proc/self/mem, which writes
	// into the process's private copy of the pages as a debugger's breakpoints do.
	if !synced {
		// One thread, and it is here: nobody can be running the site meanwhile.
		if _, err := unix.Pwrite(w.mem, jmp, int64(s.Addr)); err != nil {
			w.tried.Store(sc, false)
			return
		}
		w.rewritten++
		return
	}
	w.patched.Store(s.Addr, s)
	syncCore := func() {
		unix.RawSyscall(unix.SYS_MEMBARRIER, 1<<5, 0, 0) // …_PRIVATE_EXPEDITED_SYNC_CORE
	}
	steps := []struct {
		off  int64
		data []byte
	}{{0, []byte{0xcc}}, {1, jmp[1:]}, {0, jmp[:1]}}
	for i, st := range steps {
		if _, err := unix.Pwrite(w.mem, st.data, int64(s.Addr)+st.off); err != nil {
			if i > 0 {
				unix.Pwrite(w.mem, s.Insn[:1], int64(s.Addr)) // the original instruction back
				syncCore()
			}
			w.tried.Store(sc, false)
			return
		}
		syncCore()
	}
	w.rewritten++
}

// syncCoreAtStart: golos's entry point registered the process for membarrier's
// SYNC_CORE command while it had one thread (SyncCoreAtStart).
var syncCoreAtStart bool

// SyncCoreAtStart records whether golos's entry point registered the process for
// membarrier(2)'s MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE before the Go runtime
// started its threads (cmd/golos/prestart_amd64.s), where Linux registers it at once;
// with other threads up it waits for an RCU grace period (10-15 ms here).
func SyncCoreAtStart(ok bool) { syncCoreAtStart = ok }

// goingThreaded is called when the application creates a thread: sites are rewritten
// only once membarrier can serialise every thread's instruction stream, at once when
// the registration was made at golos's start, else once it is made in the background
// (the sites the new threads meet meanwhile trap: in a loop of pthread_create and
// pthread_join, every call of the first 50-150 threads).
func (w *rewriter) goingThreaded() {
	if syncCoreAtStart {
		w.synced.Store(true) // before threaded: a rewrite that sees threaded sees synced
		w.threaded.Store(true)
		return
	}
	w.threaded.Store(true)
	w.syncing.Do(func() {
		go func() {
			// MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE
			if _, _, e := unix.RawSyscall(unix.SYS_MEMBARRIER, 1<<6, 0, 0); e == 0 {
				w.synced.Store(true)
			}
		}()
	})
}

// stubSlot finds room for one more stub within rel32 reach of site, mapping a new stub
// page near it if needed.
func (w *rewriter) stubSlot(site uint64) (pg *stubPage, idx int, ok bool) {
	for i := range w.pages {
		pg := &w.pages[i]
		d := int64(pg.addr - site)
		if pg.used < syspatch.StubsPerPage && d > -(1<<31)+8192 && d < (1<<31)-8192 {
			return pg, pg.used, true
		}
	}
	addr, alias, ok := stubPageNear(site, site+16)
	if !ok {
		return nil, 0, false
	}
	if copyOut(alias, syspatch.Header(uint64(entry.FastEntryPC))) != 0 {
		return nil, 0, false
	}
	w.pages = append(w.pages, stubPage{addr: addr, alias: alias})
	w.pagesChanged()
	return &w.pages[len(w.pages)-1], 0, true
}

// pagesChanged publishes where the stub pages are now (stubsAt). Caller holds w.mu or
// has the rewriter to itself.
func (w *rewriter) pagesChanged() {
	at := make([]uint64, len(w.pages))
	for i, pg := range w.pages {
		at[i] = pg.addr
	}
	w.stubsAt.Store(&at)
}

// stubBelow returns the lowest place of a stub page that overlaps [lo, hi), if one
// does: place looks below it, where a mapping would otherwise have found the stub page
// in its way and read the host's map to learn it (learnForeign).
func (w *rewriter) stubBelow(lo, hi uint64) (uint64, bool) {
	at := w.stubsAt.Load()
	if at == nil {
		return 0, false
	}
	low, found := uint64(0), false
	for _, a := range *at {
		if a < hi && a+pageSize > lo && (!found || a < low) {
			low, found = a, true
		}
	}
	return low, found
}

// stubPageNear maps a stub page within rel32 reach of [lo, hi): below the code first,
// then far above it (above a program lies its break, which must stay free to grow). It
// belongs to golos: the application cannot map over or unmap it. The page is shared
// anonymous memory, mapped first at its alias; mremap(2) with an old size of 0 then maps
// the same memory a second time, at the place found, which is then made executable and
// read-only.
func stubPageNear(lo, hi uint64) (addr, alias uint64, ok bool) {
	const step = 16 << 20
	alias, e := rawMmap(0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS, -1, 0)
	if e != 0 {
		return 0, 0, false
	}
	try := func(at uint64) bool { return showStubPage(alias, at) }
	lo &^= pageSize - 1
	for d := uint64(1 << 20); d < 1<<30; d += step {
		if lo > d+pageSize+0x10000 && try(lo-d-pageSize) {
			return lo - d - pageSize, alias, true
		}
	}
	for d := uint64(3 << 29); d < 1<<31-pageSize-(4<<20); d += step {
		if at := pageUp(hi) + d; at+pageSize < userEnd && try(at) {
			return at, alias, true
		}
	}
	unix.RawSyscall(unix.SYS_MUNMAP, uintptr(alias), pageSize, 0)
	return 0, 0, false
}

// showStubPage maps the stub page whose writable view is alias a second time at at, read
// and execute only; it fails if anything is mapped there.
func showStubPage(alias, at uint64) bool {
	// A placeholder first: MAP_FIXED_NOREPLACE fails where anything is mapped, while
	// mremap's MREMAP_FIXED would replace it.
	if _, e := rawMmap(at, pageSize, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED_NOREPLACE, -1, 0); e != 0 {
		return false
	}
	_, _, e := unix.RawSyscall6(unix.SYS_MREMAP, uintptr(alias), 0, pageSize,
		unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, uintptr(at), 0)
	if e == 0 {
		_, _, e = unix.RawSyscall(unix.SYS_MPROTECT, uintptr(at), pageSize, unix.PROT_READ|unix.PROT_EXEC)
	}
	if e != 0 {
		unix.RawSyscall(unix.SYS_MUNMAP, uintptr(at), pageSize, 0)
		return false
	}
	return true
}

// waitPatch returns once no site is being rewritten (the rewriter's lock is held for the
// whole of a rewrite).
func (w *rewriter) waitPatch() {
	w.mu.Lock()
	defer w.mu.Unlock()
	_ = w.rewritten // nothing to do but wait for the lock
}

// stepOverPatch handles a SIGTRAP from the int3 that a site being rewritten carries for a
// moment: the thread waits for the rewrite to finish, then runs the site again (now the
// jmp, or the original instruction if the rewrite failed). It reports whether the trap
// was such a one.
func (t *Thread) stepOverPatch() bool {
	r := &t.ctx.Regs
	if t.ctx.Signo != int64(unix.SIGTRAP) || r.RIP == 0 {
		return false
	}
	if _, ok := t.p.mm.rw.patched.Load(r.RIP - 1); !ok {
		return false
	}
	// The int3 may be gone by now, the site rewritten or restored: run it again.
	t.p.mm.rw.waitPatch()
	r.RIP--
	return true
}

// setPlainSyscalls tells the entry code which syscalls it may make itself: none when each
// syscall is to be shown (--debug=syscalls) or counted (--stats).
func (p *Process) setPlainSyscalls() {
	if p.fsctx.root == nil {
		noteHostCwd() // the working directory the program starts in (proccwd.go)
	}
	if p.opts.DebugSyscalls || p.opts.Stats || p.seccompUsed.Load() {
		return
	}
	root := p.fsctx.root != nil
	rootRO := root && p.fsctx.root.HasReadOnly()
	for nr := range syscalls {
		r := &syscalls[nr]
		entry.PlainSyscalls[nr] = plainFor(r, root, rootRO)
		// On a descriptor of golos's, or relative to one (an *at call whose first
		// argument is its only directory descriptor: ownDirFD), a call goes to Go however
		// its path begins. (renameat, renameat2, linkat and symlinkat are not marked: the
		// entry code looks at the first argument only, and their second directory
		// descriptor may be golos's; none of them is plain.)
		if r.fd || r.at != nil && r.at.dir[0] == 0 && r.at.dir[1] < 0 {
			entry.FDSyscalls[nr] = 1
		}
		if r.fdArgs&arg1 != 0 {
			entry.FDRSISyscalls[nr] = 1
		}
		if r.fdArgs&arg2 != 0 {
			entry.FDRDXSyscalls[nr] = 1
		}
	}
	// fcntl(2)'s third argument is a descriptor for F_DUPFD_QUERY alone (sysFcntl): one
	// of golos's there sends any fcntl to Go, which checks the command.
	entry.FDRDXSyscalls[unix.SYS_FCNTL] = 1
}

// plainFor is the entry code's class of syscall r (entry.PlainSyscalls): 0 for none,
// when the call always goes to Go. root says the process has a root (--root, or its
// chroot(2)), rootRO that a part of it is read-only.
func plainFor(r *sysRecord, root, rootRO bool) uint8 {
	switch {
	case r.fast == plain:
		return 1
	case r.fast == plainUnlessMaskR8:
		// Without a mask the call needs nothing of golos's; with one, golos puts it
		// in place of the thread's (pmask.go).
		return entry.PlainUnlessMaskR8
	case r.fast == plainUnlessMaskR10:
		return entry.PlainUnlessMaskR10
	case r.fast == plainPoll:
		// golos's own descriptors answer POLLNVAL (poll.go), which the entry code
		// leaves to Go by a look at each pollfd (entry.OwnFDs).
		return entry.PlainPoll
	case r.fast == plainSelect:
		// golos's own descriptors answer EBADF (poll.go), which the entry code leaves
		// to Go when nfds reaches the lowest of them (entry.SelectSlack).
		return entry.PlainSelect
	case r.fast == plainUnlessRO:
		// A request that changes a file in a read-only part fails with EROFS there
		// (sysIoctl); without one, golos has nothing to do but for the requests it
		// checks whatever the root (entry.PlainIoctl).
		if !rootRO {
			return entry.PlainIoctl
		}
		return 0
	case r.fast == plainArchPrctlFS:
		// FS is the application's alone and the host checks the address as golos
		// would (sysArchPrctl); GS is golos's, so ARCH_SET_GS and ARCH_GET_GS still
		// go to Go.
		return entry.PlainArchPrctlFS
	case root:
		// With --root every path is resolved inside it, in Go.
		return 0
	case r.fast == plainWithoutRoot:
		return 1
	case r.fast == plainUnlessControl:
		// A message with control data may pass descriptors (SCM_RIGHTS), which
		// sysSendmsg checks; plain data needs nothing of golos's.
		return entry.PlainUnlessControl
	case r.fast == plainUnlessProcRDI:
		// golos shows some of the files under /proc/ (openAt, readlinkAt, procExeCall).
		return entry.PlainUnlessProcRDI
	case r.fast == plainUnlessProcRSI:
		return entry.PlainUnlessProcRSI
	}
	return 0
}

// rootedPlainSyscalls takes back from the entry code the calls it may make itself only
// without a root, once the program has chrooted (chroot.go): from then on their paths
// are resolved inside the root, in Go.
func (p *Process) rootedPlainSyscalls() {
	if p.opts.DebugSyscalls || p.opts.Stats || p.seccompUsed.Load() {
		return
	}
	for nr := range syscalls {
		entry.PlainSyscalls[nr] = plainFor(&syscalls[nr], true, p.fsctx.root.HasReadOnly())
	}
}
