package kernel

import (
	"os"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Another process of the program's tree is another golos process, and the host's
// /proc/<pid>/cmdline and exe of it describe golos. golos shows the program there instead,
// as it does for /proc/self: each golos publishes where its program's command line and
// executable path are in its memory, in published, a variable at the same address in
// every golos (the binary is not position-independent and is the same file: checked by
// /proc/<pid>/exe), and another reads them with process_vm_readv(2), as ps reads
// another process's memory for its command line. A process it may not read (another
// user's) or that is not golos's shows what the host shows.

// published is this golos's program, for the other golos processes of the tree.
var published struct {
	magic           uint64
	args            [2]uint64 // where the program's argument strings are in its memory (mm.args)
	exeAddr, exeLen uint64    // the executable's path, as the program names it
	env             [2]uint64 // and its environment strings (mm.env): setproctitle's room
}

const publishedMagic = 0x676f6c6f73747265 // "golostre"

// publishedMu keeps the published path alive and the addresses consistent.
var (
	publishedMu  sync.Mutex
	publishedExe []byte
)

// publish makes p's program what other golos processes of the tree see of this one.
func (p *Process) publish() {
	publishedMu.Lock()
	defer publishedMu.Unlock()
	publishedExe = []byte(p.mm.exeGuestPath)
	published.magic = 0
	published.args, published.env = p.mm.args, p.mm.env
	if len(publishedExe) > 0 {
		published.exeAddr, published.exeLen = uint64(uintptr(unsafe.Pointer(&publishedExe[0]))), uint64(len(publishedExe))
	}
	published.magic = publishedMagic
	setHostCmdline(p.mm.args, p.mm.env) // and what the host shows (hostcmdline_unsafe.go)
	p.serveProc()                       // and answers for the rest of its /proc directory (procpeer.go)
}

// sameGolos reports whether process pid runs golos's own executable.
func sameGolos(pid int) bool {
	var a, b unix.Stat_t
	return unix.Stat(selfExe, &a) == nil && unix.Stat("/proc/"+strconv.Itoa(pid)+"/exe", &b) == nil &&
		a.Dev == b.Dev && a.Ino == b.Ino
}

// readRemote reads n bytes at addr of process pid.
func readRemote(pid int, addr, n uint64) ([]byte, bool) {
	buf := make([]byte, n)
	if n == 0 {
		return buf, true
	}
	local := rawIovec{uint64(uintptr(unsafe.Pointer(&buf[0]))), n}
	remote := rawIovec{addr, n}
	r, _, e := unix.Syscall6(unix.SYS_PROCESS_VM_READV, uintptr(pid), uintptr(unsafe.Pointer(&local)), 1,
		uintptr(unsafe.Pointer(&remote)), 1, 0)
	return buf, e == 0 && uint64(r) == n
}

// treeProgram returns the command line (read from the program's memory, cmdline.go) and
// executable path of golos process pid, or ok false.
func treeProgram(pid int) (cmdline []byte, exe string, ok bool) {
	if pid <= 0 || pid == selfPid || !sameGolos(pid) {
		return nil, "", false
	}
	raw, ok := readRemote(pid, uint64(uintptr(unsafe.Pointer(&published))), uint64(unsafe.Sizeof(published)))
	if !ok {
		return nil, "", false
	}
	w := func(i int) uint64 { return *(*uint64)(unsafe.Pointer(&raw[8*i])) }
	if w(0) != publishedMagic || w(4) > unix.PathMax {
		return nil, "", false
	}
	path, ok := readRemote(pid, w(3), w(4))
	if !ok {
		return nil, "", false
	}
	return mmCmdline(readOf(pid), [2]uint64{w(1), w(2)}, [2]uint64{w(5), w(6)}), string(path), true
}

// treeProcFile is the program's view of /proc/<pid>/cmdline of another golos process of
// the tree (cleaned path p).
func treeProcFile(p string) ([]byte, bool) {
	pid, file, ok := otherPid(p)
	if !ok || file != "cmdline" {
		return nil, false
	}
	args, _, ok := treeProgram(pid)
	return args, ok
}

// treeExe is the program's view of /proc/<pid>/exe of another golos process of the tree.
func treeExe(p string) (string, bool) {
	pid, file, ok := otherPid(p)
	if !ok || file != "exe" {
		return "", false
	}
	_, exe, ok := treeProgram(pid)
	return exe, ok
}

// otherPid splits /proc/<pid>/<file> for a pid other than this process's.
func otherPid(p string) (int, string, bool) {
	rest, ok := strings.CutPrefix(p, "/proc/")
	if !ok {
		return 0, "", false
	}
	n, file, _ := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(n)
	if err != nil || pid == selfPid || strings.Contains(file, "/") {
		return 0, "", false
	}
	if _, err := os.Stat("/proc/" + n); err != nil {
		return 0, "", false
	}
	return pid, file, true
}

// treeExeOK sets *target to the program's path for /proc/<pid>/exe of another golos
// process of the tree.
func treeExeOK(p string, target *string) bool {
	exe, ok := treeExe(p)
	if ok {
		*target = exe
	}
	return ok
}
