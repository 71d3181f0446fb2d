package kernel

import (
	"fmt"
	"os"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// A lazy fork: the child's golos gets the program's private anonymous memory when it
// touches it, not all of it before the fork returns (fork.go copies the rest, the pages
// the files of its file-backed regions do not hold, eagerly: a library's .data, small).
//
// While the program's other threads are frozen (freezeOthers), the forking thread makes a
// host fork of this whole golos process, the holder (holder_amd64.s): the kernel copies
// the page tables and shares the pages copy-on-write, which is what Linux's own fork costs,
// and the holder's pages stay the program's memory of that instant whatever the parent
// does afterwards. The child's golos maps those regions as before and registers them with
// a userfaultfd(2) for missing pages, in kernel mode as well (not UFFD_USER_MODE_ONLY: a
// read(2) into a page not yet there faults too, and golos's own copies from the
// program's memory), and sends the userfaultfd to the holder over the holder's socket;
// the holder answers each fault with UFFDIO_COPY of a chunk around it from its own copy at
// the same address. Nothing of the holder's is Go code, so no stop of the child's Go
// runtime (a garbage collection) can keep a fault from being served, even one golos's
// own Go code takes while the runtime waits for it.
//
// The holder ends when its socket's other ends are closed: the parent's (once it has
// handed it to the child) and the child's, closed when the program execs or ends, or
// when the child finishes the copy itself (finishLazy: before a fork of its own, whose
// snapshot must have every page, an mremap, which would move pages the holder knows at
// their old address, and an madvise that drops pages, after which Linux's pages read
// zero rather than what the holder has), or when the parent's golos ends (releaseHolders).
// Its exit signal is 0: no SIGCHLD to the program, and only a wait with __WALL or
// __WCLONE sees it, which golos makes again without it (p.doomed); a goroutine of the
// parent's golos reaps it by its pid as soon as it ends (reapHolder).
//
// Without userfaultfd for kernel-mode faults (no CAP_SYS_PTRACE and
// vm.unprivileged_userfaultfd 0, a seccomp filter), or with GOLOS_EAGER_FORK set in
// golos's environment (tests), the parent copies all of it as before.

// eagerForkEnv, set in golos's environment, turns lazy forks off.
const eagerForkEnv = "GOLOS_EAGER_FORK"

// lazyChunk is what the holder copies for one fault: the 64 KiB around it, aligned (less
// at a region's edge). A larger one saves little for a child that touches everything
// (docs/performance-analysis.md) and costs memory to one that touches a page here and
// there.
const lazyChunk = 64 << 10

// lazyReady is the child's reply, once it has mapped the regions, when the holder serves
// its private anonymous memory; an empty reply asks the parent to copy it.
const lazyReady = "\x00lazy"

// The kernel's ABI (include/uapi/linux/userfaultfd.h, include/uapi/asm-generic/mman-common.h).
const (
	uffdioRegisterModeMissing = 1 << 0
	uffdioUnregister          = 0x8010aa01
	madvPopulateRead          = 22
)

// lazyForkOK reports whether this golos can make lazy forks: userfaultfd(2) for
// kernel-mode faults is allowed, and not turned off.
var lazyForkOK = sync.OnceValue(func() bool {
	if os.Getenv(eagerForkEnv) != "" {
		return false
	}
	fd, _, e := unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK, 0, 0)
	if e != 0 {
		return false
	}
	unix.Close(int(fd))
	return true
})

// lazyMin is how much of the program's private anonymous memory must be there for a fork
// to be lazy. The holder costs the fork of the whole golos process, golos's own memory
// included (0.5 to 1 ms measured for a program with next to none of its own, where the
// eager copy took 0.1 ms), and the copy-on-write faults golos takes afterwards in its
// own heap; the eager copy costs about 0.2 ms per MiB.
const lazyMin = 8 << 20

// lazyWorth reports whether the holder costs less than the eager copy of maps would:
// whether lazyMin of their private anonymous pages are in memory, as mincore(2) counts
// them (a page table walk, far cheaper than reading /proc/self/pagemap, which the eager
// copy does; a page swapped out is not counted). Regions' sizes would not do: the
// program's stack alone is an 8 MiB mapping.
func lazyWorth(pm int, maps []forkMapping) bool { return lazyPresent(pm, maps, lazyMin) }

