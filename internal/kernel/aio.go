package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"
)

// Linux AIO (io_setup(2), io_submit(2), io_getevents(2), io_pgetevents, io_cancel(2),
// io_destroy(2)): the host's, with two things of golos's. io_setup maps the context's
// completion ring in the caller's memory where the kernel chooses (fs/aio.c,
// aio_setup_ring; the context's id is the ring's address), which is among golos's own
// mappings: golos moves the ring into the program's area (the kernel follows a ring's
// mremap, aio_ring_mremap, and the id becomes the new address) and records it as the
// program's memory, and io_destroy, which unmaps it, forgets it. io_submit's control
// blocks name descriptors, which must not reach golos's own (EBADF, as for any call on
// one) nor those golos answers for itself (a signalfd, a directory golos lists itself:
// EINVAL, as for a file without asynchronous I/O).

// iocb is the layout of struct iocb (include/uapi/linux/aio_abi.h): the offsets of the
// descriptor, the flags and the eventfd to notify.
const (
	iocbSize     = 64
	iocbFildes   = 20
	iocbFlags    = 56
	iocbResfd    = 60
	iocbFlagResd = 1 // IOCB_FLAG_RESFD
)

// io_setup(2).
func sysIoSetup(t *Thread) int64 {
	ctxp := t.arg(1)
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	r := passthroughFast(t)
	if r != 0 {
		return r
	}
	var b [8]byte
	if copyIn(ctxp, b[:]) != 0 {
		return r // the host wrote it: unreadable now only after a racing munmap
	}
	ring := binary.LittleEndian.Uint64(b[:])
	hi := ring + pageSize
	if maps, _, err := readMaps(); err == nil {
		for _, e := range maps {
			if e.Lo == ring {
				hi = e.Hi
			}
		}
	}
	if moved, ok := m.moveRing(ring, hi-ring); ok {
		binary.LittleEndian.PutUint64(b[:], moved)
		if copyOut(ctxp, b[:]) == 0 {
			hi, ring = moved+hi-ring, moved
		} else {
			// The program cannot learn the new id: put the ring back where the id says.
			passthroughRaw(unix.SYS_MREMAP, moved, hi-ring, hi-ring, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, ring, 0)
			m.owned.remove(moved, moved+hi-ring)
		}
	}
	m.owned.add(ring, hi)
	m.notePeak()
	m.data.remove(ring, hi)
	return r
}

// moveRing moves an AIO ring of size bytes at ring to place's choice in the program's
// area, reporting where. Caller holds m.mu.
func (m *addressSpace) moveRing(ring, size uint64) (uint64, bool) {
	at, ok := m.placeClaimed(size)
	if !ok {
		return 0, false
	}
	if r := passthroughRaw(unix.SYS_MREMAP, ring, size, size, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, at, 0); r < 0 {
		unix.RawSyscall(unix.SYS_MUNMAP, uintptr(at), uintptr(size), 0) // claimFree's reservation
		m.owned.remove(at, at+size)
		return 0, false
	}
	return at, true
}

// aioRing reports whether m, a line of /proc/self/maps, is an AIO context's ring, whose
// file is "[aio]" on the kernel's internal aio file system, always deleted (fs/aio.c,
// aio_private_file).
func aioRing(m forkMapping) bool {
	return m.Shared && m.Path == "/[aio] (deleted)"
}

// io_destroy(2): the host unmaps the ring (fs/aio.c, kill_ioctx); golos forgets it.
func sysIoDestroy(t *Thread) int64 {
	ring := t.arg(0)
	m := t.p.mm
	m.mu.Lock()
	defer m.mu.Unlock()
	var hi uint64
	if maps, _, err := readMaps(); err == nil {
		for _, e := range maps {
			if e.Lo == ring && aioRing(e) {
				hi = e.Hi
			}
		}
	}
	r := passthrough(t) // waits for the context's requests in flight
	if r == 0 && hi != 0 {
		m.owned.remove(ring, hi)
	}
	return r
}

// io_submit(2): each control block's descriptor (and eventfd, with IOCB_FLAG_RESFD) is
// checked before the host sees it. As on Linux (fs/aio.c, io_submit), the blocks before
// the first bad one are submitted and their number returned; a bad first block fails the
// call. A block that cannot be read is left to the host, which fails at the same place.
func sysIoSubmit(t *Thread) int64 {
	ctx, nr, iocbpp := t.arg(0), int64(t.arg(1)), t.arg(2)
	if nr < 0 {
		return -int64(unix.EINVAL)
	}
	good, bad := nr, unix.Errno(0)
	for i := int64(0); i < nr && bad == 0; i++ {
		var pb [8]byte
		var cb [iocbSize]byte
		if copyIn(iocbpp+uint64(i)*8, pb[:]) != 0 || copyIn(binary.LittleEndian.Uint64(pb[:]), cb[:]) != 0 {
			good = nr
			break
		}
		bad = t.p.aioFD(int(int32(binary.LittleEndian.Uint32(cb[iocbFildes:]))))
		if bad == 0 && binary.LittleEndian.Uint32(cb[iocbFlags:])&iocbFlagResd != 0 {
			bad = t.p.aioFD(int(int32(binary.LittleEndian.Uint32(cb[iocbResfd:]))))
		}
		if bad != 0 {
			good = i
		}
	}
	if good == 0 && bad != 0 {
		return -int64(bad)
	}
	return passthroughRaw(unix.SYS_IO_SUBMIT, ctx, uint64(good), iocbpp, 0, 0, 0)
}

// aioFD says what asynchronous I/O on fd gets from golos: EBADF for golos's own, EINVAL
// for one whose calls golos answers itself (p.fdDirs), 0 for the others.
func (p *Process) aioFD(fd int) unix.Errno {
	if p.ownFD(fd) {
		return unix.EBADF
	}
	if _, ok := p.files.fdDirs.Load(fd); ok {
		return unix.EINVAL
	}
	return 0
}

// io_pgetevents: io_getevents with a signal mask, given as the address and size of one
// in the struct its sixth argument points at (struct __aio_sigset; fs/aio.c).
func sysIoPgetevents(t *Thread) int64 {
	if t.arg(5) == 0 {
		return passthroughWait(t)
	}
	mask, has, e := readMaskPack(t.arg(5))
	if e != 0 {
		return -int64(e)
	}
	if !has {
		return passthroughWait(t)
	}
	return t.callWithMask(mask, 5)
}
