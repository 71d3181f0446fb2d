package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
	"golos/internal/vfs"
)

// getFSBase is the calling thread's FS base, as the host reports it (arch_prctl(2)
// ARCH_GET_FS): on an application thread's OS thread, the application's.
func getFSBase() (uint64, unix.Errno) {
	var v uint64
	_, _, e := unix.RawSyscall(unix.SYS_ARCH_PRCTL, archGetFS, uintptr(unsafe.Pointer(&v)), 0)
	return v, e
}

// processName is the calling thread's comm (prctl(2) PR_GET_NAME), which fork(2) copies.
func processName() string {
	var b [16]byte
	unix.RawSyscall6(unix.SYS_PRCTL, unix.PR_GET_NAME, uintptr(unsafe.Pointer(&b[0])), 0, 0, 0, 0)
	n := 0
	for n < len(b) && b[n] != 0 {
		n++
	}
	return string(b[:n])
}

// Messages between a parent's golos and its child's: a 4-byte length and as many bytes.
// A reply is empty for success, or the text of the error.

func writeMsg(fd int, data []byte) error {
	var h [4]byte
	binary.LittleEndian.PutUint32(h[:], uint32(len(data)))
	if err := writeFull(fd, h[:]); err != nil {
		return err
	}
	return writeFull(fd, data)
}

func writeFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Write(fd, b)
		if err == unix.EINTR || err == unix.EAGAIN && waitFor(fd, unix.POLLOUT) {
			continue
		}
		if err != nil {
			return fmt.Errorf("write to the other golos: %w", err)
		}
		b = b[n:]
	}
	return nil
}

func readMsg(fd int) ([]byte, error) {
	var h [4]byte
	if err := readFull(fd, h[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(h[:])
	if n > 1<<30 {
		return nil, fmt.Errorf("read from the other golos: a message of %d bytes", n)
	}
	b := make([]byte, n)
	return b, readFull(fd, b)
}

func readFull(fd int, b []byte) error {
	for len(b) > 0 {
		n, err := unix.Read(fd, b)
		if err == unix.EINTR || err == unix.EAGAIN && waitFor(fd, unix.POLLIN) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read from the other golos: %w", err)
		}
		if n == 0 {
			return fmt.Errorf("read from the other golos: %w", unix.EPIPE)
		}
		b = b[n:]
	}
	return nil
}

// waitFor waits until fd is ready for events (poll(2)): a socket made non-blocking by a
// watcher of its end that shares its open file (vforklazy_unsafe.go,
// watchVforkParent). It reports false if it cannot wait.
func waitFor(fd int, events int16) bool {
	for {
		_, err := unix.Poll([]unix.PollFd{{Fd: int32(fd), Events: events}}, -1)
		if err != unix.EINTR {
			return err == nil
		}
	}
}

// readReply reads a reply: nil, or the other side's error.
func readReply(fd int) error {
	b, err := readMsg(fd)
	if err != nil {
		return err
	}
	if len(b) > 0 {
		return errors.New(string(b))
	}
	return nil
}

// fdBatch is how many descriptors go in one SCM_RIGHTS message (Linux takes up to 253,
// SCM_MAX_FD).
const fdBatch = 250

// sendFDs sends fds in batches, each with one byte of data.
func sendFDs(conn int, fds []int) error {
	for len(fds) > 0 {
		n := min(len(fds), fdBatch)
		if err := unix.Sendmsg(conn, []byte{byte(n)}, unix.UnixRights(fds[:n]...), nil, 0); err != nil {
			return fmt.Errorf("send descriptors to the child: %w", err)
		}
		fds = fds[n:]
	}
	return nil
}

// recvFDs receives n descriptors sent by sendFDs.
func recvFDs(conn, n int) ([]int, error) {
	var out []int
	for len(out) < n {
		var b [1]byte
		oob := make([]byte, unix.CmsgSpace(4*fdBatch))
		_, oobn, _, _, err := unix.Recvmsg(conn, b[:], oob, unix.MSG_CMSG_CLOEXEC)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("receive descriptors: %w", err)
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			return out, fmt.Errorf("receive descriptors: %w", err)
		}
		got := 0
		for _, m := range msgs {
			fds, err := unix.ParseUnixRights(&m)
			if err == nil {
				out = append(out, fds...)
				got += len(fds)
			}
		}
		if got != int(b[0]) {
			return out, fmt.Errorf("receive descriptors: %d of %d came", got, b[0])
		}
	}
	return out, nil
}

