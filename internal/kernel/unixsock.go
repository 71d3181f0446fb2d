package kernel

import (
	"bytes"
	"encoding/binary"
	"path"
	"strings"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/vfs"
)

// Unix domain socket addresses under --root. A struct sockaddr_un whose sun_path is a
// path names a file (unix(7): "pathname" sockets), and bind(2), connect(2), sendto(2),
// sendmsg(2) and sendmmsg(2) reach it as a path syscall would: inside the root, golos
// resolves the guest path itself and makes the call with an address that names the host
// file, in golos's own memory (the program's is not changed). Abstract addresses
// (sun_path[0] == 0) and unnamed ones (addrlen == sizeof(sa_family_t)) are not paths and
// pass through unchanged, as does every address without a root.
//
// bind creates the socket file: the directory is resolved and the last component kept
// (as mknod(2)), and the address given to the host is the directory's host path and the
// name, when that fits in sun_path, so that the name the host records for the socket,
// which getsockname(2), the peer's getpeername(2), accept(2), recvfrom(2) and recvmsg(2)
// return, stays meaningful after the call; golos maps it back to the guest path for them
// (sockNameCall, peerAddrCall, sysRecvmsg, sysRecvmmsg, and /proc/net/unix: netUnix). The host path is
// checked to name the directory resolved just before the call, and no directory of the
// tree can be renamed or removed until the call is made (vfs.LockPaths). A longer one is given as
// /proc/self/fd/N/name, through golos's descriptor of the directory: the file is made in
// the right place, but the name recorded is that string.
//
// A bind to a bare name in the working directory passes as it is (after the read-only
// check): the host's working directory is the guest's, and Linux records the name as
// given.
//
// connect and the sends follow a symlink in the last component, as Linux does: the
// socket file is opened with O_PATH inside the root and named by its /proc/self/fd/N
// link, which the host's lookup follows to the file itself.

// addrUse is what a call does with a socket address.
type addrUse int

const (
	bindAddr    addrUse = iota // bind(2): makes the socket file
	connectAddr                // connect(2)
	sendAddr                   // sendto(2), sendmsg(2), sendmmsg(2): a datagram's destination
)

// sunPathMax is the size of sun_path, the terminating NUL included.
const sunPathMax = 108

// unixAddr rewrites the socket address of n bytes at addr, given for a call on socket
// fd, when golos has a root and it is an AF_UNIX path address: sa is the address to give
// the host instead, and done releases what it names after the call; any other address it
// read goes to the host as golos read it. When ok is false the call goes to the host
// unchanged (no root, or an address the host refuses without reading it); e is the call's
// error when golos answers it.
func (t *Thread) unixAddr(fd int, addr, n uint64, how addrUse) (sa []byte, done func(), e unix.Errno, ok bool) {
	if t.p.fsctx.root == nil || addr == 0 || n <= 2 || n > 110 { // sizeof(struct sockaddr_un)
		return nil, nil, 0, false
	}
	buf := make([]byte, n)
	if copyIn(addr, buf) != 0 {
		return nil, nil, unix.EFAULT, true // as the host (net/socket.c, move_addr_to_kernel)
	}
	// From here on an address golos leaves as it is goes to the host as golos read it
	// (asRead): another of the program's threads may change the program's once golos
	// has looked, to the path of a socket outside the root, which the host would take.
	asRead := func() ([]byte, func(), unix.Errno, bool) { return buf, func() {}, 0, true }
	if binary.LittleEndian.Uint16(buf) != unix.AF_UNIX || buf[2] == 0 {
		return asRead()
	}
	if d, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_DOMAIN); err != nil || d != unix.AF_UNIX {
		return asRead() // the host answers for another family's socket
	}
	if how == sendAddr {
		// Only a datagram socket sends to an address; a stream or seqpacket one fails
		// with EISCONN or EOPNOTSUPP without looking it up (net/unix/af_unix.c).
		if ty, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TYPE); err != nil || ty != unix.SOCK_DGRAM {
			return asRead()
		}
	}
	p := buf[2:]
	if i := bytes.IndexByte(p, 0); i >= 0 {
		p = p[:i]
	}
	guest := vfs.Abs(t.p.cwd(), string(p))
	var host string
	var r *vfs.Ref
	var release func()
	if how == bindAddr {
		// From the lookup to the host's bind, no directory of the path may be
		// replaced (vfs.LockPaths): the host looks the path up again by its string.
		unlock := t.p.fsctx.root.LockPaths(true)
		if r, e = t.ref(guest, entryLast, false); e != 0 {
			unlock()
			return nil, nil, e, true
		}
		release = func() { r.Close(); unlock() }
		if r.ReadOnly {
			// As mknod(2): an entry that exists already is found before the read-only
			// mount answers (fs/namei.c filename_create), and unix(7) says EADDRINUSE.
			var st unix.Stat_t
			e = unix.EROFS
			if unix.Lstat(r.Path, &st) == nil {
				e = unix.EADDRINUSE
			}
			release()
			return nil, nil, e, true
		}
		if name := string(p); !strings.Contains(name, "/") && name != "." && name != ".." {
			// A name in the working directory, which the host's is too (sysChdir): the
			// address passes as it is, and the socket keeps the name the program gave, as
			// getsockname(2) shows it on Linux. bind never follows a symlink there.
			release()
			return nil, nil, 0, false
		}
		host = bindHostPath(r)
	} else {
		if r, e = t.ref(guest, followLast, false); e != 0 {
			return nil, nil, e, true
		}
		release = func() { r.Close() }
		host = r.Path
	}
	if len(host) >= sunPathMax {
		release()
		return nil, nil, unix.ENAMETOOLONG, true
	}
	sa = heapBytes(2 + len(host) + 1)
	binary.LittleEndian.PutUint16(sa, unix.AF_UNIX)
	copy(sa[2:], host)
	return sa, release, 0, true
}

