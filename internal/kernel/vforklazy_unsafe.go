package kernel

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// A vfork(2) child shares its parent's memory on Linux and, in practice, reads a few
// pages of it before it calls execve (posix_spawn's child, Python's _posixsubprocess):
// golos's child got an eager copy of all of it, 4–5 ms of Python's 7 MiB of anonymous
// memory on a loaded machine (docs/performance-analysis.md). So when there is at least
// vforkLazyMin of it, the parent serves the child's private anonymous pages as the child
// touches them, the way the holder serves a lazy fork's (lazyfork_unsafe.go): the
// child's golos registers those regions with a userfaultfd for missing pages (kernel
// mode too: golos's own reads of the program's memory fault as well) and sends it to the
// parent's golos, whose goroutine answers each fault with UFFDIO_COPY of the chunk
// around it from the parent's own memory at the same address. The parent's program
// thread is waiting for the child meanwhile and has no other thread (the condition of
// the write tracking, vforkmem_unsafe.go), so that memory is what the child would share
// on Linux. The same userfaultfd tracks the child's writes (asynchronous write-protect):
// its regions are registered for both, and the pages come in write-protected, so a write
// of the child's is seen as before.
//
// The faults are served by a holder (holder_amd64.s) that shares the parent's memory
// (CLONE_VM): no Go code, a task of its own that keeps the address space alive when the
// parent's golos is killed before its child has called execve (it waits for the child
// otherwise), so that the child goes on, as Linux's vfork child goes on in the memory it
// shares. The child gets the holder's socket and the holder ends when the child closes
// it, at its execve or its end. Where the holder cannot be made (no room under
// RLIMIT_NPROC), the parent's golos serves the faults itself, and a child whose parent's
// golos is gone is ended with SIGKILL (the child's golos watches its socket to the
// parent), as a lazy fork's child whose holder is gone (lazyfork_unsafe.go), rather than
// let it wait for ever on a missing page. The serving stops once the child has called
// execve or ended, after the child has fetched what the parent reads back from it
// (vforkShare).

// vforkLazyMin is how much of the program's private anonymous memory must be there for a
// vfork child to be served its pages: below it the eager copy costs less than the faults
// the child would take (the copy costs about 0.2 ms a MiB, a fault's round trip 20–50 µs).
const vforkLazyMin = 1 << 20

// The kernel's ABI for serving faults (include/uapi/linux/userfaultfd.h).
const (
	uffdEventPagefault = 0x12
	uffdioCopy         = 0xc028aa03 // _IOWR(0xAA, 0x03, struct uffdio_copy)
	uffdioWake         = 0x8010aa02 // _IOR(0xAA, 0x02, struct uffdio_range)
	uffdioCopyModeWP   = 1 << 1
)

type uffdioCopyArg struct {
	dst, src, len, mode uint64
	copied              int64
}

// vforkLazy is a vfork child's side: whether its anonymous memory is served by the
// parent, the userfaultfd and the regions registered for that, and watchVforkParent's
// copy of the socket to the parent.
var vforkLazy struct {
	on      bool
	uffd    int
	regions [][2]uint64
	watch   *os.File
	closing atomic.Bool // the watch is being closed here, not ended by the parent
	holder  int         // the socket to the holder that serves the faults, or -1: the parent's golos does
}

// vforkTracked says whether a write to region m is given back to a vfork's parent
// (vforkmem_unsafe.go, trackWrites): private writable memory that is no code and below
// vforkTrackMax.
func vforkTracked(m *forkMapping) bool {
	return !m.Shared && m.Prot&unix.PROT_WRITE != 0 && m.Prot&unix.PROT_EXEC == 0 && m.Hi-m.Lo < vforkTrackMax
}

// vforkTrackMax bounds the regions whose writes a vfork child gives back. Write-protecting
// a region puts a marker in each of its pages not there yet (UFFD_FEATURE_WP_UNPOPULATED),
// page tables and all: AddressSanitizer's shadow is a few such regions of terabytes
// (mapped with MAP_NORESERVE, almost none of it there), which took the child's golos
// minutes and gigabytes before it could run (`system()` from an ASan program). A write of
// the child's to a larger region stays its own, as in a fork's child.
const vforkTrackMax = 64 << 30

