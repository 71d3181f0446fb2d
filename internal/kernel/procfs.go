package kernel

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"golos/internal/abi"
)

// The /proc files of the process that would describe golos describe the application
// instead (proc(5)): its memory map, command line, environment and auxiliary vector, its
// threads, memory sizes and limits.
func (t *Thread) procFile(p string) ([]byte, bool) {
	if content, ok := t.selfProcFile(p); ok {
		return content, true
	}
	if t.p.fsctx.root == nil || t.p.procMounted() {
		if content, ok := procChildren(p); ok { // without the holders (procholders.go)
			return content, true
		}
		// Another process of the tree (tree_unsafe.go, procpeer.go).
		if content, ok := treeProcFile(p); ok {
			return content, true
		}
		return peerProcFile(p, t.p.guestMapName)
	}
	return nil, false
}

// selfProcFile is the program's view of cleaned path p when it names a file of this
// process that golos answers for.
func (t *Thread) selfProcFile(p string) ([]byte, bool) {
	switch {
	case isProcSelf(p, "maps"):
		return t.p.maps(), true
	case isProcSelf(p, "smaps"):
		return t.p.smaps(), true
	case isProcSelf(p, "smaps_rollup"):
		return t.p.smapsRollup(), true
	case isProcSelf(p, "numa_maps"):
		return t.p.numaMaps(), true
	case isProcSelf(p, "cmdline"):
		return mmCmdline(readSelf, t.p.mm.args, t.p.mm.env), true // cmdline.go
	case isProcSelf(p, "environ"):
		return mmEnviron(readSelf, t.p.mm.env), true
	case isProcSelf(p, "auxv"):
		return t.p.mm.auxv, true
	case isProcSelf(p, "status"):
		return t.status(hostProcFile(p, "status")), true
	case isProcSelf(p, "stat"):
		return t.stat(hostProcFile(p, "stat")), true
	case isProcSelf(p, "statm"):
		return t.p.statm(), true
	case isProcSelf(p, "limits"):
		return t.p.limits(), true
	case t.p.fsctx.root != nil && (isProcSelf(p, "mountinfo") || isProcSelf(p, "mounts") || p == "/proc/mounts"):
		file := "mounts"
		if strings.HasSuffix(p, "/mountinfo") {
			file = "mountinfo"
		}
		return t.p.procMounts(file), true // procmounts.go
	case t.p.fsctx.root != nil && (isProcSelf(p, "net/unix") || p == "/proc/net/unix"):
		return t.p.netUnix(), true
	}
	return nil, false
}

// hostProcFile is the host's file of this process that cleaned path p names: a thread's
// own (/proc/self/task/TID/file, /proc/thread-self/file, which on the host is the
// calling thread's, the application thread's own) or the process's.
func hostProcFile(p, file string) string {
	if tid, ok := procTask(p); ok {
		return "/proc/self/task/" + strconv.Itoa(tid) + "/" + file
	}
	if strings.HasPrefix(p, "/proc/thread-self/") {
		return "/proc/thread-self/" + file
	}
	return "/proc/self/" + file
}

// programThreads is the number of the program's live threads.
func (p *Process) programThreads() int {
	p.threads.mu.Lock()
	defer p.threads.mu.Unlock()
	return len(p.threads.byTid)
}

// procSummary is what golos puts into the host's status and stat of a process, whose
// host files describe golos: the program's thread count, memory and signal state.
type procSummary struct {
	threads        int
	vmSize, vmData uint64 // bytes
	startStack     uint64
	// pending for the thread (SigPnd) and the process (ShdPnd), blocked, ignored and
	// caught, by status's names for them
	sigs map[string]uint64
	// seccomp is the thread's seccomp mode and filter count; nil leaves the host's.
	seccomp *[2]int
	// vm is the program's memory (procvm.go); nil leaves the host's but for vmSize and
	// vmData.
	vm *vmCounts
	// layout is where the program's code and data lie and its break starts, for stat;
	// nil leaves the host's.
	layout *statLayout
	// peak is the most the program has had mapped (addressSpace.peak), for a process
	// whose vm is counted from outside it (stoppedProcFile).
	peak uint64
	// limits are those golos keeps for the program (keptLimits), of a stopped process.
	limits map[string]unix.Rlimit
}

