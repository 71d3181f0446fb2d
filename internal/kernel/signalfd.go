package kernel

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
)

// signalfd(2) and signalfd4(2), virtualised. The program's signals are golos's own
// (signal.go), so the host's signalfd, which reads the host's signals of golos's process,
// cannot serve. A signalfd is instead a host eventfd(2) the program holds, which golos
// keeps readable exactly while a signal of its mask is pending (signalfdsChanged), so that
// poll(2), select(2) and epoll(7) on it answer as Linux's; golos watches the descriptor
// (watchFD) so that a read(2) of it reaches Go (sysRead), where it dequeues the pending
// signals of the mask as struct signalfd_siginfo records (fs/signalfd.c).
//
// What is not as on Linux: /proc/self/fdinfo shows an eventfd's fields (readlink of
// /proc/self/fd/N names a signalfd: signalfdLink); a signal pending for one thread makes the
// descriptor readable for every thread, where Linux's poll looks at the polling thread's
// own pending signals and the process's; a read gives the reader's own and the process's.

// signalfd is one signalfd's open file: its descriptors share it (dup(2)).
type signalfd struct {
	// Under the process's sig.mu:
	mask  uint64       // the signals it reads; never SIGKILL or SIGSTOP
	fds   map[int]bool // the program's descriptors of it
	ready bool         // its eventfd's counter is 1 (readable), else 0
}

// sizeofSignalfdSiginfo is sizeof(struct signalfd_siginfo) (<linux/signalfd.h>).
const sizeofSignalfdSiginfo = 128

// signalfd(2): signalfd4 without flags.
func sysSignalfd(t *Thread) int64 {
	return t.signalfd(int(int32(t.arg(0))), t.arg(1), t.arg(2), 0)
}

// signalfd4(2).
func sysSignalfd4(t *Thread) int64 {
	return t.signalfd(int(int32(t.arg(0))), t.arg(1), t.arg(2), int(int32(t.arg(3))))
}

// signalfd makes a signalfd, or changes the mask of the one fd is, as fs/signalfd.c's
// signalfd4 and do_signalfd4: the size of the mask, then the mask, then the flags, then
// the descriptor are checked, in that order.
func (t *Thread) signalfd(fd int, maskAddr, size uint64, flags int) int64 {
	if size != 8 {
		return -int64(unix.EINVAL)
	}
	var b [8]byte
	if e := copyIn(maskAddr, b[:]); e != 0 {
		return -int64(e)
	}
	// SIGKILL and SIGSTOP are dropped without an error (signalfd(2)).
	mask := binary.LittleEndian.Uint64(b[:]) &^ cannotCatch
	if flags&^(unix.SFD_CLOEXEC|unix.SFD_NONBLOCK) != 0 {
		return -int64(unix.EINVAL)
	}
	hand := t.p.sighand
	if fd != -1 {
		if t.p.ownFD(fd) {
			return -int64(unix.EBADF)
		}
		w, _ := t.p.files.fdDirs.Load(fd)
		sfd, ok := w.(*signalfd)
		if !ok {
			if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
				return -int64(unix.EBADF)
			}
			return -int64(unix.EINVAL) // open, but no signalfd
		}
		hand.mu.Lock()
		sfd.mask = mask
		t.p.signalfdsChanged()
		hand.mu.Unlock()
		return int64(fd)
	}
	// SFD_CLOEXEC and SFD_NONBLOCK are O_CLOEXEC and O_NONBLOCK, as EFD_CLOEXEC and
	// EFD_NONBLOCK are (<linux/signalfd.h>, <linux/eventfd.h>).
	r := passthroughRaw(unix.SYS_EVENTFD2, 0, uint64(flags), 0, 0, 0, 0)
	if r < 0 {
		return r
	}
	t.p.watchFD(int(r), &signalfd{mask: mask})
	return r
}

// signalfdsChanged makes each signalfd's eventfd readable exactly while a signal of its
// mask is pending: golos calls it wherever a pending set changes (queue and dequeue, the
// discards of sigaction and of SIGCONT), and where a signalfd's mask or descriptors do.
// Caller holds p.sighand.mu.
func (p *Process) signalfdsChanged() {
	shared := &p.shared
	if len(shared.signalfds) == 0 {
		return
	}
	pend := shared.pending
	p.threads.mu.Lock()
	for _, th := range p.threads.byTid {
		pend |= th.pending
	}
	p.threads.mu.Unlock()
	for sfd := range shared.signalfds {
		if want := pend&sfd.mask != 0; want != sfd.ready {
			sfd.ready = want
			for fd := range sfd.fds {
				setEventfd(fd, want)
				break // they share the counter
			}
		}
	}
}