// setupVforkLazy registers the child's private anonymous regions for missing pages (and
// for write protection where trackWrites would track them) with a new userfaultfd, which
// it sends the parent over conn; false if it cannot, and the parent copies everything.
func setupVforkLazy(conn int, maps []forkMapping) bool {
	fd, _, e := unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK, 0, 0)
	if e != 0 {
		return false
	}
	uffd, err := vfs.MoveHigh(int(fd))
	if err != nil {
		return false
	}
	api := uffdioAPIArg{api: uffdAPI, features: uffdFeatureWPAsync | uffdFeatureWPUnpop}
	if ioctlPtr(uffd, uffdioAPI, unsafe.Pointer(&api)) != 0 {
		unix.Close(uffd)
		return false
	}
	var regions [][2]uint64
	for i := range maps {
		m := &maps[i]
		if !lazyRegion(m) {
			continue
		}
		mode := uint64(uffdioRegisterModeMissing)
		if vforkTracked(m) {
			mode |= uffdioRegisterModeWP
		}
		reg := uffdioRegisterArg{start: m.Lo, len: m.Hi - m.Lo, mode: mode}
		if ioctlPtr(uffd, uffdioRegister, unsafe.Pointer(&reg)) != 0 {
			unix.Close(uffd) // its release unregisters what was registered
			return false
		}
		regions = append(regions, [2]uint64{m.Lo, m.Hi})
	}
	if writeMsg(conn, []byte(lazyReady)) != nil || sendFDs(conn, []int{uffd}) != nil {
		unix.Close(uffd)
		return false
	}
	vforkLazy.on, vforkLazy.uffd, vforkLazy.regions, vforkLazy.holder = true, uffd, regions, -1
	return true
}

// recvVforkHolder takes the socket to the holder that serves the faults (startVforkHolder),
// or word that the parent's golos serves them itself.
func (p *Process) recvVforkHolder(conn int) error {
	if !vforkLazy.on {
		return nil
	}
	h, err := recvHolder(conn)
	if err != nil {
		return err
	}
	if h >= 0 {
		if h, err = vfs.MoveHigh(h); err != nil {
			return fmt.Errorf("the vfork holder's socket: %w", err)
		}
		p.files.own(h) // golos's, until the execve (endVforkLazy)
	}
	vforkLazy.holder = h
	return nil
}

// startVforkHolder makes the holder that serves a vfork child's faults on uffd (the
// child's userfaultfd) from this process's memory, which it shares; it returns this
// golos's end of the holder's socket, for the child, or -1 when it cannot make one.
func (p *Process) startVforkHolder(uffd int) int {
	p.reapHolders()
	// Two tasks more, as for a fork's holder (startHolder).
	if !p.taskRoom(golosThreads + 2) {
		return -1
	}
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	a, err := vfs.MoveHigh(sp[0])
	if err != nil {
		unix.Close(sp[1])
		return -1
	}
	b, err := vfs.MoveHigh(sp[1]) // the holder closes every descriptor but this one
	if err != nil {
		unix.Close(a)
		return -1
	}
	defer unix.Close(b)
	stack, e := rawMmap(0, holderStack, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, -1, 0)
	if e != 0 {
		unix.Close(a)
		return -1
	}
	r := holderClone(uintptr(b), lazyChunk, uintptr(stack), uffdioCopyModeWP)
	if r < 0 {
		unix.RawSyscall(unix.SYS_MUNMAP, uintptr(stack), holderStack, 0)
		unix.Close(a)
		return -1
	}
	p.heldBy(int(r)) // its stack is its own to unmap
	if sendFDs(a, []int{uffd}) != nil {
		unix.Close(a) // the holder ends at EOF
		return -1
	}
	return a
}

// vforkLazyRegion says whether region m's pages come from the parent.
func vforkLazyRegion(m *forkMapping) bool {
	if !vforkLazy.on {
		return false
	}
	for _, r := range vforkLazy.regions {
		if r[0] == m.Lo && r[1] == m.Hi {
			return true
		}
	}
	return false
}