// pagemap bits (Documentation/admin-guide/mm/pagemap.rst).
const (
	pmPresent  = 1 << 63
	pmSwapped  = 1 << 62
	pmFileOrSh = 1 << 61 // a page of a file (or shared anonymous memory), not the process's own
)

// planCopy lists what the child gets written of its private regions, the contents their
// files do not hold: for a region mapped again from its file, the pages the process has
// written (its own copies, pagemap's anonymous pages); for an anonymous region, every
// page that exists; for a copied file region, every page. It marks the large anonymous
// regions that are almost all there Huge: the child backs them with transparent huge
// pages, which it faults in 512 times less often while they are written. With lazy, the
// regions the holder serves (lazyfork_unsafe.go) are left out.
func planCopy(pm int, maps []forkMapping, lazy bool) ([]rawIovec, error) {
	if pm < 0 {
		return nil, fmt.Errorf("/proc/self/pagemap could not be opened: %w", unix.ENOMEM)
	}
	var runs []rawIovec
	add := func(addr, n uint64) {
		if k := len(runs); k > 0 && runs[k-1].base+runs[k-1].len == addr {
			runs[k-1].len += n
			return
		}
		runs = append(runs, rawIovec{addr, n})
	}
	ents := make([]byte, 8*4096)
	for mi := range maps {
		m := &maps[mi]
		if m.Shared || m.Prot&unix.PROT_READ == 0 {
			// Shared memory is the same file in the child. Unreadable pages cannot be
			// read here without changing their protection; only a program that wrote
			// them and then took its own access away would miss them.
			continue
		}
		if lazy && lazyRegion(m) || m.Wipe {
			continue
		}
		if m.Copy {
			add(m.Lo, m.Hi-m.Lo)
			continue
		}
		var present uint64
		if scanPages(pm, m.Lo, m.Hi, func(start, end, cats uint64) {
			if ownPages(cats) {
				add(start, end-start)
				present += (end - start) / pageSize
			}
		}) {
			const hugeMin = 4 << 20
			m.Huge = m.Path == "" && m.Hi-m.Lo >= hugeMin && present*pageSize >= (m.Hi-m.Lo)/10*9
			continue
		}
		for lo := m.Lo; lo < m.Hi; {
			n := min((m.Hi-lo)/pageSize, uint64(len(ents)/8))
			b := ents[:8*n]
			if _, err := unix.Pread(pm, b, int64(lo/pageSize*8)); err != nil {
				return nil, fmt.Errorf("read /proc/self/pagemap: %w", err)
			}
			for i := uint64(0); i < n; i++ {
				e := binary.LittleEndian.Uint64(b[8*i:])
				if e&pmSwapped != 0 || e&pmPresent != 0 && e&pmFileOrSh == 0 {
					add(lo+i*pageSize, pageSize)
					present++
				}
			}
			lo += n * pageSize
		}
		const hugeMin = 4 << 20
		m.Huge = m.Path == "" && m.Hi-m.Lo >= hugeMin && present*pageSize >= (m.Hi-m.Lo)/10*9
	}
	return runs, nil
}

// copyMemory writes the runs of planCopy into the child (pid).
func copyMemory(pid int, runs []rawIovec) error {
	w := vmWriter{pid: pid}
	for _, r := range runs {
		if err := w.add(r.base, r.len); err != nil {
			return err
		}
	}
	return w.flush()
}