// lazyPresent reports whether at least least bytes of the private anonymous pages of
// maps are in memory (mincore).
func lazyPresent(pm int, maps []forkMapping, least uint64) bool {
	vec := make([]byte, 4096)
	var n uint64
	for i := range maps {
		m := &maps[i]
		if !lazyRegion(m) || m.Prot&unix.PROT_READ == 0 {
			continue
		}
		// PAGEMAP_SCAN where it works (pagescan_unsafe.go): mincore's cost grows with the
		// region's size, terabytes for AddressSanitizer's shadow.
		if pm >= 0 && scanPages(pm, m.Lo, m.Hi, func(start, end, cats uint64) {
			if cats&pageIsPresent != 0 {
				n += end - start
			}
		}) {
			if n >= least {
				return true
			}
			continue
		}
		for lo := m.Lo; lo < m.Hi; {
			size := min(m.Hi-lo, uint64(len(vec))*pageSize)
			if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(lo), uintptr(size), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
				break
			}
			for _, v := range vec[:size/pageSize] {
				n += uint64(v & 1)
			}
			if n*pageSize >= least {
				return true
			}
			lo += size
		}
	}
	return false
}

// lazyRegion says whether the child gets region m from the holder: private anonymous
// memory (a region mapped again from its file gets the pages it wrote copied, a copied
// file region or a System V segment is not anonymous to userfaultfd).
func lazyRegion(m *forkMapping) bool {
	return !m.Shared && m.Path == "" && !m.Copy && !m.Wipe && !sysvMapping(*m)
}

// holders are this golos's holders not yet reaped, under holdersMu: each one's pid, and
// this golos's end of the socket to the child's golos it serves (-1 until the child has
// taken its memory from it), kept open while the holder lives: its end tells the child
// this golos is ending (releaseHolders).
var (
	holdersMu sync.Mutex
	holders   []holderKid
)

type holderKid struct{ pid, conn int }

// holderClone is in holder_amd64.s.
func holderClone(sock, chunk, stack, mode uintptr) int64

// holderStack is the size of a shared holder's stack (holder_amd64.s: HOLDER_STACK).
const holderStack = 0x4000

// startHolder makes the holder, while the program's other threads are frozen; it returns
// the parent's end of its socket, which the child gets.
func (p *Process) startHolder() (int, error) {
	p.reapHolders()
	// Two tasks more than the eager fork: the holder, and the runtime's thread that
	// waits for it (reapHolder). Without room, the copy is eager.
	if !p.taskRoom(golosThreads + 2) {
		return -1, fmt.Errorf("the fork's holder: %w", unix.EAGAIN)
	}
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("the fork's holder: socketpair: %w", err)
	}
	// Both at golos's numbers: the holder closes every other one.
	a, err := vfs.MoveHigh(sp[0])
	if err != nil {
		unix.Close(sp[1])
		return -1, fmt.Errorf("the fork's holder: socketpair: %w", err)
	}
	b, err := vfs.MoveHigh(sp[1])
	if err != nil {
		unix.Close(a)
		return -1, fmt.Errorf("the fork's holder: socketpair: %w", err)
	}
	r := holderClone(uintptr(b), lazyChunk, 0, 0)
	unix.Close(b)
	if r < 0 {
		unix.Close(a)
		return -1, fmt.Errorf("the fork's holder: clone: %w", unix.Errno(-r))
	}
	p.heldBy(int(r))
	return a, nil
}

// heldBy notes the holder pid, a child of golos's own that the program must not see, to
// be reaped as soon as it ends.
func (p *Process) heldBy(pid int) {
	p.doomed.add(pid) // a wait of the program's that takes it is made again (sysWait4)
	holdersMu.Lock()
	holders = append(holders, holderKid{pid: pid, conn: -1})
	holdersMu.Unlock()
	go p.reapHolder(pid)
}

// reapHolder waits for the holder pid to end and reaps it at once: a zombie would show
// among the program's children in /proc (pstree(1)) where Linux has none. It waits for
// that pid only (never for any child, which could take one of the program's), in a
// blocking waitid(2) on a thread of the runtime's (holders live a few milliseconds when
// the child execs at once). A wait of the program's with __WALL may take it first: then
// ECHILD here.
func (p *Process) reapHolder(pid int) {
	var info [128]byte
	for {
		_, _, e := unix.Syscall6(unix.SYS_WAITID, unix.P_PID, uintptr(pid), uintptr(unsafe.Pointer(&info[0])),
			unix.WEXITED|unix.WALL, 0, 0)
		if e != unix.EINTR {
			break
		}
	}
	p.doomed.take(pid)
}