// setEventfd makes eventfd fd's counter 1 (readable) or 0. It never blocks: the counter is
// read only when poll(2) says it is not 0, whatever the descriptor's O_NONBLOCK.
func setEventfd(fd int, readable bool) {
	var b [8]byte
	if readable {
		binary.LittleEndian.PutUint64(b[:], 1)
		unix.Write(fd, b[:])
		return
	}
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	if n, _ := unix.Poll(pfd, 0); n == 1 && pfd[0].Revents&unix.POLLIN != 0 {
		unix.Read(fd, b[:])
	}
}

// addSignalfdFD and dropSignalfdFD record a descriptor of sfd opened or closed (watchFD,
// unwatchFD): a signalfd without descriptors is forgotten.
func (p *Process) addSignalfdFD(sfd *signalfd, fd int) {
	hand := p.sighand
	shared := &p.shared
	hand.mu.Lock()
	defer hand.mu.Unlock()
	if sfd.fds == nil {
		sfd.fds = map[int]bool{}
	}
	sfd.fds[fd] = true
	if shared.signalfds == nil {
		shared.signalfds = map[*signalfd]bool{}
	}
	shared.signalfds[sfd] = true
	p.signalfdsChanged()
}

func (p *Process) dropSignalfdFD(sfd *signalfd, fd int) {
	hand := p.sighand
	shared := &p.shared
	hand.mu.Lock()
	defer hand.mu.Unlock()
	delete(sfd.fds, fd)
	if len(sfd.fds) == 0 {
		delete(shared.signalfds, sfd)
	}
}

// read(2): a signalfd's records (readSignalfd); any other descriptor's, passed through.
func sysRead(t *Thread) int64 {
	if fd, ok := t.procMemArg(); ok {
		return t.memIO(fd, false, [][2]uint64{{t.arg(1), t.arg(2)}}, 0, true)
	}
	if ps, fd := t.procSnapshotArg(); ps != nil {
		return t.readProcSnapshot(fd, ps, -1)
	}
	if sfd, fd := t.signalfdArg(); sfd != nil {
		buf := t.arg(1)
		return t.readSignalfd(fd, sfd, t.arg(2), func(off uint64, rec []byte) unix.Errno {
			return copyOut(buf+off, rec)
		})
	}
	return passthrough(t)
}

// readv(2), and preadv2(2) at the current position (offset -1): a signalfd's records,
// spread over the buffers as one stream, as Linux 6.7's signalfd_read_iter fills them
// (fs/signalfd.c); any other descriptor's, passed through. (pread64(2), preadv(2) and
// preadv2 at an offset fail on a signalfd with ESPIPE, as they do on the eventfd.)
func sysReadv(t *Thread) int64 {
	if fd, ok := t.procMemArg(); ok {
		atPos := t.ctx.Regs.RAX == unix.SYS_READV || int64(t.arg(3)) == -1
		return t.memIOv(fd, false, t.arg(1), t.arg(2), t.arg(3), atPos)
	}
	if ps, fd := t.procSnapshotArg(); ps != nil {
		off := int64(-1) // readv's, and preadv2's with an offset of -1: the position
		if t.ctx.Regs.RAX == unix.SYS_PREADV2 {
			off = int64(t.arg(3))
		}
		return t.readProcSnapshot(fd, ps, off)
	}
	sfd, fd := t.signalfdArg()
	if sfd == nil || t.ctx.Regs.RAX == unix.SYS_PREADV2 && int64(t.arg(3)) != -1 {
		return passthrough(t)
	}
	iovAddr, n := t.arg(1), t.arg(2)
	if n > 1024 { // UIO_MAXIOV
		return -int64(unix.EINVAL)
	}
	iov := make([]byte, 16*n)
	if e := copyIn(iovAddr, iov); e != 0 {
		return -int64(e)
	}
	type vec struct{ base, len uint64 }
	vecs := make([]vec, n)
	var total uint64
	for i := range vecs {
		vecs[i] = vec{binary.LittleEndian.Uint64(iov[16*i:]), binary.LittleEndian.Uint64(iov[16*i+8:])}
		if int64(vecs[i].len) < 0 || total+vecs[i].len < total {
			return -int64(unix.EINVAL)
		}
		total += vecs[i].len
	}
	return t.readSignalfd(fd, sfd, total, func(off uint64, rec []byte) unix.Errno {
		for _, v := range vecs {
			if len(rec) == 0 {
				break
			}
			if off >= v.len {
				off -= v.len
				continue
			}
			k := min(v.len-off, uint64(len(rec)))
			if e := copyOut(v.base+off, rec[:k]); e != 0 {
				return e
			}
			rec, off = rec[k:], 0
		}
		return 0
	})
}

// signalfdArg is the signalfd the first argument is a descriptor of, if it is one.
func (t *Thread) signalfdArg() (*signalfd, int) { return watchedArg[signalfd](t) }