// statLayout is what stat shows of where the program lies (proc_pid_stat(5): startcode,
// endcode, start_data, end_data, start_brk).
type statLayout struct {
	startCode, endCode, startData, endData, startBrk uint64
}

// layoutOf is the address space's statLayout. Caller holds m.mu.
func (m *addressSpace) layoutOf() *statLayout {
	l := m.layout
	return &statLayout{l.StartCode, l.EndCode, l.StartData, l.EndData, m.brkStart}
}

// dispositions are the ignored and caught signals of the actions (status's SigIgn and
// SigCgt).
func dispositions(actions *[65]abi.Sigaction) (ign, cgt uint64) {
	for sig := 1; sig <= 64; sig++ {
		switch actions[sig].Handler {
		case abi.SIG_DFL:
		case abi.SIG_IGN:
			ign |= sigBit(sig)
		default:
			cgt |= sigBit(sig)
		}
	}
	return ign, cgt
}

// status is the host's status file of the process (or of one of its threads, at host)
// with the application's thread count (golos's runtime threads are not the program's),
// its memory, its seccomp mode and its virtual signals: pending for the thread (SigPnd)
// and the process (ShdPnd), blocked, ignored and caught (proc(5); the host's are golos's
// handlers and masks). The blocked and thread-pending sets are the reading thread's,
// where Linux shows /proc/PID/status's from the thread group leader.
func (t *Thread) status(host string) []byte {
	raw, err := readHostFile(host)
	if err != nil {
		return nil
	}
	s := t.summary(raw)
	filters := 0
	for f := t.seccomp.Load(); f != nil; f = f.prev {
		filters++
	}
	s.seccomp = &[2]int{int(t.seccompMode.Load()), filters}
	return s.status(raw)
}

// status is raw, a host's status file, with s's values.
func (s *procSummary) status(raw []byte) []byte {
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		if name, _, ok := strings.Cut(line, "\t"); ok {
			if v, ok := s.sigs[name]; ok {
				line = fmt.Sprintf("%s\t%016x\n", name, v)
			}
		}
		switch {
		case s.seccomp != nil && strings.HasPrefix(line, "Seccomp:"):
			line = fmt.Sprintf("Seccomp:\t%d\n", s.seccomp[0])
		case s.seccomp != nil && strings.HasPrefix(line, "Seccomp_filters:"):
			line = fmt.Sprintf("Seccomp_filters:\t%d\n", s.seccomp[1])
		case strings.HasPrefix(line, "Threads:"):
			line = fmt.Sprintf("Threads:\t%d\n", s.threads)
		case strings.HasPrefix(line, "VmSize:") && s.vm == nil:
			line = statusLine("VmSize:", s.vmSize)
		case strings.HasPrefix(line, "VmData:"):
			line = statusLine("VmData:", s.vmData)
		case s.vm != nil:
			if name, _, ok := strings.Cut(line, "\t"); ok {
				if v, ok := s.vm.statusField(name); ok {
					line = statusLine(name, v)
				}
			}
		}
		out.WriteString(line)
	}
	return out.Bytes()
}

// summary is what status and stat show of the process, as thread t reads them: the
// program's threads, memory (procvm.go; hostStatus, when given, for its peak resident
// size), layout and signals, the blocked and thread-pending ones t's.
func (t *Thread) summary(hostStatus []byte) procSummary {
	p := t.p
	s := procSummary{threads: p.programThreads()}
	// The program's address space and data sizes (its memory, which RLIMIT_AS and
	// RLIMIT_DATA count), not golos's.
	p.mm.mu.Lock()
	p.mm.syncStack()
	s.vmSize, s.vmData, s.startStack = p.mm.owned.size(), p.mm.data.size(), p.mm.startStack
	s.layout = p.mm.layoutOf()
	p.mm.mu.Unlock()
	if vm, ok := p.vmCounts(hostStatus); ok {
		s.vm = &vm
	}
	hand := p.sighand
	hand.mu.Lock()
	ign, cgt := dispositions(&hand.actions)
	s.sigs = map[string]uint64{"SigPnd:": t.pending, "ShdPnd:": p.shared.pending, "SigBlk:": t.sigmask, "SigIgn:": ign, "SigCgt:": cgt}
	hand.mu.Unlock()
	return s
}