// bindHostPath is the host path bind(2) gives for the entry r: the directory's host path
// and the name when it fits in sun_path and still names the directory r holds, else the
// path through r's descriptor.
func bindHostPath(r *vfs.Ref) string {
	dfd, base := r.Dir()
	if dfd < 0 {
		return r.Path
	}
	dir, err := vfs.HostFDPath(dfd)
	if err != nil || !path.IsAbs(dir) {
		return r.Path
	}
	host := path.Join(dir, base)
	if len(host) >= sunPathMax {
		return r.Path
	}
	var a, b unix.Stat_t
	if unix.Fstat(dfd, &a) != nil || unix.Stat(dir, &b) != nil || a.Dev != b.Dev || a.Ino != b.Ino {
		return r.Path // renamed or removed since, or a path that no longer leads there
	}
	return host
}

// sockAddrCall makes bind(2), connect(2) or sendto(2), whose address is at argument
// addrArg and its length at addrArg+1, with the address rewritten (unixAddr).
func sockAddrCall(t *Thread, addrArg int, how addrUse, blocking bool) int64 {
	sa, done, e, ok := t.unixAddr(int(int32(t.arg(0))), t.arg(addrArg), uint64(uint32(t.arg(addrArg+1))), how)
	switch {
	case !ok && blocking:
		return passthrough(t)
	case !ok:
		return passthroughFast(t)
	case e != 0:
		return -int64(e)
	}
	defer done()
	args := t.args()
	args[addrArg+1] = uint64(len(sa))
	return callWithBytes(t, args, addrArg, sa, blocking)
}

func sysBind(t *Thread) int64    { return sockAddrCall(t, 1, bindAddr, false) }
func sysConnect(t *Thread) int64 { return sockAddrCall(t, 1, connectAddr, true) }
func sysSendto(t *Thread) int64  { return sockAddrCall(t, 4, sendAddr, true) }

// msgAddr rewrites the address (msg_name, msg_namelen) of the struct msghdr h, read from
// the program, for socket fd. When it returns ok, h names sa, which the caller keeps
// alive through the call, and done releases what it names after.
func (t *Thread) msgAddr(fd int, h *abi.Msghdr) (sa []byte, done func(), e unix.Errno, ok bool) {
	sa, done, e, ok = t.unixAddr(fd, h.Name, uint64(h.Namelen), sendAddr)
	if ok && e == 0 {
		h.Name, h.Namelen = bytesAddr(sa), uint32(len(sa))
	}
	return sa, done, e, ok
}

// sendmsgRoot is sendmsg(2) in a root, with the message header golos read (h, or read
// here when nil) and its
// destination address rewritten (or as golos read it: unixAddr); ok is false when golos could not
// read the header (the host fails it with EFAULT).
func sendmsgRoot(t *Thread, h *abi.Msghdr) (int64, bool) {
	if t.p.fsctx.root == nil {
		return 0, false
	}
	if h == nil {
		h = &heapMmsghdrs(1)[0].Hdr // the host reads it: not on a stack (heapBytes)
		if copyIn(t.arg(1), abi.Bytes(h)) != 0 {
			return 0, false
		}
	}
	sa, done, e, ok := t.msgAddr(int(int32(t.arg(0))), h)
	switch {
	case !ok:
		// No address: still the message header golos read, whose msg_name another
		// thread could otherwise set once golos has looked.
		done = func() {}
	case e != 0:
		return -int64(e), true
	}
	defer done()
	ret := callWithBytes(t, t.args(), 1, abi.Bytes(h), true)
	keepAlive(sa)
	return ret, true
}