// write(2): a signalfd cannot be written (EINVAL: fs/signalfd.c has no write method);
// any other descriptor is passed through.
func sysWrite(t *Thread) int64 {
	if fd, ok := t.procMemArg(); ok {
		return t.memIO(fd, true, [][2]uint64{{t.arg(1), t.arg(2)}}, 0, true)
	}
	if sfd, _ := t.signalfdArg(); sfd != nil {
		return -int64(unix.EINVAL)
	}
	return passthrough(t)
}

// readSignalfd reads pending signals of sfd's mask as struct signalfd_siginfo records,
// as many as fit in size bytes, and gives each to out at its offset, as fs/signalfd.c's
// signalfd_read_iter: a size too small for one is EINVAL; with none pending, EAGAIN if
// the descriptor is O_NONBLOCK, else the first is waited for (interrupted by a signal the
// thread takes: EINTR, or the read made again under SA_RESTART, as Linux's
// -ERESTARTSYS); the others are taken only if already pending. A signal read is taken off
// the pending set and never delivered.
func (t *Thread) readSignalfd(fd int, sfd *signalfd, size uint64, out func(off uint64, rec []byte) unix.Errno) int64 {
	count := size / sizeofSignalfdSiginfo
	if count == 0 {
		return -int64(unix.EINVAL)
	}
	var done uint64
	woke := false
	for done < count {
		info, ok := t.dequeueSignalfd(sfd)
		if !ok {
			if done > 0 {
				break
			}
			fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
			if err != nil {
				return -int64(errnoOf(err))
			}
			if fl&unix.O_NONBLOCK != 0 {
				return -int64(unix.EAGAIN)
			}
			wait := func() unix.Errno { return t.waitReadable(fd) }
			if woke && t.p.signalfdReady(sfd) {
				// Readable, but for a signal pending for another thread, which this one
				// cannot read: look again a little later rather than spin.
				wait = func() unix.Errno { return t.napInterruptible(time.Millisecond) }
			}
			woke = true
			if e := wait(); e != 0 {
				if e == unix.EINTR && !t.signalDue() {
					continue // a signal to golos's process, forwarded and blocked: read on
				}
				return -int64(e)
			}
			continue
		}
		rec := signalfdSiginfo(info)
		if e := out(done*sizeofSignalfdSiginfo, rec[:]); e != 0 {
			if done > 0 {
				break
			}
			return -int64(e)
		}
		done++
	}
	return int64(done * sizeofSignalfdSiginfo)
}

// signalfdReady reports whether golos keeps sfd readable now.
func (p *Process) signalfdReady(sfd *signalfd) bool {
	p.sighand.mu.Lock()
	defer p.sighand.mu.Unlock()
	return sfd.ready
}

// signalDue reports, after a host signal interrupted a wait, whether the thread has a
// signal to take now. The host's signal to golos's process (a timer's SIGALRM) ends the
// wait of whichever thread the host picks; it is forwarded to the program
// (forwardBeforeReturn) and may be one the thread blocks, or the very one the signalfd
// is waiting for: Linux's read goes on waiting then, or returns it.
func (t *Thread) signalDue() bool {
	t.forwardBeforeReturn()
	return atomic.LoadUint32(&t.ctx.Pending) != 0 || t.deliverable()
}

// dequeueSignalfd takes the lowest pending signal of sfd's mask, the thread's own before
// the process's, as rt_sigtimedwait(2) does (dequeue).
func (t *Thread) dequeueSignalfd(sfd *signalfd) (siginfo, bool) {
	hand := t.p.sighand
	hand.mu.Lock()
	defer hand.mu.Unlock()
	saved := t.sigmask
	t.sigmask = ^sfd.mask
	info, ok := t.dequeue()
	t.sigmask = saved
	return info, ok
}