// stat is the host's stat file of the process (or of one of its threads, at host) with
// the program's thread count, memory, signals, the stack pointer it started with and
// where its code and data lie (procSummary.stat). The signals are the reading thread's,
// as status's are.
func (t *Thread) stat(host string) []byte {
	raw, err := readHostFile(host)
	if err != nil {
		return nil
	}
	s := t.summary(nil)
	return s.stat(raw)
}

// stat is raw, a host's stat file, with s's thread count (field 20, num_threads),
// address-space size in bytes (field 23, vsize), as status has them, and start of the
// stack (field 28, startstack: mm->start_stack) (proc_pid_stat(5)). The fields are
// counted after the command name, which ends at the last ')' and may hold spaces or
// parentheses.
func (s *procSummary) stat(raw []byte) []byte {
	head, f, ok := statFields(raw)
	// Fields as proc_pid_stat(5) numbers them, less 3: f[0] is field 3 (state).
	const (
		numThreads, vsize, rss, startCode, endCode, startStack = 20 - 3, 23 - 3, 24 - 3, 26 - 3, 27 - 3, 28 - 3
		signal, blocked, sigIgnore, sigCatch                   = 31 - 3, 32 - 3, 33 - 3, 34 - 3
		startData, endData, startBrk                           = 45 - 3, 46 - 3, 47 - 3
	)
	if !ok || len(f) <= startStack {
		return raw
	}
	u := func(v uint64) string { return strconv.FormatUint(v, 10) }
	f[numThreads] = strconv.Itoa(s.threads)
	f[vsize] = u(s.vmSize)
	if s.vm != nil {
		f[vsize], f[rss] = u(s.vm.size), u(s.vm.rss/pageSize)
	}
	// The fields a reader without ptrace access to the process sees as 0 stay 0
	// (proc_pid_stat(5): permitted).
	hidden := f[startStack] == "0"
	if !hidden {
		f[startStack] = u(s.startStack)
	}
	if l := s.layout; l != nil && !hidden && len(f) > startBrk {
		f[startCode], f[endCode] = u(l.startCode), u(l.endCode)
		f[startData], f[endData], f[startBrk] = u(l.startData), u(l.endData), u(l.startBrk)
	}
	// The obsolete signal bitmaps: the first 31 signals of the pending, blocked, ignored
	// and caught sets (do_task_stat masks them with 0x7fffffff).
	for i, name := range map[int]string{signal: "SigPnd:", blocked: "SigBlk:", sigIgnore: "SigIgn:", sigCatch: "SigCgt:"} {
		if v, ok := s.sigs[name]; ok && len(f) > i {
			f[i] = u(v & 0x7fffffff)
		}
	}
	return []byte(head + " " + strings.Join(f, " ") + "\n")
}

// statFields splits a stat file (proc_pid_stat(5)) into what runs up to the end of the
// command name (pid and "(comm)", which ends at the last ')' and may hold spaces or
// parentheses) and the fields after it, f[0] being field 3 (state).
func statFields(raw []byte) (head string, f []string, ok bool) {
	s := strings.TrimSuffix(string(raw), "\n")
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", nil, false
	}
	return s[:i+1], strings.Split(strings.TrimPrefix(s[i+1:], " "), " "), true
}

// limits is the host's /proc/self/limits with the limits golos keeps for the program
// (rlimit): its RLIMIT_NOFILE, RLIMIT_AS, RLIMIT_DATA and RLIMIT_SIGPENDING, in the kernel's format
// (fs/proc/base.c, proc_pid_limits: "%-25s %-20s %-20s %-10s"). The others are the
// host's, which are the program's.
func (p *Process) limits() []byte {
	raw, err := readHostFile("/proc/self/limits")
	if err != nil {
		return nil
	}
	p.nofileMu.Lock()
	kept := keptLimits(p.opts.Nofile, p.opts.AS, p.opts.Data, p.opts.Sigpending)
	p.nofileMu.Unlock()
	return limitsWith(raw, kept)
}

// keptLimits names the limits golos keeps for the program (nil: the host's), by the
// lines of the limits file.
func keptLimits(nofile, as, data, sigpending *unix.Rlimit) map[string]unix.Rlimit {
	own := map[string]*unix.Rlimit{"Max open files": nofile, "Max address space": as, "Max data size": data,
		"Max pending signals": sigpending}
	kept := map[string]unix.Rlimit{}
	for name, rl := range own {
		if rl != nil {
			kept[name] = *rl
		}
	}
	return kept
}

