package kernel

import (
	"encoding/binary"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestHolder runs the holder (holder_amd64.s) against this test process: a snapshot of a
// region taken by holderClone, the region then replaced by an empty one registered with a
// userfaultfd for missing pages, which the holder serves. Every page must read as at the
// snapshot: read by Go code (a user-mode fault), by the kernel (write(2) from an untouched
// page), written by the kernel (read(2) into the middle of one). A wait for any child
// without __WALL must not find it (exit signal 0), and it must end with status 0 when its
// socket's other end closes.
func TestHolder(t *testing.T) {
	if unix.Getuid() != 0 {
		t.Fatal("needs root: userfaultfd(2) for kernel-mode faults needs CAP_SYS_PTRACE")
	}
	const size = 1 << 20
	mem, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	pattern := func(i int, seed uint64) uint64 { return uint64(i)*0x9e3779b97f4a7c15 ^ seed }
	for i := 0; i < size/8; i++ {
		binary.LittleEndian.PutUint64(mem[8*i:], pattern(i, 1))
	}
	sp, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	pid := holderClone(uintptr(sp[1]), lazyChunk, 0, 0)
	unix.Close(sp[1])
	if pid < 0 {
		t.Fatalf("holderClone: %v", unix.Errno(-pid))
	}
	// After the snapshot: new contents, then the region emptied and registered.
	for i := 0; i < size/8; i++ {
		binary.LittleEndian.PutUint64(mem[8*i:], pattern(i, 2))
	}
	addr := uintptr(unsafe.Pointer(&mem[0]))
	if _, err := rawMmap(uint64(addr), size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED, -1, 0); err != 0 {
		t.Fatal(err)
	}
	fd, _, e := unix.Syscall(unix.SYS_USERFAULTFD, unix.O_CLOEXEC|unix.O_NONBLOCK, 0, 0)
	if e != 0 {
		t.Fatalf("userfaultfd: %v", e)
	}
	uffd := int(fd)
	defer unix.Close(uffd)
	api := uffdioAPIArg{api: uffdAPI}
	if e := ioctlPtr(uffd, uffdioAPI, unsafe.Pointer(&api)); e != 0 {
		t.Fatalf("UFFDIO_API: %v", e)
	}
	reg := uffdioRegisterArg{start: uint64(addr), len: size, mode: uffdioRegisterModeMissing}
	if e := ioctlPtr(uffd, uffdioRegister, unsafe.Pointer(&reg)); e != 0 {
		t.Fatalf("UFFDIO_REGISTER: %v", e)
	}
	if err := unix.Sendmsg(sp[0], []byte{0}, unix.UnixRights(uffd), nil, 0); err != nil {
		t.Fatal(err)
	}

	// The kernel reads an untouched page (page 9) and writes 100 bytes into another
	// (page 5, at 1000).
	pp := make([]int, 2)
	if err := unix.Pipe2(pp, unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pp[0])
	defer unix.Close(pp[1])
	page9 := make([]byte, pageSize)
	if n, err := unix.Write(pp[1], mem[9*pageSize:10*pageSize]); n != pageSize || err != nil {
		t.Fatalf("write(2) from an untouched page: %d, %v", n, err)
	}
	if n, err := unix.Read(pp[0], page9); n != pageSize || err != nil {
		t.Fatalf("read back: %d, %v", n, err)
	}
	for i := 0; i < pageSize/8; i++ {
		if got, want := binary.LittleEndian.Uint64(page9[8*i:]), pattern(9*pageSize/8+i, 1); got != want {
			t.Fatalf("write(2) from an untouched page: word %d is %#x, want the snapshot's %#x", i, got, want)
		}
	}
	msg := make([]byte, 100)
	for i := range msg {
		msg[i] = 'k'
	}
	unix.Write(pp[1], msg)
	if n, err := unix.Read(pp[0], mem[5*pageSize+1000:5*pageSize+1100]); n != 100 || err != nil {
		t.Fatalf("read(2) into an untouched page: %d, %v", n, err)
	}

	// Everything else by Go code, page by page.
	for i := 0; i < size/8; i++ {
		off := 8 * i
		if off >= 5*pageSize+1000-7 && off < 5*pageSize+1100 {
			continue
		}
		if got, want := binary.LittleEndian.Uint64(mem[off:]), pattern(i, 1); got != want {
			t.Fatalf("word %d (page %d) is %#x, want the snapshot's %#x", i, off/pageSize, got, want)
		}
	}
	if string(mem[5*pageSize+1000:5*pageSize+1100]) != string(msg) {
		t.Fatalf("read(2)'s bytes are not in the page")
	}

	// Not a child a wait for any child finds without __WALL (exit signal 0): ECHILD,
	// where a child with SIGCHLD that has not ended gives 0.
	if p, err := unix.Wait4(-1, nil, unix.WNOHANG, nil); err != unix.ECHILD {
		t.Fatalf("a wait for any child without __WALL gave %d (%v), want ECHILD: the holder's exit signal must be 0", p, err)
	}
	// The end: EOF on its socket, and exit status 0.
	unix.Close(sp[0])
	var ws unix.WaitStatus
	got, err := unix.Wait4(int(pid), &ws, unix.WALL, nil)
	if err != nil || got != int(pid) || !ws.Exited() || ws.ExitStatus() != 0 {
		t.Fatalf("the holder's end: wait4 %d, %v, status %#x; want it to exit with 0", got, err, ws)
	}
}
