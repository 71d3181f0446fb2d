package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// The program's /proc/self/mem (proc(5)) is the host's, since golos and the program are
// one process, but golos's own memory must look unmapped through it as everywhere else: a
// read or write there fails with EIO, as Linux's mem_rw answers for an address nothing is
// mapped at, and one that runs into it stops where it begins. Without this a program
// could write over golos's code or heap through the file (/proc/self/mem writes ignore
// page protections). Its descriptors are watched (procMem), so that their reads and
// writes come to golos even from a rewritten site (entry.GoFDs).

// procMem marks a descriptor of the program's /proc/self/mem, /proc/PID/mem or a
// thread's (a value of fileTable.fdDirs).
type procMem struct{}

// procMemArg is the descriptor in the first argument when it is one of /proc/self/mem.
func (t *Thread) procMemArg() (int, bool) {
	w, fd := watchedArg[procMem](t)
	return fd, w != nil
}

// programSpan is how many of the n bytes from addr on lie in memory of the program's (its
// mappings, and the vDSO's, which /proc/self/maps shows it), without a gap.
func (p *Process) programSpan(addr, n uint64) uint64 {
	end := addr + n
	if end < addr || end > userEnd {
		end = userEnd
	}
	if addr >= end {
		return 0
	}
	var mine ranges
	p.mm.mu.Lock()
	p.mm.syncStack()
	for _, r := range p.mm.owned.intersect(addr, end) {
		mine.add(r[0], r[1])
	}
	p.mm.mu.Unlock()
	if parts, err := p.vdsoParts(); err == nil {
		for _, m := range parts {
			mine.add(max(m.Lo, addr), min(m.Hi, end))
		}
	}
	at := addr
	for _, r := range mine.intersect(addr, end) {
		if r[0] != at {
			break
		}
		at = r[1]
	}
	return at - addr
}

// memIO reads (pread64) or writes (pwrite64) the program's buffers vecs through fd, a
// descriptor of /proc/self/mem, at off, or at and then past the file's position when
// atPos, as far as the program's memory goes on from off: none of it is EIO.
func (t *Thread) memIO(fd int, write bool, vecs [][2]uint64, off uint64, atPos bool) int64 {
	if !atPos && int64(off) < 0 {
		return -int64(unix.EINVAL) // fs/read_write.c: a negative position
	}
	if atPos {
		pos := passthroughRaw(unix.SYS_LSEEK, uint64(fd), 0, unix.SEEK_CUR, 0, 0, 0)
		if pos < 0 {
			return pos
		}
		off = uint64(pos)
	}
	nr := uint64(unix.SYS_PREAD64)
	if write {
		nr = unix.SYS_PWRITE64
	}
	var done uint64
	var ret int64
	for _, v := range vecs {
		if v[1] == 0 {
			continue
		}
		n := t.p.programSpan(off+done, v[1])
		if n == 0 {
			ret = -int64(unix.EIO)
			break
		}
		r := passthroughRaw(nr, uint64(fd), v[0], n, off+done, 0, 0)
		if r < 0 {
			ret = r
			break
		}
		done += uint64(r)
		if uint64(r) < v[1] {
			break
		}
	}
	if done == 0 && ret < 0 {
		return ret
	}
	if atPos {
		passthroughRaw(unix.SYS_LSEEK, uint64(fd), off+done, unix.SEEK_SET, 0, 0, 0)
	}
	return int64(done)
}

// memIOv is memIO for the iovec array at iovAddr of n entries (readv(2) and the like).
func (t *Thread) memIOv(fd int, write bool, iovAddr, n, off uint64, atPos bool) int64 {
	if n > 1024 { // UIO_MAXIOV
		return -int64(unix.EINVAL)
	}
	raw := make([]byte, 16*n)
	if e := copyIn(iovAddr, raw); e != 0 {
		return -int64(e)
	}
	vecs := make([][2]uint64, n)
	for i := range vecs {
		vecs[i] = [2]uint64{binary.LittleEndian.Uint64(raw[16*i:]), binary.LittleEndian.Uint64(raw[16*i+8:])}
		if int64(vecs[i][1]) < 0 {
			return -int64(unix.EINVAL)
		}
	}
	return t.memIO(fd, write, vecs, off, atPos)
}

