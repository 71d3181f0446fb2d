package kernel

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
	"golos/internal/loader"
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
var published publication

// publication is what a golos publishes of its program (published).
type publication struct {
	magic           uint64
	args            [2]uint64 // where the program's argument strings are in its memory (mm.args)
	exeAddr, exeLen uint64    // the executable's path, as the program names it
	env             [2]uint64 // and its environment strings (mm.env): setproctitle's room

	// Where the rest of what its /proc/<pid>/status and stat show is, and what its
	// task and fd listings leave out, for a golos that is stopped (SIGSTOP, ^Z) and so
	// cannot answer (procpeer.go): its memory stays as it was while it is stopped, and
	// another golos reads it there (stoppedPeer). Each is the address of a variable of
	// the process's.
	tids        uint64 // publishedTids, a []int: the program's threads
	ownFDs      uint64 // files.ownFDs, a []int: golos's own descriptors
	owned, data uint64 // mm.owned.r and mm.data.r, [][2]uint64: the program's memory
	startStack  uint64 // mm.startStack
	brkStart    uint64 // mm.brkStart and mm.brkMapped: the break's mapping
	brkMapped   uint64
	actions     uint64 // sighand.actions, [65]abi.Sigaction
	shdPnd      uint64 // shared.pending
	mainMask    uint64 // the main thread's sigmask and pending signals
	mainPnd     uint64
	layout      uint64 // mm.layout, a loader.Layout: where the program's code and data lie
	peak        uint64 // mm.peak
	// opts.Nofile, AS, Data and Sigpending, each a *unix.Rlimit: the limits golos keeps
	// for the program (procfs.go, limits).
	nofileLim, asLim, dataLim, sigpendingLim uint64
}

const publishedMagic = 0x676f6c6f73747265 // "golostre"

// publishedMu keeps the published path alive and the addresses consistent. It is taken
// with no lock of the process held.
var (
	publishedMu   sync.Mutex
	publishedExe  []byte
	publishedTids []int // the program's threads (publishThread)
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
	addr := func(p unsafe.Pointer) uint64 { return uint64(uintptr(p)) }
	published.tids, published.ownFDs = addr(unsafe.Pointer(&publishedTids)), addr(unsafe.Pointer(&p.files.ownFDs))
	published.owned, published.data = addr(unsafe.Pointer(&p.mm.owned.r)), addr(unsafe.Pointer(&p.mm.data.r))
	published.startStack = addr(unsafe.Pointer(&p.mm.startStack))
	published.brkStart, published.brkMapped = addr(unsafe.Pointer(&p.mm.brkStart)), addr(unsafe.Pointer(&p.mm.brkMapped))
	published.actions, published.shdPnd = addr(unsafe.Pointer(&p.sighand.actions)), addr(unsafe.Pointer(&p.shared.pending))
	published.layout, published.peak = addr(unsafe.Pointer(&p.mm.layout)), addr(unsafe.Pointer(&p.mm.peak))
	published.nofileLim, published.asLim, published.dataLim = addr(unsafe.Pointer(&p.opts.Nofile)), addr(unsafe.Pointer(&p.opts.AS)), addr(unsafe.Pointer(&p.opts.Data))
	published.sigpendingLim = addr(unsafe.Pointer(&p.opts.Sigpending))
	published.magic = publishedMagic
	setHostCmdline(p.mm.args, p.mm.env) // and what the host shows (hostcmdline_unsafe.go)
	p.serveProc()                       // and answers for the rest of its /proc directory (procpeer.go)
}

// publishThread adds thread t to the program's threads that another golos reads of
// this one while it is stopped (stoppedPeer), or, gone, takes it out: one change at a
// time, so that 10,000 threads do not copy the list 10,000 times. The main thread's
// signal mask and pending signals are published with it. Called when a thread comes
// or goes, with no lock of the process held.
func (p *Process) publishThread(t *Thread, gone bool) {
	publishedMu.Lock()
	defer publishedMu.Unlock()
	if gone {
		if i := slices.Index(publishedTids, t.tid); i >= 0 {
			last := len(publishedTids) - 1
			publishedTids[i] = publishedTids[last]
			publishedTids = publishedTids[:last]
		}
		return
	}
	publishedTids = append(publishedTids, t.tid)
	if t == p.threads.main {
		published.mainMask, published.mainPnd = uint64(uintptr(unsafe.Pointer(&t.sigmask))), uint64(uintptr(unsafe.Pointer(&t.pending)))
	}
}

// stoppedPeer is what the golos of process pid, stopped, would answer of its program's
// status and stat (as its main thread sees them, Linux's /proc/<pid>/status being the
// thread group leader's), and its program's threads and golos's own descriptors, read
// from its memory where it published them: nothing there changes while it is stopped,
// short of a stop in the middle of a change, which the checks of each slice's length
// against its capacity and of the sizes catch but for values torn between two words.
func stoppedPeer(pid int) (s procSummary, tids, ownFDs []int, ok bool) {
	s, tids, ownFDs, _, ok = stoppedPeerMaps(pid)
	return s, tids, ownFDs, ok
}

