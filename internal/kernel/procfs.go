package kernel

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// The /proc files of the process that would describe golos describe the application
// instead (proc(5)): its memory map, command line, environment and auxiliary vector.
func (t *Thread) procFile(p string) ([]byte, bool) {
	switch {
	case isProcSelf(p, "maps"):
		return t.p.maps(), true
	case isProcSelf(p, "cmdline"):
		return nulJoin(t.p.argv), true
	case isProcSelf(p, "environ"):
		return nulJoin(t.p.envp), true
	case isProcSelf(p, "auxv"):
		return t.p.auxv, true
	case isProcSelf(p, "status"):
		return t.status(), true
	}
	if t.p.fs == nil || t.p.procMounted() {
		return treeProcFile(p) // another process of the tree (tree_unsafe.go)
	}
	return nil, false
}

// status is the host's /proc/self/status with the application's thread count (golos's
// runtime threads are not the program's) and its virtual signals: pending for the
// thread (SigPnd) and the process (ShdPnd), blocked, ignored and caught (proc(5); the
// host's are golos's handlers and masks). The blocked and thread-pending sets are the
// reading thread's, where Linux shows /proc/PID/status's from the thread group leader.
func (t *Thread) status() []byte {
	p := t.p
	raw, err := readHostFile("/proc/self/status")
	if err != nil {
		return nil
	}
	p.threads.mu.Lock()
	n := len(p.threads.byTid)
	p.threads.mu.Unlock()
	// The program's address space and data sizes (its memory, which RLIMIT_AS and
	// RLIMIT_DATA count), not golos's.
	p.mm.mu.Lock()
	vmSize, vmData := p.mm.owned.size()>>10, p.mm.data.size()>>10
	p.mm.mu.Unlock()
	s := &p.sig
	s.mu.Lock()
	sigs := map[string]uint64{"SigPnd:": t.pending, "ShdPnd:": s.pending, "SigBlk:": t.sigmask, "SigIgn:": 0, "SigCgt:": 0}
	for sig := 1; sig <= 64; sig++ {
		switch s.actions[sig].handler {
		case sigDfl:
		case sigIgn:
			sigs["SigIgn:"] |= sigBit(sig)
		default:
			sigs["SigCgt:"] |= sigBit(sig)
		}
	}
	s.mu.Unlock()
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		if name, _, ok := strings.Cut(line, "\t"); ok {
			if v, ok := sigs[name]; ok {
				line = fmt.Sprintf("%s\t%016x\n", name, v)
			}
		}
		switch {
		case strings.HasPrefix(line, "Threads:"):
			line = fmt.Sprintf("Threads:\t%d\n", n)
		case strings.HasPrefix(line, "VmSize:"):
			line = fmt.Sprintf("VmSize:\t%8d kB\n", vmSize)
		case strings.HasPrefix(line, "VmData:"):
			line = fmt.Sprintf("VmData:\t%8d kB\n", vmData)
		}
		out.WriteString(line)
	}
	return out.Bytes()
}

func nulJoin(ss []string) []byte {
	var b bytes.Buffer
	for _, s := range ss {
		b.WriteString(s)
		b.WriteByte(0)
	}
	return b.Bytes()
}

// maps is /proc/self/maps with only the application's memory (and the vDSO it shares
// with golos): golos's own mappings are left out, and the application's main stack is
// the one marked [stack].
func (p *Process) maps() []byte {
	raw, err := readHostFile("/proc/self/maps")
	if err != nil {
		return nil
	}
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		line := sc.Text()
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		lo, hi, ok := parseRange(f[0])
		if !ok {
			continue
		}
		name := ""
		if len(f) >= 6 {
			name = strings.Join(f[5:], " ")
		}
		switch name {
		case "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]":
			out.WriteString(line + "\n")
			continue
		case "[stack]", "[heap]":
			name = "" // golos's
		}
		for _, r := range p.mm.owned.intersect(lo, hi) {
			n := name
			switch {
			case r[0] >= p.stack[0] && r[1] <= p.stack[1]:
				n = "[stack]"
			case r[0] >= pageUp(p.mm.brkStart) && r[1] <= p.mm.brkMapped && n == "":
				n = "[heap]"
			}
			off, _ := strconv.ParseUint(f[2], 16, 64)
			off += r[0] - lo
			line := fmt.Sprintf("%08x-%08x %s %08x %s %s", r[0], r[1], f[1], off, f[3], f[4])
			if n != "" {
				line += strings.Repeat(" ", max(1, 73-len(line))) + n // the kernel pads to column 73
			}
			out.WriteString(line + "\n")
		}
	}
	return out.Bytes()
}

func parseRange(s string) (lo, hi uint64, ok bool) {
	a, b, found := strings.Cut(s, "-")
	if !found {
		return 0, 0, false
	}
	lo, err1 := strconv.ParseUint(a, 16, 64)
	hi, err2 := strconv.ParseUint(b, 16, 64)
	return lo, hi, err1 == nil && err2 == nil
}

// virtualFile returns a descriptor, opened with the application's flags' O_CLOEXEC, that
// reads content from the start: an anonymous memory file (memfd_create(2)).
func (p *Process) virtualFile(content []byte, flags int) int64 {
	if flags&(unix.O_WRONLY|unix.O_RDWR) != 0 {
		return -int64(unix.EACCES)
	}
	mfdFlags := 0
	if flags&unix.O_CLOEXEC != 0 {
		mfdFlags = unix.MFD_CLOEXEC
	}
	fd, err := unix.MemfdCreate("golos-proc", mfdFlags)
	if err != nil {
		return -int64(errnoOf(err))
	}
	for len(content) > 0 {
		n, err := unix.Write(fd, content)
		if err != nil {
			unix.Close(fd)
			return -int64(errnoOf(err))
		}
		content = content[n:]
	}
	if _, err := unix.Seek(fd, 0, 0); err != nil {
		unix.Close(fd)
		return -int64(errnoOf(err))
	}
	return int64(fd)
}

// readHostFile reads a file with plain syscalls: os.Open would start the Go runtime's
// poller, whose descriptors would land among the application's.
func readHostFile(path string) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	var out []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(fd, buf)
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}