// signalfdSiginfo is the struct signalfd_siginfo of a signal: the fields of its siginfo_t
// that its layout has, as fs/signalfd.c's signalfd_copyinfo copies them by
// siginfo_layout (kernel/signal.c).
func signalfdSiginfo(info siginfo) [sizeofSignalfdSiginfo]byte {
	si := info.toABI()
	raw := abi.Bytes(&si)
	le := binary.LittleEndian
	var out [sizeofSignalfdSiginfo]byte
	copy(out[0:12], raw[0:12]) // ssi_signo, ssi_errno, ssi_code: si_signo, si_errno, si_code
	signo, code := int(le.Uint32(raw[0:])), int32(le.Uint32(raw[8:]))
	u32 := func(off int) uint32 { return le.Uint32(raw[16+off:]) } // in siginfo_t's union
	u64 := func(off int) uint64 { return le.Uint64(raw[16+off:]) }
	const (
		ssiPid, ssiUid, ssiFd, ssiTid, ssiBand, ssiOverrun = 12, 16, 20, 24, 28, 32
		ssiStatus, ssiInt, ssiPtr, ssiUtime, ssiStime      = 40, 44, 48, 56, 64
		ssiAddr, ssiAddrLsb, ssiSyscall, ssiCallAddr       = 72, 80, 84, 88
		ssiArch                                            = 96
		siTimer, siSigio, siKernel                         = -2, -5, 0x80
	)
	kill := func() {
		le.PutUint32(out[ssiPid:], u32(0))
		le.PutUint32(out[ssiUid:], u32(4))
	}
	// siginfo_layout: a code between SI_USER and SI_KERNEL is the kernel's, and its
	// meaning depends on the signal, up to that signal's number of codes.
	limits := map[unix.Signal]int32{unix.SIGILL: 11, unix.SIGFPE: 15, unix.SIGSEGV: 10,
		unix.SIGBUS: 5, unix.SIGTRAP: 6, unix.SIGCHLD: 6, unix.SIGPOLL: 6, unix.SIGSYS: 1}
	switch lim, specific := limits[unix.Signal(signo)]; {
	case code > abi.SI_USER && code < siKernel && specific && code <= lim:
		switch unix.Signal(signo) {
		case unix.SIGCHLD: // SIL_CHLD
			kill()
			le.PutUint32(out[ssiStatus:], u32(8))
			le.PutUint64(out[ssiUtime:], u64(16))
			le.PutUint64(out[ssiStime:], u64(24))
		case unix.SIGPOLL: // SIL_POLL
			le.PutUint32(out[ssiBand:], uint32(u64(0)))
			le.PutUint32(out[ssiFd:], u32(8))
		case unix.SIGSYS: // SIL_SYS
			le.PutUint64(out[ssiCallAddr:], u64(0))
			le.PutUint32(out[ssiSyscall:], u32(8))
			le.PutUint32(out[ssiArch:], u32(12))
		default: // SIL_FAULT and its kinds
			le.PutUint64(out[ssiAddr:], u64(0))
			if unix.Signal(signo) == unix.SIGBUS && (code == 4 || code == 5) { // BUS_MCEERR_AR, _AO
				le.PutUint16(out[ssiAddrLsb:], uint16(u32(8)))
			}
		}
	case code > abi.SI_USER && code < siKernel && code <= 6: // NSIGPOLL
		le.PutUint32(out[ssiBand:], uint32(u64(0)))
		le.PutUint32(out[ssiFd:], u32(8))
	case code == siTimer: // SIL_TIMER
		le.PutUint32(out[ssiTid:], u32(0))
		le.PutUint32(out[ssiOverrun:], u32(4))
		le.PutUint64(out[ssiPtr:], u64(8))
		le.PutUint32(out[ssiInt:], u32(8))
	case code == siSigio: // SIL_POLL
		le.PutUint32(out[ssiBand:], uint32(u64(0)))
		le.PutUint32(out[ssiFd:], u32(8))
	case code < 0: // SIL_RT
		kill()
		le.PutUint64(out[ssiPtr:], u64(8))
		le.PutUint32(out[ssiInt:], u32(8))
	default: // SIL_KILL
		kill()
	}
	return out
}

// inheritSignalfds makes the signalfds a fork's child inherits its own: on Linux a read
// of one in the child gives the child's signals. Each gets an eventfd of the child's own,
// put in place of the descriptors that shared the parent's (dup3(2), keeping each one's
// FD_CLOEXEC, and the open file's O_NONBLOCK): the parent's counter says what is pending
// in the parent. (So the child's descriptors no longer share the parent's file status
// flags, which Linux's do.)
func (p *Process) inheritSignalfds(list []forkSignalfd) error {
	for _, f := range list {
		if len(f.FDs) == 0 {
			continue
		}
		fl, err := unix.FcntlInt(uintptr(f.FDs[0]), unix.F_GETFL, 0)
		if err != nil {
			return fmt.Errorf("signalfd %d: %w", f.FDs[0], err)
		}
		efd := passthroughRaw(unix.SYS_EVENTFD2, 0, uint64(fl&unix.O_NONBLOCK|unix.O_CLOEXEC), 0, 0, 0, 0)
		if efd < 0 {
			return fmt.Errorf("signalfd %d: eventfd2: %w", f.FDs[0], unix.Errno(-efd))
		}
		sfd := &signalfd{mask: f.Mask}
		for _, fd := range f.FDs {
			fdfl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			if err == nil {
				err = unix.Dup3(int(efd), fd, fdfl&unix.FD_CLOEXEC*unix.O_CLOEXEC)
			}
			if err != nil {
				unix.Close(int(efd))
				return fmt.Errorf("signalfd %d: %w", fd, err)
			}
			p.watchFD(fd, sfd)
		}
		unix.Close(int(efd))
	}
	return nil
}