// stoppedPeerMaps is stoppedPeer with what the golos of process pid keeps of its maps
// (mapsView), a file named as the host names it.
func stoppedPeerMaps(pid int) (s procSummary, tids, ownFDs []int, view mapsView, ok bool) {
	if pid <= 0 || pid == selfPid || !sameGolos(pid) {
		return s, nil, nil, view, false
	}
	raw, ok := readRemote(pid, uint64(uintptr(unsafe.Pointer(&published))), uint64(unsafe.Sizeof(published)))
	if !ok {
		return s, nil, nil, view, false
	}
	pub := *(*publication)(unsafe.Pointer(&raw[0]))
	if pub.magic != publishedMagic || pub.mainMask == 0 {
		return s, nil, nil, view, false
	}
	words := func(addr uint64, n int) ([]uint64, bool) {
		b, ok := readRemote(pid, addr, uint64(8*n))
		if !ok {
			return nil, false
		}
		return unsafe.Slice((*uint64)(unsafe.Pointer(&b[0])), n), true
	}
	// slice reads the elements of the slice whose header (pointer, length, capacity) is
	// at addr, each of size words.
	slice := func(addr uint64, size int) ([]uint64, bool) {
		h, ok := words(addr, 3)
		const most = 1 << 16
		if !ok || h[1] > h[2] || h[1] > most {
			return nil, false
		}
		if h[1] == 0 {
			return nil, true
		}
		return words(h[0], int(h[1])*size)
	}
	ints := func(v []uint64) []int {
		r := make([]int, len(v))
		for i, x := range v {
			r[i] = int(x)
		}
		return r
	}
	size := func(v []uint64) (n uint64) {
		for i := 0; i+1 < len(v); i += 2 {
			n += v[i+1] - v[i]
		}
		return n
	}
	t, ok1 := slice(pub.tids, 1)
	f, ok2 := slice(pub.ownFDs, 1)
	owned, ok3 := slice(pub.owned, 2)
	data, ok4 := slice(pub.data, 2)
	one, ok5 := words(pub.startStack, 1)
	shd, ok6 := words(pub.shdPnd, 1)
	mask, ok7 := words(pub.mainMask, 1)
	pnd, ok8 := words(pub.mainPnd, 1)
	act, ok9 := readRemote(pid, pub.actions, uint64(unsafe.Sizeof([65]abi.Sigaction{})))
	brkStart, ok10 := words(pub.brkStart, 1)
	brkMapped, ok11 := words(pub.brkMapped, 1)
	layout, ok12 := words(pub.layout, int(unsafe.Sizeof(loader.Layout{})/8))
	peak, ok13 := words(pub.peak, 1)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 || !ok8 || !ok9 || !ok10 || !ok11 || !ok12 || !ok13 || len(t) == 0 {
		return s, nil, nil, view, false
	}
	// A limit's pointer, and the limit it points to (nil: none kept).
	limit := func(addr uint64) (*unix.Rlimit, bool) {
		ptr, ok := words(addr, 1)
		if !ok || ptr[0] == 0 {
			return nil, ok
		}
		l, ok := words(ptr[0], 2)
		if !ok {
			return nil, false
		}
		return &unix.Rlimit{Cur: l[0], Max: l[1]}, true
	}
	nofile, ok14 := limit(pub.nofileLim)
	as, ok15 := limit(pub.asLim)
	dataLim, ok16 := limit(pub.dataLim)
	sigpending, ok17 := limit(pub.sigpendingLim)
	if !ok14 || !ok15 || !ok16 || !ok17 {
		return s, nil, nil, view, false
	}
	ign, cgt := dispositions((*[65]abi.Sigaction)(unsafe.Pointer(&act[0])))
	l := *(*loader.Layout)(unsafe.Pointer(&layout[0]))
	s = procSummary{threads: len(t), vmSize: size(owned), vmData: size(data), startStack: one[0],
		sigs:   map[string]uint64{"SigPnd:": pnd[0], "ShdPnd:": shd[0], "SigBlk:": mask[0], "SigIgn:": ign, "SigCgt:": cgt},
		layout: &statLayout{l.StartCode, l.EndCode, l.StartData, l.EndData, brkStart[0]}, peak: peak[0],
		limits: keptLimits(nofile, as, dataLim, sigpending)}
	view = mapsView{owned: &ranges{}, startStack: one[0], brkStart: brkStart[0], brkMapped: brkMapped[0],
		name: func(name string) string { return name }}
	for i := 0; i+1 < len(owned); i += 2 {
		view.owned.r = append(view.owned.r, [2]uint64{owned[i], owned[i+1]})
	}
	return s, ints(t), ints(f), view, true
}

// sameGolos reports whether process pid runs golos's own executable.
func sameGolos(pid int) bool {
	self, ok := selfExeID()
	var b unix.Stat_t
	return ok && unix.Stat("/proc/"+strconv.Itoa(pid)+"/exe", &b) == nil && [2]uint64{b.Dev, b.Ino} == self
}

// selfExeID is the device and inode of golos's own executable, looked at once.
var selfExeID = sync.OnceValues(func() ([2]uint64, bool) {
	var st unix.Stat_t
	if unix.Stat(selfExe, &st) != nil {
		return [2]uint64{}, false
	}
	return [2]uint64{st.Dev, st.Ino}, true
})

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
