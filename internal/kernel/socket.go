package kernel

import (
	"encoding/binary"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/entry"
)

// sendmsg(2) and sendmmsg(2): an SCM_RIGHTS control message never carries one of golos's
// own descriptors. Naming one fails with EBADF, as a descriptor that is not open does
// (unix(7): the kernel checks each descriptor the message names). sendmmsg sends the
// messages before the first such one, or fails with EBADF when it is the first
// (sendmmsg(2): "If an error occurs after at least one message has been sent, the call
// succeeds, and returns the number of messages sent").
//
// sendmsg's header and control data go to the host as golos read them (msgCopy): another
// of the program's threads could put one of golos's descriptors in the control data once
// golos has looked.
func sysSendmsg(t *Thread) int64 {
	var h *abi.Msghdr
	var ctl []byte
	if len(t.p.files.ownFDs) > 0 {
		var ok bool
		if h, ctl, ok = t.msgCopy(t.arg(1)); !ok {
			h = nil
		} else if t.ctlOwnFD(ctl) {
			return -int64(unix.EBADF)
		}
	}
	if r, ok := sendmsgRoot(t, h); ok { // a unix socket path inside the root (unixsock.go)
		keepAlive(ctl)
		return r
	}
	if h != nil {
		r := callWithBytes(t, t.args(), 1, abi.Bytes(h), true)
		keepAlive(ctl)
		return r
	}
	return passthrough(t)
}

// msgCopy reads the struct msghdr at addr and its control data into golos's memory (on
// the heap: the host reads them), the header naming the copy of the control data; ok is
// false when there is no control data, or either cannot be read (the host fails the call
// with EFAULT), or it is larger than the host takes (optmem_max, far below 1 MiB: ENOBUFS
// before it reads it).
func (t *Thread) msgCopy(addr uint64) (h *abi.Msghdr, ctl []byte, ok bool) {
	h = &heapMmsghdrs(1)[0].Hdr
	if copyIn(addr, abi.Bytes(h)) != 0 || h.Control == 0 || h.Controllen < abi.SizeofCmsghdr || h.Controllen > 1<<20 {
		return nil, nil, false
	}
	ctl = heapBytes(int(h.Controllen))
	if copyIn(h.Control, ctl) != 0 {
		return nil, nil, false
	}
	h.Control = bytesAddr(ctl)
	return h, ctl, true
}

func sysSendmmsg(t *Thread) int64 {
	const mmsghdrSize = 64                      // struct msghdr (56 bytes) and msg_len, padded
	vlen := min(uint64(uint32(t.arg(2))), 1024) // UIO_MAXIOV
	if len(t.p.files.ownFDs) > 0 {
		for i := uint64(0); i < vlen; i++ {
			if !t.msgOwnFD(t.arg(1) + i*mmsghdrSize) {
				continue
			}
			if i == 0 {
				return -int64(unix.EBADF)
			}
			vlen = i
			break
		}
	}
	if r, ok := sendmmsgRoot(t, vlen); ok { // unix socket paths inside the root (unixsock.go)
		return r
	}
	if vlen != uint64(uint32(t.arg(2))) {
		args := t.args()
		args[2] = vlen
		return blockingCall(t, args)
	}
	return passthrough(t)
}

// msgOwnFD reports whether the struct msghdr at addr has an SCM_RIGHTS control message
// that names one of golos's descriptors. A header or control buffer it cannot read is
// left to the host, which fails the call with EFAULT.
func (t *Thread) msgOwnFD(addr uint64) bool {
	var h abi.Msghdr
	if copyIn(addr, abi.Bytes(&h)) != 0 {
		return false
	}
	ctl, n := h.Control, h.Controllen
	if ctl == 0 || n < abi.SizeofCmsghdr {
		return false
	}
	buf := make([]byte, min(n, 1<<20)) // the host limits it to far less (optmem_max)
	if copyIn(ctl, buf) != 0 {
		return false
	}
	return t.ctlOwnFD(buf)
}

// ctlOwnFD reports whether control data buf has an SCM_RIGHTS message that names one of
// golos's descriptors.
func (t *Thread) ctlOwnFD(buf []byte) bool {
	// Each struct cmsghdr (its cmsg_len counts itself), then its data; each header at an
	// 8-byte boundary (CMSG_NXTHDR). SCM_RIGHTS's data is an array of int.
	for off := 0; off+abi.SizeofCmsghdr <= len(buf); {
		var c abi.Cmsghdr
		copy(abi.Bytes(&c), buf[off:])
		l := c.Len
		if l < abi.SizeofCmsghdr || l > uint64(len(buf)-off) {
			break
		}
		if c.Level == unix.SOL_SOCKET && c.Type == unix.SCM_RIGHTS {
			for d := off + abi.SizeofCmsghdr; d+4 <= off+int(l); d += 4 {
				if t.p.ownFD(int(int32(binary.LittleEndian.Uint32(buf[d:])))) {
					return true
				}
			}
		}
		off += int((l + 7) &^ 7)
	}
	return false
}

// noSignal reports whether socket call nr, which failed with EPIPE, was made with
// MSG_NOSIGNAL: send(2) raises SIGPIPE on a connection-oriented socket whose local end is
// shut down "unless MSG_NOSIGNAL is set" (net/core/stream.c, sk_stream_error: only
// without MSG_NOSIGNAL). The flags are sendmsg's third argument, sendto's and
// sendmmsg's fourth.
func (t *Thread) noSignal(nr uint64) bool {
	switch nr {
	case unix.SYS_SENDMSG:
		return t.arg(2)&unix.MSG_NOSIGNAL != 0
	case unix.SYS_SENDTO, unix.SYS_SENDMMSG:
		return t.arg(3)&unix.MSG_NOSIGNAL != 0
	}
	return false
}

// blockingCall is passthrough with other arguments.
func blockingCall(t *Thread, a [6]uint64) int64 {
	args := [6]uintptr{uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5])}
	ret, e := entry.BlockingSyscall(t.ctx, uintptr(t.ctx.Regs.RAX), &args)
	if e != 0 {
		return -int64(e)
	}
	return int64(ret)
}