// sendHolder sends the child the holder's socket, or (holder -1) a message without one.
func sendHolder(conn, holder int) error {
	if holder >= 0 {
		return sendFDs(conn, []int{holder})
	}
	if err := unix.Sendmsg(conn, []byte{0}, nil, nil, 0); err != nil {
		return fmt.Errorf("send the child word of no holder: %w", err)
	}
	return nil
}

// recvHolder receives what sendHolder sent: the holder's socket, or -1.
func recvHolder(conn int) (int, error) {
	var b [1]byte
	oob := make([]byte, unix.CmsgSpace(4))
	for {
		n, oobn, _, _, err := unix.Recvmsg(conn, b[:], oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err == nil && n == 0 {
			err = unix.EPIPE // the parent's golos is gone
		}
		if err != nil {
			return -1, fmt.Errorf("receive the holder's socket: %w", err)
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			if fds, err := unix.ParseUnixRights(&m); err == nil && len(fds) == 1 {
				return fds[0], nil
			}
		}
		if b[0] != 0 {
			return -1, fmt.Errorf("receive the holder's socket: it did not come")
		}
		return -1, nil
	}
}

// keepConn keeps a copy of conn, the socket to the child's golos, while the holder just
// made (the last one) lives: one of golos's own descriptors (the program's other threads
// are frozen).
func (p *Process) keepConn(conn int) {
	c, err := unix.FcntlInt(uintptr(conn), unix.F_DUPFD_CLOEXEC, vfs.HighFD())
	if err != nil {
		return // the child finishes when its parent's golos ends only by chance
	}
	p.files.own(c)
	holdersMu.Lock()
	holders[len(holders)-1].conn = c
	holdersMu.Unlock()
}

// releaseHolders is this golos's end, or its execve of a new golos, which would not know
// them: a holder it made must not outlive it, or it would be reparented with SIGCHLD for
// its exit signal (kernel/exit.c, reparent_leader) and reaped by a wait of another
// process's (a subreaper's, init's), a child it never had. Each child still served by one
// is told (its socket to this golos closes) to take the rest of its memory at once
// (finishLazy), which ends the holder; this golos waits for that, for a bounded time (a
// child's golos that is stopped cannot answer).
func (p *Process) releaseHolders() {
	holdersMu.Lock()
	defer holdersMu.Unlock()
	for i := range holders {
		if holders[i].conn >= 0 {
			unix.Close(holders[i].conn)
			holders[i].conn = -1
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for _, h := range holders {
		if !p.doomed.has(h.pid) {
			continue
		}
		fd, err := unix.PidfdOpen(h.pid, 0)
		if err != nil {
			continue
		}
		left := time.Until(deadline)
		if left > 0 {
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			for {
				_, err := unix.Poll(pfd, int(left/time.Millisecond)+1)
				if err != unix.EINTR {
					break
				}
			}
		}
		unix.Close(fd)
	}
	holders = reapEnded(p, holders)
}

// reapHolders, called while the program's other threads are frozen, forgets the holders
// that have ended (reapHolder reaped them, or a wait of the program's: they are no longer
// doomed then), closing the copies of their sockets, and reaps those reapHolder has not
// yet, each by its pid.
func (p *Process) reapHolders() {
	holdersMu.Lock()
	defer holdersMu.Unlock()
	holders = reapEnded(p, holders)
}

// closeKept closes a copy keepConn kept, when the program's other threads are frozen.
func (p *Process) closeKept(conn int) {
	if conn >= 0 {
		unix.Close(conn)
		p.dropOwnFD(conn)
	}
}

// reapEnded reaps the holders of hs that have ended and returns the others.
func reapEnded(p *Process, hs []holderKid) []holderKid {
	kept := hs[:0]
	for _, h := range hs {
		pid := h.pid
		if !p.doomed.has(pid) {
			p.closeKept(h.conn)
			continue
		}
		var info [128]byte
		_, _, e := unix.Syscall6(unix.SYS_WAITID, unix.P_PID, uintptr(pid), uintptr(unsafe.Pointer(&info[0])),
			unix.WEXITED|unix.WNOHANG|unix.WALL, 0, 0)
		got := *(*int32)(unsafe.Pointer(&info[16])) // si_pid: 0 while it runs (waitid(2))
		if e == unix.ECHILD || e == 0 && int(got) == pid {
			p.doomed.take(pid)
			p.closeKept(h.conn)
			continue
		}
		kept = append(kept, h)
	}
	return kept
}

// lazyMem is this golos's side of a lazy fork, as the child (one process per golos): the
// userfaultfd, the holder's socket and the regions registered.
var lazyMem struct {
	mu      sync.Mutex
	uffd    int
	sock    int
	regions [][2]uint64
	parent  *os.File // the socket to the parent's golos, watched for its end (watchParent)
	holder  *os.File // a copy of sock, watched for the holder's end (watchHolder)
}

// setupLazy registers the program's private anonymous regions for missing pages and gives
// the holder (over sock, which the child keeps) the userfaultfd. It reports false,
// sock closed, when it cannot: the parent then copies.
func setupLazy(maps []forkMapping, sock int) bool {
	fail := func() bool {
		unix.Close(sock)
		return false
	}
	sock, err := vfs.MoveHigh(sock)
	if err != nil {
		return false
	}
	fd, _, e := unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK, 0, 0)
	if e != 0 {
		return fail()
	}
	uffd, err := vfs.MoveHigh(int(fd))
	if err != nil {
		return fail()
	}
	api := uffdioAPIArg{api: uffdAPI}
	if ioctlPtr(uffd, uffdioAPI, unsafe.Pointer(&api)) != 0 {
		unix.Close(uffd) // its release unregisters what was registered
		return fail()
	}
	var regions [][2]uint64
	for i := range maps {
		m := &maps[i]
		if !lazyRegion(m) {
			continue
		}
		reg := uffdioRegisterArg{start: m.Lo, len: m.Hi - m.Lo, mode: uffdioRegisterModeMissing}
		if ioctlPtr(uffd, uffdioRegister, unsafe.Pointer(&reg)) != 0 {
			unix.Close(uffd)
			return fail()
		}
		regions = append(regions, [2]uint64{m.Lo, m.Hi})
	}
	if err := unix.Sendmsg(sock, []byte{0}, unix.UnixRights(uffd), nil, 0); err != nil {
		unix.Close(uffd)
		return fail()
	}
	lazyMem.uffd, lazyMem.sock, lazyMem.regions = uffd, sock, regions
	return true
}

// ownLazy makes the lazy fork's descriptors golos's own, once the child's Process is made,
// and watches the holder.
func (p *Process) ownLazy() {
	if lazyMem.sock > 0 {
		p.files.own(lazyMem.uffd, lazyMem.sock)
		p.watchHolder()
	}
}

// watchHolder ends the process when its holder ends before the child has its memory (a
// SIGKILL sent to it, the OOM killer's choice): the pages the holder kept are gone, and
// a thread that touches one would wait for the holder's answer for ever. The process
// dies of SIGKILL, as if the OOM killer had chosen it. The holder closes its end only
// once the child's is closed (finishLazy, closeLazy), so an end seen while the memory is
// still the holder's is its death.
func (p *Process) watchHolder() {
	f := p.ownNonblockingCopy(lazyMem.sock, "golos-fork-holder")
	if f == nil {
		return
	}
	lazyMem.holder = f
	onEnd(f, func() {
		if lazyActive() {
			p.note("the fork's memory holder ended before this process had its memory: the process is ended with SIGKILL")
			unix.Kill(unix.Getpid(), unix.SIGKILL)
		}
	})
}

// closeHolderWatch closes watchHolder's copy of the holder's socket (lazyMem.mu held),
// which would keep the holder alive: its read then ends and finds the memory no longer
// the holder's.
func closeHolderWatch() {
	if lazyMem.holder != nil {
		lazyMem.holder.Close()
		lazyMem.holder = nil
	}
}

// finishLazy fetches every page the holder still has for the program and lets it go: the
// regions are populated (MADV_POPULATE_READ: each missing page faults, and the holder
// serves it), then unregistered, so that a page dropped afterwards reads zero as on Linux.
// A page unreadable now (PROT_NONE) is left: it reads zero if made readable later, as the
// eager copy, which cannot read it either, left it.
func (p *Process) finishLazy() {
	fetchVforkLazy() // a vfork child's pages its parent serves, likewise (vforklazy_unsafe.go)
	lazyMem.mu.Lock()
	defer lazyMem.mu.Unlock()
	if lazyMem.sock <= 0 {
		return
	}
	maps, _, err := readMaps()
	if err == nil {
		for _, m := range maps {
			if m.Shared || m.Prot&unix.PROT_READ == 0 {
				continue
			}
			for _, r := range lazyMem.regions {
				lo, hi := max(m.Lo, r[0]), min(m.Hi, r[1])
				if lo < hi {
					unix.Syscall(unix.SYS_MADVISE, uintptr(lo), uintptr(hi-lo), madvPopulateRead)
				}
			}
		}
	}
	if err == nil {
		// Region by region as they are now: one call fails at a mapping that cannot be
		// registered (a file's, mapped over part of one since).
		for _, m := range maps {
			if m.Shared || m.Path != "" {
				continue
			}
			for _, r := range lazyMem.regions {
				if lo, hi := max(m.Lo, r[0]), min(m.Hi, r[1]); lo < hi {
					arg := [2]uint64{lo, hi - lo}
					ioctlPtr(lazyMem.uffd, uffdioUnregister, unsafe.Pointer(&arg))
				}
			}
		}
	}
	// Closed, and the holder with them, once it has read the end (a fault it serves
	// meanwhile is of a page still registered: one that was still missing). The numbers
	// stay golos's: other threads of the program's may be looking at that list now.
	unix.Close(lazyMem.uffd)
	unix.Close(lazyMem.sock)
	closeHolderWatch()
	if lazyMem.parent != nil {
		lazyMem.parent.Close() // the watcher's read ends
	}
	lazyMem.uffd, lazyMem.sock, lazyMem.regions, lazyMem.parent = 0, 0, nil, nil
}

// closeLazy closes the lazy fork's descriptors when an execve in place replaces the memory
// (with no other thread left): the holder ends once the parent has closed its end too.
func (p *Process) closeLazy() {
	lazyMem.mu.Lock()
	defer lazyMem.mu.Unlock()
	if lazyMem.sock <= 0 {
		return
	}
	for _, fd := range []int{lazyMem.uffd, lazyMem.sock} {
		unix.Close(fd)
		p.dropOwnFD(fd)
	}
	if lazyMem.holder != nil {
		p.dropOwnFD(int(lazyMem.holder.Fd()))
	}
	closeHolderWatch()
	if lazyMem.parent != nil {
		fd := int(lazyMem.parent.Fd())
		lazyMem.parent.Close()
		p.dropOwnFD(fd)
	}
	lazyMem.uffd, lazyMem.sock, lazyMem.regions, lazyMem.parent = 0, 0, nil, nil
}

// watchParent keeps conn, the socket to the parent's golos, and takes the rest of the
// memory at once when that golos ends (releaseHolders: its holder must not outlive it).
func (p *Process) watchParent(conn int) {
	if err := unix.SetNonblock(conn, true); err != nil {
		unix.Close(conn)
		return
	}
	f := os.NewFile(uintptr(conn), "golos-fork-parent")
	lazyMem.mu.Lock()
	lazyMem.parent = f
	lazyMem.mu.Unlock()
	onEnd(f, p.finishLazy)
}

// lazyActive reports whether pages of the program's may still be the holder's.
func lazyActive() bool {
	lazyMem.mu.Lock()
	defer lazyMem.mu.Unlock()
	return lazyMem.sock > 0
}

// ownNonblockingCopy copies conn to one of golos's own descriptors, non-blocking, as a
// file the runtime's poller waits on, for a watch of the socket's end (watchHolder,
// watchVforkParent); nil when it cannot.
func (p *Process) ownNonblockingCopy(conn int, name string) *os.File {
	fd, err := unix.FcntlInt(uintptr(conn), unix.F_DUPFD_CLOEXEC, vfs.HighFD())
	if err != nil {
		return nil
	}
	p.files.own(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		p.dropOwnFD(fd)
		return nil
	}
	return os.NewFile(uintptr(fd), name)
}

// onEnd calls then, on a goroutine of its own, once f (a socket golos keeps, which
// carries no data) reads its end: the other side closed it or ended, or golos closed f.
func onEnd(f *os.File, then func()) {
	go func() {
		var b [1]byte
		for {
			if n, err := f.Read(b[:]); n == 0 || err != nil {
				break
			}
		}
		then()
	}()
}