// watchVforkParent watches conn, the socket to the parent's golos, for its end while the
// parent serves the memory: the child is then ended with SIGKILL. The watch peeks, so
// that the replies vforkShare reads stay there, and its copy of conn is closed with conn
// (endVforkLazy): the parent's wait for the child's execve ends when both are. The copy
// waits in the runtime's poller, non-blocking, and so is conn, whose open file it shares:
// vforkShare's reads and writes wait for it with poll (readFull, writeFull).
func (p *Process) watchVforkParent(conn int) {
	if !vforkLazy.on {
		return
	}
	p.files.own(vforkLazy.uffd) // golos's, until the execve (endVforkLazy)
	if vforkLazy.holder >= 0 {
		return // the holder serves the memory whether the parent's golos lives or not
	}
	f := p.ownNonblockingCopy(conn, "golos-vfork-parent")
	if f == nil {
		return
	}
	rc, err := f.SyscallConn()
	if err != nil {
		p.dropOwnFD(int(f.Fd()))
		f.Close()
		return
	}
	vforkLazy.watch = f
	go func() {
		var b [1]byte
		ended := false
		rc.Read(func(s uintptr) bool {
			n, _, err := unix.Recvfrom(int(s), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
			ended = n == 0 && err == nil
			return ended || (err != nil && err != unix.EAGAIN)
		})
		if ended && !vforkLazy.closing.Load() {
			p.note("the vfork parent's golos ended before this process had its memory: the process is ended with SIGKILL")
			unix.Kill(unix.Getpid(), unix.SIGKILL)
		}
	}()
}

// endVforkLazy ends the serving on the child's side, as its execve replaces the memory:
// its userfaultfd and the watch of the parent are closed.
func (p *Process) endVforkLazy() {
	if !vforkLazy.on {
		return
	}
	if vforkLazy.watch != nil {
		vforkLazy.closing.Store(true)
		fd := int(vforkLazy.watch.Fd())
		vforkLazy.watch.Close()
		p.dropOwnFD(fd)
	}
	if vforkLazy.uffd > 0 {
		unix.Close(vforkLazy.uffd)
		p.dropOwnFD(vforkLazy.uffd)
	}
	if vforkLazy.holder >= 0 {
		unix.Close(vforkLazy.holder) // the holder ends
		p.dropOwnFD(vforkLazy.holder)
	}
	vforkLazy.on, vforkLazy.uffd, vforkLazy.regions, vforkLazy.watch, vforkLazy.holder = false, 0, nil, nil, -1
}

// fetchForParent makes the pages of [lo, hi) that the parent will read back from the
// child (vforkShare) present, fetching those still missing from the parent while it
// serves them: its process_vm_readv of the child would otherwise meet missing pages.
func fetchForParent(lo, hi uint64) {
	if vforkLazy.on && lo < hi {
		unix.Syscall(unix.SYS_MADVISE, uintptr(lo), uintptr(hi-lo), madvPopulateRead)
	}
}

// serveVforkFaults answers the faults of a vfork child's golos on its userfaultfd uffd
// (received from it, one of this golos's descriptors) from this process's own memory,
// for the regions maps; the function it returns stops serving and closes uffd.
func serveVforkFaults(uffd int, maps []forkMapping) (stop func()) {
	f := os.NewFile(uintptr(uffd), "golos-vfork-userfaultfd") // non-blocking: pollable
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		zero := make([]byte, pageSize)
		var msg [32]byte // struct uffd_msg
		for {
			var n int
			var rerr error
			err := rc.Read(func(fd uintptr) bool {
				n, rerr = unix.Read(int(fd), msg[:])
				if rerr == unix.EAGAIN {
					return false
				}
				if rerr == nil && n == len(msg) && msg[0] == uffdEventPagefault {
					serveVforkFault(int(fd), binary.LittleEndian.Uint64(msg[16:]), maps, zero)
				}
				return true
			})
			if err != nil || (rerr != nil && rerr != unix.EINTR) {
				return // closed (stop), or the child's end is gone
			}
		}
	}()
	return func() {
		f.Close()
		<-done
	}
}