// limitsWith is the host's limits file raw with the lines of kept replaced.
func limitsWith(raw []byte, kept map[string]unix.Rlimit) []byte {
	value := func(v uint64) string {
		if v == unix.RLIM_INFINITY {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		if len(line) > 25 {
			if rl, ok := kept[strings.TrimRight(line[:25], " ")]; ok {
				unit := strings.TrimSpace(line[min(len(line), 25+1+21+21):])
				line = fmt.Sprintf("%-25s %-20s %-20s %-10s\n", strings.TrimRight(line[:25], " "), value(rl.Cur), value(rl.Max), unit)
			}
		}
		out.WriteString(line)
	}
	return out.Bytes()
}

// maps is /proc/self/maps with only the application's memory (and the vDSO it shares
// with golos): golos's own mappings are left out, and the application's main stack is
// the one marked [stack].
func (p *Process) maps() []byte {
	raw, err := readHostFile("/proc/self/maps")
	if err != nil {
		return nil
	}
	return p.programMappings(linuxSharedAnon(raw), nil)
}

// smaps is /proc/self/smaps with the entries of maps, each with the host's counts of its
// mapping (proc(5)). Where the host merged a mapping of the program's with one of
// golos's (same permissions, adjacent), the program's part gets its own Size, and the
// host's counts of the whole scaled to that part: golos cannot tell which of the
// mapping's pages are whose without reading the page tables.
func (p *Process) smaps() []byte {
	raw, err := readHostFile("/proc/self/smaps")
	if err != nil {
		return nil
	}
	return p.programMappings(linuxSharedAnon(raw), nil)
}

// numaMaps is /proc/self/numa_maps (proc_pid_numa_maps(5)) with the program's mappings
// alone, as maps: the host's line of each mapping that begins in the program's memory (or
// is the vDSO's), the file named as the program sees it, and "heap" and "stack" on the
// program's (Linux's show_numa_map marks the brk area and the mapping that holds
// mm->start_stack), not on golos's. Without this the file listed golos's own mappings,
// its executable by its host path among them.
func (p *Process) numaMaps() []byte {
	raw, err := readHostFile("/proc/self/numa_maps")
	if err != nil {
		return nil
	}
	vdso, _ := p.vdsoParts()
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	p.mm.syncStack()
	var out bytes.Buffer
	for _, line := range strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		lo, err := strconv.ParseUint(f[0], 16, 64)
		if err != nil {
			continue
		}
		shared := false
		for _, m := range vdso {
			shared = shared || m.Lo == lo
		}
		var in [2]uint64
		for _, r := range p.mm.owned.r {
			if r[0] <= lo && lo < r[1] {
				in = r
			}
		}
		if !shared && in[1] == 0 {
			continue // golos's
		}
		fields := []string{f[0], f[1]}
		file := false
		for _, w := range f[2:] {
			switch {
			case w == "heap" || w == "stack":
				continue // the host's, golos's: the program's are marked below
			case strings.HasPrefix(w, "file="):
				w, file = "file="+p.guestMapName(strings.TrimPrefix(w, "file=")), true
			}
			fields = append(fields, w)
		}
		mark := ""
		switch {
		case shared:
		case in[0] <= p.mm.startStack && p.mm.startStack < in[1]:
			mark = "stack"
		case !file && lo >= pageUp(p.mm.brkStart) && lo < p.mm.brkMapped:
			mark = "heap"
		}
		if mark != "" {
			fields = append(fields[:2], append([]string{mark}, fields[2:]...)...)
		}
		out.WriteString(strings.Join(fields, " ") + "\n")
	}
	return out.Bytes()
}

// smapsRollup is /proc/self/smaps_rollup summed over the program's mappings (smaps)
// alone. Linux's rollup also splits Pss by the kind of page (Pss_Anon, Pss_File,
// Pss_Shmem), which smaps does not show per mapping: golos splits it by the kind of
// mapping, anonymous pages (Anonymous) first.
func (p *Process) smapsRollup() []byte {
	raw, err := readHostFile("/proc/self/smaps")
	if err != nil {
		return nil
	}
	host, err := readHostFile("/proc/self/smaps_rollup")
	if err != nil {
		return nil
	}
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	p.mm.syncStack()
	view := p.mapsView()
	return view.smapsRollup(raw, host)
}