// pread64(2) and pwrite64(2).
func sysPread64(t *Thread) int64 {
	if fd, ok := t.procMemArg(); ok {
		return t.memIO(fd, false, [][2]uint64{{t.arg(1), t.arg(2)}}, t.arg(3), false)
	}
	if ps, fd := t.procSnapshotArg(); ps != nil {
		return t.readProcSnapshot(fd, ps, int64(t.arg(3)))
	}
	return passthrough(t)
}

func sysPwrite64(t *Thread) int64 {
	if fd, ok := t.procMemArg(); ok {
		return t.memIO(fd, true, [][2]uint64{{t.arg(1), t.arg(2)}}, t.arg(3), false)
	}
	if ps, _ := t.procSnapshotArg(); ps != nil {
		// A seq_file cannot be written at an offset (fs/seq_file.c, seq_open clears
		// FMODE_PWRITE), which fs/read_write.c's ksys_pwrite64 answers before it looks
		// at the access mode: ESPIPE, where the memfd would say EBADF.
		return -int64(unix.ESPIPE)
	}
	return passthrough(t)
}

// writev(2), pwritev(2) and pwritev2(2) (at the position for an offset of -1; its flags
// are a plain file's to ignore here).
func sysWritev(t *Thread) int64 {
	if fd, ok := t.procMemArg(); ok {
		switch t.ctx.Regs.RAX {
		case unix.SYS_WRITEV:
			return t.memIOv(fd, true, t.arg(1), t.arg(2), 0, true)
		default:
			return t.memIOv(fd, true, t.arg(1), t.arg(2), t.arg(3), int64(t.arg(3)) == -1 && t.ctx.Regs.RAX == unix.SYS_PWRITEV2)
		}
	}
	return passthrough(t)
}

// preadv(2) (readv and preadv2 are sysReadv's, which comes here for /proc/self/mem).
func sysPreadv(t *Thread) int64 {
	if fd, ok := t.procMemArg(); ok {
		return t.memIOv(fd, false, t.arg(1), t.arg(2), t.arg(3), false)
	}
	if ps, fd := t.procSnapshotArg(); ps != nil {
		return t.readProcSnapshot(fd, ps, int64(t.arg(3)))
	}
	return passthrough(t)
}

// process_vm_readv(2) and process_vm_writev(2) on the program's own process (its pid or
// a thread's) are the host's, but golos's memory looks unmapped on the remote side, as
// through /proc/self/mem: the transfer stops before the first remote element that is not
// all the program's, which Linux's does at an element with an unmapped page ("partial
// transfers apply at the granularity of iovec elements"), or fails with EFAULT if that
// is the first. Another process's memory stays refused (whyPtrace).
func sysProcessVmReadv(t *Thread) int64 { return t.processVM() }

func sysProcessVmWritev(t *Thread) int64 { return t.processVM() }

func (t *Thread) processVM() int64 {
	nr := uint64(uint32(t.ctx.Regs.RAX))
	pid, lcnt, riov, rcnt, flags := int(int32(t.arg(0))), t.arg(2), t.arg(3), t.arg(4), t.arg(5)
	const uioMaxIOV = 1024
	if flags != 0 || lcnt > uioMaxIOV || rcnt > uioMaxIOV {
		return -int64(unix.EINVAL) // mm/process_vm_access.c, process_vm_rw
	}
	if pid != selfPid && t.p.thread(pid) == nil {
		if pid <= 0 || unix.Kill(pid, 0) == unix.ESRCH || holderPid(pid) {
			return -int64(unix.ESRCH)
		}
		t.p.unsupported(syscallName(nr)+" of another process", whyPtrace)
		return -int64(unix.EPERM)
	}
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	m.syncStack()
	b := make([]byte, 16*rcnt)
	if e := copyIn(riov, b); e != 0 {
		return -int64(e)
	}
	n := rcnt
	for i := range rcnt {
		base, l := binary.LittleEndian.Uint64(b[16*i:]), binary.LittleEndian.Uint64(b[16*i+8:])
		if l != 0 && (base+l < base || !m.owned.contains(base, base+l)) {
			n = i
			break
		}
	}
	if n == 0 && rcnt != 0 {
		return -int64(unix.EFAULT)
	}
	return passthroughRaw(nr, t.arg(0), t.arg(1), lcnt, riov, n, 0)
}