// serveVforkFault copies the lazyChunk around addr (within its region) from this
// process's memory into the child's; where a page of that chunk is there already, or
// this process cannot read one, the faulting page alone (a zero page for an unreadable
// one, as the holder does).
func serveVforkFault(uffd int, addr uint64, maps []forkMapping, zero []byte) {
	page := addr &^ (pageSize - 1)
	lo, hi := page, page+pageSize
	var mode uint64
	for i := range maps {
		m := &maps[i]
		if page >= m.Lo && page < m.Hi {
			lo, hi = max(m.Lo, page&^(lazyChunk-1)), min(m.Hi, page&^(lazyChunk-1)+lazyChunk)
			if vforkTracked(m) {
				mode = uffdioCopyModeWP // a write of the child's is tracked (trackWrites)
			}
			break
		}
	}
	copyIn := func(dst, src, n uint64) unix.Errno {
		for try := 0; ; try++ {
			arg := uffdioCopyArg{dst: dst, src: src, len: n, mode: mode}
			e := ioctlPtr(uffd, uffdioCopy, unsafe.Pointer(&arg))
			if e != unix.EAGAIN || try == 10 { // EAGAIN: the child's mappings are changing
				return e
			}
		}
	}
	if copyIn(lo, lo, hi-lo) == 0 {
		return
	}
	switch copyIn(page, page, pageSize) {
	case unix.EEXIST:
		r := [2]uint64{page, pageSize}
		ioctlPtr(uffd, uffdioWake, unsafe.Pointer(&r))
	case unix.EFAULT:
		copyIn(page, uint64(uintptr(unsafe.Pointer(&zero[0]))), pageSize)
	}
}

// trackWritesLazy is trackWrites for a child whose anonymous memory the parent serves:
// the userfaultfd is the one registered for that, for write protection too; the other
// regions it registers, and it protects them all as trackWrites does. A page not there
// yet gets a marker (UFFD_FEATURE_WP_UNPOPULATED), so that PAGEMAP_SCAN does not count it
// written; a fault on it is still one for a missing page (mm/memory.c,
// pte_marker_handle_uffd_wp: do_pte_missing), and the page the parent copies in comes
// write-protected.
func (p *Process) trackWritesLazy(maps []forkMapping) {
	var regions [][2]uint64
	for i := range maps {
		m := &maps[i]
		if !vforkTracked(m) {
			continue
		}
		if !vforkLazyRegion(m) {
			reg := uffdioRegisterArg{start: m.Lo, len: m.Hi - m.Lo, mode: uffdioRegisterModeWP}
			if ioctlPtr(vforkLazy.uffd, uffdioRegister, unsafe.Pointer(&reg)) != 0 {
				continue
			}
		}
		wp := uffdioWriteprotectArg{start: m.Lo, len: m.Hi - m.Lo, mode: uffdioWPModeWP}
		if ioctlPtr(vforkLazy.uffd, uffdioWriteprotect, unsafe.Pointer(&wp)) != 0 {
			continue
		}
		regions = append(regions, [2]uint64{m.Lo, m.Hi})
	}
	vforkWrites.uffd, vforkWrites.regions = 0, regions
}

// fetchVforkLazy fetches every page the parent still has to serve, before what
// finishLazy comes before: a fork of the child's own (the new child's copy is made of the
// pages present), an mremap or an madvise that drops pages. The registration stays the
// parent's, so a page dropped afterwards is served again from the parent's memory, and a
// region grown by mremap from the parent's at the new addresses, where Linux's vfork
// child would share the parent's pages (POSIX leaves a vfork child that does anything
// but execve or _exit undefined).
func fetchVforkLazy() {
	if !vforkLazy.on {
		return
	}
	for _, r := range vforkLazy.regions {
		unix.Syscall(unix.SYS_MADVISE, uintptr(r[0]), uintptr(r[1]-r[0]), madvPopulateRead)
	}
}