// sendmmsgRoot is sendmmsg(2) of vlen messages with their destination addresses
// rewritten (or copied), from a copy of the array whose msg_len fields are copied back;
// ok is false when golos could not read the array. A message whose address golos refuses ends the batch there,
// as the host's error would (or fails the call when it is the first).
func sendmmsgRoot(t *Thread, vlen uint64) (int64, bool) {
	if t.p.fsctx.root == nil || vlen == 0 {
		return 0, false
	}
	arr := heapMmsghdrs(int(vlen))
	if copyIn(t.arg(1), abi.SliceBytes(arr)) != 0 {
		return 0, false
	}
	fd := int(int32(t.arg(0)))
	var keep [][]byte
	var dones []func()
	defer func() {
		for _, d := range dones {
			d()
		}
	}()
	for i := uint64(0); i < vlen; i++ {
		sa, done, e, ok := t.msgAddr(fd, &arr[i].Hdr)
		if !ok {
			continue // no address: as golos read the header (sendmsgRoot)
		}
		if e != 0 {
			if i == 0 {
				return -int64(e), true
			}
			vlen, arr = i, arr[:i]
			break
		}
		keep, dones = append(keep, sa), append(dones, done)
	}
	args := t.args()
	args[2] = vlen
	ret := callWithBytes(t, args, 1, abi.SliceBytes(arr), true)
	keepAlive(keep)
	for i := int64(0); i < ret && uint64(i) < vlen; i++ {
		m := abi.Bytes(&arr[i])
		copyOut(t.arg(1)+uint64(i)*uint64(len(m))+abi.MmsghdrLenOffset, m[abi.MmsghdrLenOffset:][:4])
	}
	return ret, true
}

// sockNameCall is getsockname(2) or getpeername(2) (the address at argument 1, its
// length at argument 2): an AF_UNIX path address the host returns for a socket bound
// inside the root is shown as its guest path (vfs.Guest), with the length the guest path
// needs (truncated to the buffer, as Linux truncates; guestAddrOut).
func sockNameCall(t *Thread) int64 {
	addr, lenAddr := t.arg(1), t.arg(2)
	var lb [4]byte
	if t.p.fsctx.root == nil || copyIn(lenAddr, lb[:]) != 0 {
		return passthroughFast(t)
	}
	bufLen := int(int32(binary.LittleEndian.Uint32(lb[:])))
	ret := passthroughFast(t)
	if ret >= 0 && bufLen > 0 {
		t.guestAddrOut(addr, lenAddr, bufLen)
	}
	return ret
}

// guestAddr is the socket address sa with an AF_UNIX path inside the root as its guest
// path; ok is false for any other address.
func (p *Process) guestAddr(sa []byte) ([]byte, bool) {
	if len(sa) <= 2 || binary.LittleEndian.Uint16(sa) != unix.AF_UNIX || sa[2] == 0 {
		return nil, false
	}
	name := sa[2:]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	g, ok := p.guestSockPath(string(name))
	if !ok {
		return nil, false
	}
	return append(append(sa[:2:2], g...), 0), true
}

// peerAddrCall makes accept(2), accept4(2) or recvfrom(2), which return a peer's address
// in the buffer at argument addrArg, its length at lenArg: an AF_UNIX path inside the
// root is shown as its guest path there, as getpeername(2) shows it (sockNameCall).
func peerAddrCall(t *Thread, addrArg, lenArg int) int64 {
	addr, lenAddr := t.arg(addrArg), t.arg(lenArg)
	if t.p.fsctx.root == nil || addr == 0 || lenAddr == 0 {
		return passthrough(t)
	}
	var lb [4]byte
	if copyIn(lenAddr, lb[:]) != 0 {
		return passthrough(t)
	}
	bufLen := int(int32(binary.LittleEndian.Uint32(lb[:])))
	ret := passthrough(t)
	if ret >= 0 && bufLen > 0 {
		t.guestAddrOut(addr, lenAddr, bufLen)
	}
	return ret
}

// guestAddrOut rewrites the address the host left at addr (its length at lenAddr; the
// buffer bufLen bytes) as guestAddr shows it. An address the host truncated is left.
func (t *Thread) guestAddrOut(addr, lenAddr uint64, bufLen int) {
	var lb [4]byte
	if copyIn(lenAddr, lb[:]) != 0 {
		return
	}
	n := int(binary.LittleEndian.Uint32(lb[:]))
	if n > bufLen || n <= 2 || n > 112 {
		return
	}
	sa := make([]byte, n)
	if copyIn(addr, sa) != 0 {
		return
	}
	g, ok := t.p.guestAddr(sa)
	if !ok {
		return
	}
	copyOut(addr, g[:min(len(g), bufLen)])
	binary.LittleEndian.PutUint32(lb[:], uint32(len(g)))
	copyOut(lenAddr, lb[:])
}