// smapsRollup is Process.smapsRollup for the process view describes, from its host's
// smaps and smaps_rollup.
func (view *mapsView) smapsRollup(raw, host []byte) []byte {
	sums := map[string]uint64{}
	var lo, hi uint64
	first := true
	var cur map[string]uint64
	var shmem bool
	finish := func() {
		if cur == nil {
			return
		}
		anon := min(cur["Pss"], cur["Anonymous"])
		sums["Pss_Anon"] += anon
		if shmem {
			sums["Pss_Shmem"] += cur["Pss"] - anon
		} else {
			sums["Pss_File"] += cur["Pss"] - anon
		}
	}
	view.programMappings(raw, func(header string, r [2]uint64, fields map[string]uint64) {
		if strings.HasSuffix(header, " [vsyscall]") {
			return // not one of the process's mappings (the gate area): not in the rollup
		}
		finish()
		if first {
			lo, first = r[0], false
		}
		hi = r[1]
		for k, v := range fields {
			sums[k] += v
		}
		f := strings.Fields(header)
		name := ""
		if len(f) >= 6 {
			name = f[5]
		}
		shmem = len(f) >= 2 && strings.Contains(f[1], "s") &&
			(strings.HasPrefix(name, "/dev/zero") || strings.HasPrefix(name, "/memfd:") || strings.HasPrefix(name, "/SYSV"))
		cur = fields
	})
	finish()
	var out bytes.Buffer
	line := fmt.Sprintf("%08x-%08x ---p 00000000 00:00 0", lo, hi)
	out.WriteString(line + strings.Repeat(" ", max(1, 73-len(line))) + "[rollup]\n")
	for _, l := range strings.SplitAfter(string(host), "\n")[1:] {
		key, _, ok := strings.Cut(l, ":")
		if !ok || !strings.HasSuffix(l, " kB\n") {
			out.WriteString(l)
			continue
		}
		out.WriteString(kBLine(key, sums[key]))
	}
	return out.Bytes()
}

// kBLine is one "Key:   N kB" line of smaps, the number right-aligned at column 24 as
// the kernel prints it (fs/proc/task_mmu.c, SEQ_PUT_DEC).
func kBLine(key string, v uint64) string {
	k, n := key+":", strconv.FormatUint(v, 10)
	return k + strings.Repeat(" ", max(1, 24-len(k)-len(n))) + n + " kB\n"
}

// programMappings keeps, of the host's maps or smaps text raw, the program's memory (and
// the vDSO it shares with golos): golos's own mappings are left out, a mapping the host
// merged with one of golos's is cut to the program's part, and the application's main
// stack is the one marked [stack]. An smaps entry's lines after its first go with each
// part (Size its own, the counts scaled to it: smaps). each, if not nil, is called
// for each part with its first line, range and kB counts.
func (p *Process) programMappings(raw []byte, each func(header string, r [2]uint64, fields map[string]uint64)) []byte {
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	p.mm.syncStack()
	view := p.mapsView()
	return view.programMappings(raw, each)
}

// mapsView is the process's mapsView. Caller holds p.mm.mu.
func (p *Process) mapsView() mapsView {
	return mapsView{owned: &p.mm.owned, startStack: p.mm.startStack, brkStart: p.mm.brkStart, brkMapped: p.mm.brkMapped, name: p.guestMapName}
}

// mapsView is what programMappings needs of a process: its program's memory, where its
// stack started and where its break's mapping is, and the name to show for a host's
// file.
type mapsView struct {
	owned                           *ranges
	startStack, brkStart, brkMapped uint64
	name                            func(string) string
}