// vmWriter gathers runs of pages for process_vm_writev(2), which writes at the same
// addresses in the child as it reads here: one iovec array serves both sides.
type vmWriter struct {
	pid  int
	iovs []rawIovec
}

// rawIovec is struct iovec: an address of the program's, never one golos dereferences.
type rawIovec struct{ base, len uint64 }

func (w *vmWriter) add(addr, n uint64) error {
	if k := len(w.iovs); k > 0 && w.iovs[k-1].base+w.iovs[k-1].len == addr {
		w.iovs[k-1].len += n
		return nil
	}
	if len(w.iovs) == 1024 { // UIO_MAXIOV
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.iovs = append(w.iovs, rawIovec{addr, n})
	return nil
}

func (w *vmWriter) flush() error {
	for len(w.iovs) > 0 {
		var total uint64
		for _, v := range w.iovs {
			total += v.len
		}
		iov := unsafe.Pointer(&w.iovs[0])
		n, _, e := unix.Syscall6(unix.SYS_PROCESS_VM_WRITEV, uintptr(w.pid), uintptr(iov), uintptr(len(w.iovs)),
			uintptr(iov), uintptr(len(w.iovs)), 0)
		if e == unix.EINTR {
			continue
		}
		if e != 0 {
			return fmt.Errorf("copy memory to the child at %#x: %w", w.iovs[0].base, e)
		}
		if uint64(n) == total {
			break
		}
		if n == 0 {
			return fmt.Errorf("copy memory to the child at %#x: %w", w.iovs[0].base, unix.EFAULT)
		}
		// A partial write: drop what was written and go on with the rest.
		left := uint64(n)
		for left > 0 {
			if w.iovs[0].len <= left {
				left -= w.iovs[0].len
				w.iovs = w.iovs[1:]
				continue
			}
			w.iovs[0].base += left
			w.iovs[0].len -= left
			left = 0
		}
	}
	w.iovs = w.iovs[:0]
	return nil
}

// mapStubPageAt makes a stub page with contents data at at, as the parent's is (its
// rewritten sites jump there); it returns the page's writable view.
func mapStubPageAt(at uint64, data []byte) (uint64, error) {
	b, err := unix.Mmap(-1, 0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		return 0, fmt.Errorf("map a stub page: %w", err)
	}
	copy(b, data)
	alias := uint64(uintptr(unsafe.Pointer(&b[0])))
	if !showStubPage(alias, at) {
		return 0, fmt.Errorf(placeTaken+"the stub page at %#x in the child: %w", at, unix.EEXIST)
	}
	return alias, nil
}

// openPagemap opens /proc/self/pagemap among golos's own descriptors, or returns -1. It is
// opened at the start: once the program changes its user (setuid(2)) the process is no
// longer dumpable and its /proc files belong to root, so that it could not open it then.
func openPagemap() int {
	fd, err := unix.Open("/proc/self/pagemap", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	hi, err := vfs.MoveHigh(fd)
	if err != nil {
		return -1
	}
	return hi
}

// copyFromChild copies [lo, hi) of the child's memory into the same addresses of this
// process's (process_vm_readv(2)).
func copyFromChild(pid int, lo, hi uint64) {
	iov := []rawIovec{{lo, hi - lo}}
	unix.Syscall6(unix.SYS_PROCESS_VM_READV, uintptr(pid), uintptr(unsafe.Pointer(&iov[0])), 1,
		uintptr(unsafe.Pointer(&iov[0])), 1, 0)
}

// regsWords is the registers as the 18 words they are (entry.Regs, in mcontext's order),
// for the fork state's layout.
func regsWords(r *entry.Regs) *[18]uint64 { return (*[18]uint64)(unsafe.Pointer(r)) }

// entry.Regs is exactly 18 words: both of these fail to compile otherwise.
var (
	_ [unsafe.Sizeof(entry.Regs{}) - 18*8]byte
	_ [18*8 - unsafe.Sizeof(entry.Regs{})]byte
)