func sysAccept(t *Thread) int64   { return peerAddrCall(t, 1, 2) }
func sysRecvfrom(t *Thread) int64 { return peerAddrCall(t, 4, 5) }

// sysRecvmsg is recvmsg(2) with the sender's address (msg_name, msg_namelen in the struct
// msghdr) shown as peerAddrCall shows it.
func sysRecvmsg(t *Thread) int64 {
	if t.p.fsctx.root == nil {
		return passthrough(t)
	}
	var h abi.Msghdr
	if copyIn(t.arg(1), abi.Bytes(&h)) != 0 {
		return passthrough(t)
	}
	addr, bufLen := h.Name, int(int32(h.Namelen))
	ret := passthrough(t)
	if ret >= 0 && addr != 0 && bufLen > 0 {
		t.guestAddrOut(addr, t.arg(1)+abi.MsghdrNamelenOffset, bufLen)
	}
	return ret
}

// sysRecvmmsg is recvmmsg(2) with each received message's sender address shown as
// sysRecvmsg shows it. The host fills in the first ret headers of the program's array;
// their msg_name buffers and sizes are read before the call, as the host reads them, one
// header at a time (as Linux does: an array shorter than vlen is fine while fewer
// messages come). vlen is capped at UIO_MAXIOV as Linux caps it (net/socket.c,
// __sys_recvmmsg).
func sysRecvmmsg(t *Thread) int64 {
	vlen := min(uint64(uint32(t.arg(2))), 1024)
	if t.p.fsctx.root == nil || vlen == 0 {
		return passthrough(t)
	}
	var arr []abi.Mmsghdr
	var m abi.Mmsghdr
	size := uint64(len(abi.Bytes(&m)))
	for i := uint64(0); i < vlen && copyIn(t.arg(1)+i*size, abi.Bytes(&m)) == 0; i++ {
		arr = append(arr, m)
	}
	ret := passthrough(t)
	for i := int64(0); i < ret && i < int64(len(arr)); i++ {
		h := &arr[i].Hdr
		if bufLen := int(int32(h.Namelen)); h.Name != 0 && bufLen > 0 {
			t.guestAddrOut(h.Name, t.arg(1)+uint64(i)*size+abi.MsghdrNamelenOffset, bufLen)
		}
	}
	return ret
}

// guestSockPath is the guest path of a socket's host path, when it lies inside a mount;
// a /proc/self/fd/N/name path (a long one, of golos's) is left as it is. A socket bound
// before the program's chroot inside --root, outside the new root, is named from --root
// (outerGuest), never by the root's place on the host (Linux shows the name it was
// bound with, whatever the root is now: net/unix/af_unix.c, unix_getname).
func (p *Process) guestSockPath(host string) (string, bool) {
	if !path.IsAbs(host) || path.Clean(host) != host || strings.HasPrefix(host, "/proc/self/fd/") {
		return "", false
	}
	if g, ok := p.fsctx.root.Guest(host); ok {
		return g, true
	}
	return p.outerGuest(host)
}

// lockPaths takes, under a root, the shared side of the lock that keeps a socket's
// bind from seeing a directory of its path replaced (vfs.LockPaths), for rename(2) and
// rmdir(2); it returns the release.
func (t *Thread) lockPaths() (unlock func()) {
	if t.p.fsctx.root == nil {
		return func() {}
	}
	return t.p.fsctx.root.LockPaths(false)
}

// netUnix is the host's /proc/net/unix with the path of every socket bound inside the
// root shown as its guest path, as getsockname(2) shows it (guestSockPath); the others
// (outside the root, abstract, unnamed) are left as the host shows them, as a chroot
// leaves them (net/unix/af_unix.c, unix_seq_show: the last column is the bound name).
func (p *Process) netUnix() []byte {
	raw, err := readHostFile("/proc/self/net/unix")
	if err != nil {
		return nil
	}
	lines := strings.Split(string(raw), "\n")
	for i, line := range lines {
		if path, ok := netUnixPath(line); ok && i > 0 {
			if g, ok := p.guestSockPath(path); ok {
				lines[i] = line[:len(line)-len(path)] + g
			}
		}
	}
	return []byte(strings.Join(lines, "\n"))
}

// netUnixPath is the path column of a line of /proc/net/unix: what follows the seventh
// field (Num, RefCount, Protocol, Flags, Type, St, Inode) and one space, when it begins
// with "/" (a path may hold spaces, so it is not split).
func netUnixPath(line string) (string, bool) {
	rest := line
	for f := 0; f < 7; f++ {
		rest = strings.TrimLeft(rest, " ")
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			return "", false
		}
		rest = rest[i:]
	}
	rest = strings.TrimPrefix(rest, " ")
	return rest, strings.HasPrefix(rest, "/")
}