// programMappings is Process.programMappings for the process view describes.
func (view *mapsView) programMappings(raw []byte, each func(header string, r [2]uint64, fields map[string]uint64)) []byte {
	var out bytes.Buffer
	lines := strings.SplitAfter(string(raw), "\n")
	for i := 0; i < len(lines); {
		line := strings.TrimSuffix(lines[i], "\n")
		i++
		body := i
		for i < len(lines) && lines[i] != "" && !isMapsHeader(lines[i]) {
			i++
		}
		rest := lines[body:i]
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
		var pieces [][2]uint64
		shared := false // the kernel's, which the program and golos share: as it is
		switch name {
		case "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]":
			pieces, shared = [][2]uint64{{lo, hi}}, true
		case "[stack]", "[heap]":
			name = "" // golos's
			fallthrough
		default:
			pieces = view.owned.intersect(lo, hi)
			name = view.name(name)
		}
		for _, r := range pieces {
			header := line
			if !shared {
				n := name
				switch {
				case r[0] <= view.startStack && r[1] >= view.startStack:
					// Linux names the region that holds the stack pointer the program
					// started with (fs/proc/task_mmu.c, vma_is_initial_stack:
					// mm->start_stack), wherever it has grown (mremap) or been split
					// (mprotect) since.
					n = "[stack]"
				case r[0] >= pageUp(view.brkStart) && r[1] <= view.brkMapped && n == "":
					n = "[heap]"
				}
				off, _ := strconv.ParseUint(f[2], 16, 64)
				off += r[0] - lo
				header = fmt.Sprintf("%08x-%08x %s %08x %s %s", r[0], r[1], f[1], off, f[3], f[4])
				if n != "" {
					header += strings.Repeat(" ", max(1, 73-len(header))) + n // the kernel pads to column 73
				}
			}
			out.WriteString(header + "\n")
			fields := map[string]uint64{}
			for _, l := range rest {
				key, val, ok := strings.Cut(l, ":")
				num, isKB := strings.CutSuffix(strings.TrimSpace(val), " kB")
				v, err := strconv.ParseUint(num, 10, 64)
				if !ok || !isKB || err != nil {
					out.WriteString(l)
					continue
				}
				switch {
				case key == "Size":
					v = (r[1] - r[0]) >> 10
				case key == "KernelPageSize" || key == "MMUPageSize":
				case r[1]-r[0] != hi-lo:
					v = v * (r[1] - r[0]) / (hi - lo)
				}
				if key != "KernelPageSize" && key != "MMUPageSize" {
					fields[key] = v
				}
				out.WriteString(kBLine(key, v))
			}
			if each != nil {
				each(header, r, fields)
			}
		}
	}
	return out.Bytes()
}

// guestMapName is the name maps shows for a mapping of the file the host names name: with
// a root, its path inside the root, as Linux shows a chrooted process's mappings
// (fs/proc/task_mmu.c, show_map_vma → seq_file_path → d_path, relative to the process's
// root), not the host's path of the root (nor, after a chroot inside --root, of a file
// outside the new root); " (deleted)" stays at the end (d_path). A
// name outside the root and its volumes (a memfd's "/memfd:…") is left as it is, as
// d_path leaves a path the root does not reach.
func (p *Process) guestMapName(name string) string {
	if p.fsctx.root == nil || !strings.HasPrefix(name, "/") {
		return name
	}
	host, deleted := strings.CutSuffix(name, " (deleted)")
	g, ok := p.fsctx.root.Guest(host)
	if !ok {
		// Outside the program's chroot but in --root: from --root, the namespace's
		// root (d_path), never by the root's place on the host.
		g, ok = p.outerGuest(host)
	}
	if !ok {
		return name
	}
	if deleted {
		g += " (deleted)"
	}
	return g
}

// isMapsHeader reports whether line is the first line of a maps or smaps entry: an
// address range, where smaps's other lines start with a key and a colon.
func isMapsHeader(line string) bool {
	rng, _, _ := strings.Cut(line, " ")
	_, _, ok := parseRange(rng)
	return ok
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
	// The program's descriptor is read-only, as a /proc file's opened O_RDONLY is: write(2)
	// fails with EBADF, ftruncate(2) with EINVAL, a shared writable mmap(2) with EACCES,
	// and fcntl(F_GETFL) says O_RDONLY, where the memfd, made read-write, would take them
	// (a program that wrote its status file and read it back saw its own words). It is
	// the memfd opened again through /proc/self/fd read-only, put at the memfd's number.
	if err := unix.Fchmod(fd, procFileMode); err != nil {
		unix.Close(fd)
		return -int64(errnoOf(err))
	}
	ro, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(fd)
		return -int64(errnoOf(err))
	}
	err = unix.Dup3(ro, fd, flags&unix.O_CLOEXEC)
	unix.Close(ro)
	if err != nil {
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
	out := make([]byte, 0, 8<<10)
	for {
		if len(out) == cap(out) {
			out = slices.Grow(out, len(out))
		}
		n, err := unix.Read(fd, out[len(out):cap(out)])
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return out, nil
		}
		out = out[:len(out)+n]
	}
}
