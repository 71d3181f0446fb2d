package kernel

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"golos/internal/loader"
)

// The memory figures of /proc/PID/status, stat and statm are the host's counters of the
// whole process, golos's runtime and reservations included (a 16 TiB VmPeak, 4 MiB more
// VmRSS than the program has, golos's text as the code). golos counts them again over
// the program's mappings, as Linux keeps them for its mm_struct (fs/proc/task_mmu.c,
// task_mem and task_statm; fs/proc/array.c, do_task_stat).

// vmCounts is the program's memory as Linux counts it, in bytes.
type vmCounts struct {
	size  uint64 // total_vm: every mapping (the vDSO's too; not the vsyscall page, which is no mapping)
	peak  uint64 // hiwater_vm
	data  uint64 // data_vm: private writable mappings that are no stack
	stack uint64 // stack_vm
	exec  uint64 // exec_vm: executable mappings neither writable nor stack
	text  uint64 // the executable's code (start_code to end_code), in whole pages
	rss   uint64 // resident: anon + file + shmem
	hwm   uint64 // hiwater_rss
	anon  uint64 // MM_ANONPAGES
	shmem uint64 // MM_SHMEMPAGES: shared anonymous memory, SysV and POSIX shared memory, memfds
	file  uint64 // MM_FILEPAGES
	swap  uint64
}

// vmCounts counts the program's memory from the host's smaps of this process
// (mapsView.vmCounts).
func (p *Process) vmCounts(hostStatus []byte) (vmCounts, bool) {
	raw, err := readHostFile("/proc/self/smaps")
	if err != nil {
		return vmCounts{}, false
	}
	p.mm.mu.Lock()
	defer p.mm.mu.Unlock()
	p.mm.syncStack()
	view := p.mapsView()
	return view.vmCounts(raw, hostStatus, p.mm.data.size(), p.mm.peak, p.mm.layout), true
}

// vmCounts counts the program's memory from smaps, the host's of its process, over the
// program's memory (owned, and the vDSO's parts, which the program shares with golos),
// with what golos keeps of it: the size of its data mappings, the most it has had
// mapped (addressSpace.peak) and where its code lies. A host mapping only part of which
// is the program's (the host merged it with golos's) counts in proportion, as the
// program's smaps shows it (programMappings). hostStatus is the host's status, whose
// peak resident size (VmHWM) holds golos's own too: the program's is taken as that less
// what golos has resident now, which golos's runtime holds steady, and at least what the
// program has now. Without it hwm is the resident size. It reads smaps itself rather
// than through programMappings, which formats every line: a status read took 1.1 ms so.
func (view *mapsView) vmCounts(smaps, hostStatus []byte, data, peak uint64, l loader.Layout) vmCounts {
	c := vmCounts{data: data}
	var kernelShared uint64 // the vDSO's parts, which owned does not hold
	scanSmaps(smaps, func(lo, hi uint64, perms, name string, rss, anon, swap uint64) {
		pieces := [][2]uint64{{lo, hi}}
		switch name {
		case "[vsyscall]":
			return // the gate area, no mapping
		case "[vdso]", "[vvar]", "[vvar_vclock]":
			kernelShared += hi - lo
		default:
			pieces = view.owned.intersect(lo, hi)
		}
		for _, r := range pieces {
			size := r[1] - r[0]
			share := func(v uint64) uint64 { return v * size / (hi - lo) }
			c.size += size
			c.rss += share(rss)
			c.anon += share(anon)
			c.swap += share(swap)
			if isShmemMapping(name) {
				c.shmem += share(rss - min(rss, anon))
			}
			stack := r[0] <= view.startStack && view.startStack <= r[1]
			if stack {
				c.stack += size
			}
			if len(perms) >= 3 && perms[2] == 'x' && perms[1] != 'w' && !stack {
				c.exec += size
			}
		}
	})
	c.file = c.rss - min(c.rss, c.anon+c.shmem)
	c.peak = max(c.size, peak+kernelShared)
	// VmExe: the code's pages, at most the executable mappings (task_mem).
	c.text = min(codePages(l.StartCode, l.EndCode), c.exec)
	c.hwm = c.rss
	if host, ok := statusKB(hostStatus, "VmRSS:"); ok {
		if hostHWM, ok := statusKB(hostStatus, "VmHWM:"); ok && host >= c.rss && hostHWM >= host {
			c.hwm = max(c.rss, hostHWM-(host-c.rss))
		}
	}
	return c
}

// scanSmaps calls each with every mapping of an smaps file (proc_pid_smaps(5)): its range,
// permissions and name, and its Rss, Anonymous and Swap in bytes.
func scanSmaps(smaps []byte, each func(lo, hi uint64, perms, name string, rss, anon, swap uint64)) {
	var lo, hi, rss, anon, swap uint64
	var perms, name string
	in := false
	flush := func() {
		if in {
			each(lo, hi, perms, name, rss, anon, swap)
		}
	}
	for len(smaps) > 0 {
		line := smaps
		if i := bytes.IndexByte(smaps, '\n'); i >= 0 {
			line, smaps = smaps[:i], smaps[i+1:]
		} else {
			smaps = nil
		}
		key, val, found := bytes.Cut(line, []byte(":"))
		kb := func() uint64 {
			v, _ := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(val), []byte(" kB"))), 10, 64)
			return v << 10
		}
		switch {
		case found && string(key) == "Rss":
			rss = kb()
		case found && string(key) == "Anonymous":
			anon = kb()
		case found && string(key) == "Swap":
			swap = kb()
		case found && !bytes.Contains(key, []byte(" ")) && bytes.IndexByte(key, '-') < 0:
			// another field of the mapping ("Pss", "VmFlags")
		default:
			f := strings.Fields(string(line))
			if len(f) < 5 {
				continue
			}
			l, h, ok := parseRange(f[0])
			if !ok {
				continue
			}
			flush()
			lo, hi, perms, name, rss, anon, swap, in = l, h, f[1], strings.Join(f[5:], " "), 0, 0, 0, true
		}
	}
	flush()
}

// codePages is the size of the pages that code from start to end spans: Linux's
// PAGE_ALIGN(end_code) - (start_code & PAGE_MASK), unsigned as there.
func codePages(start, end uint64) uint64 {
	return pageUp(end) - start&^(pageSize-1)
}

// isShmemMapping reports whether a mapping of that name (as maps shows it) is shared
// memory, whose pages Linux counts as MM_SHMEMPAGES: shared anonymous memory (golos's
// memfds for it, which the program's maps show as /dev/zero's), a memfd, SysV shared
// memory, or a POSIX shared memory object in /dev/shm (shm_overview(7)). Files in other
// tmpfs mounts count as files here.
func isShmemMapping(name string) bool {
	return strings.HasPrefix(name, "/dev/zero") || strings.HasPrefix(name, "/memfd:") ||
		strings.HasPrefix(name, "/SYSV") || strings.HasPrefix(name, "/dev/shm/")
}

// statusKB is the value in bytes of a status line "name\t   N kB".
func statusKB(status []byte, name string) (uint64, bool) {
	for _, line := range bytes.Split(status, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(name)); ok {
			n, err := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(v), []byte(" kB"))), 10, 64)
			return n << 10, err == nil
		}
	}
	return 0, false
}

// statusLine is status's line for name with the value v bytes, as task_mem prints it
// ("VmRSS:\t    1780 kB").
func statusLine(name string, v uint64) string {
	return fmt.Sprintf("%s\t%8d kB\n", name, v>>10)
}

// statm is /proc/self/statm (statmOf).
func (p *Process) statm() []byte {
	c, ok := p.vmCounts(nil)
	if !ok {
		raw, _ := readHostFile("/proc/self/statm")
		return raw
	}
	p.mm.mu.Lock()
	l := p.mm.layout
	p.mm.mu.Unlock()
	return c.statm(l)
}

// statm is a statm file (proc_pid_statm(5)) of the program whose code l says where it
// lies: size, resident, shared, text, lib (always 0), data and dt (always 0), in pages,
// as task_statm counts them: shared is the file and shared-memory pages, text the
// code's pages, data the data and stack mappings.
func (c *vmCounts) statm(l loader.Layout) []byte {
	return fmt.Appendf(nil, "%d %d %d %d 0 %d 0\n", c.size/pageSize, c.rss/pageSize,
		(c.file+c.shmem)/pageSize, codePages(l.StartCode, l.EndCode)/pageSize, (c.data+c.stack)/pageSize)
}

// statusField is the program's value for status's line name (with its colon), for the
// memory lines golos counts.
func (c *vmCounts) statusField(name string) (uint64, bool) {
	switch name {
	case "VmPeak:":
		return c.peak, true
	case "VmSize:":
		return c.size, true
	case "VmHWM:":
		return c.hwm, true
	case "VmRSS:":
		return c.rss, true
	case "RssAnon:":
		return c.anon, true
	case "RssFile:":
		return c.file, true
	case "RssShmem:":
		return c.shmem, true
	case "VmStk:":
		return c.stack, true
	case "VmExe:":
		return c.text, true
	case "VmLib:":
		// task_mem: the executable mappings less the code.
		return c.exec - c.text, true
	case "VmSwap:":
		return c.swap, true
	}
	return 0, false
}

// procSnapshot marks a descriptor of a /proc file whose text golos made (virtualFile): a
// memfd holding the text as it was at the open. Linux makes a seq_file's text again at
// each read from position 0 (fs/seq_file.c, seq_read_iter: a read at 0 starts over),
// so a program that keeps /proc/self/status open and reads it again from the start
// (lseek, pread at 0) sees it change; golos writes the memfd again then. The text made
// at the open serves the first read (fresh), so that opening and reading once makes it
// once. mu keeps the reads of one open file (its dups share it) one at a time, as
// seq_read_iter's m->lock does: a read in another thread never sees the memfd emptied
// for a new text, nor half of one.
type procSnapshot struct {
	path  string
	link  string // its name in /proc/self/fd (procLinkName)
	fresh atomic.Bool
	mu    sync.Mutex
}

// readProcSnapshot makes the program's read of descriptor fd, a /proc file of golos's
// making, at position off (-1 for the descriptor's): the text written again when the
// read starts at 0 (refreshProcFile), then the read itself, the host's, with no other
// read of that file in between.
func (t *Thread) readProcSnapshot(fd int, ps *procSnapshot, off int64) int64 {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	t.refreshProcFile(fd, ps, off)
	return passthrough(t)
}

// refreshProcFile writes the text of the /proc file behind descriptor fd again when a
// read starts at position 0 (off; -1 for the descriptor's position) and the text there
// has been read since it was made. The program's descriptor is read-only (virtualFile):
// golos writes through one of its own, opened again from it for the moment.
func (t *Thread) refreshProcFile(fd int, ps *procSnapshot, off int64) {
	if off < 0 {
		pos, err := unix.Seek(fd, 0, unix.SEEK_CUR)
		if err != nil {
			return
		}
		off = pos
	}
	if off != 0 || ps.fresh.Swap(false) {
		return
	}
	content, ok := t.procFile(ps.path)
	if !ok {
		return
	}
	w, err := reopenWritable(fd)
	if err != nil {
		t.p.note("%s: writing its text again: %v", ps.path, err)
		return
	}
	defer unix.Close(w)
	if unix.Ftruncate(w, 0) != nil {
		return
	}
	for at := 0; at < len(content); {
		n, err := unix.Pwrite(w, content[at:], int64(at))
		if err != nil || n <= 0 {
			return
		}
		at += n
	}
}

// newProcSnapshot is the procSnapshot of the file at cleaned path p that thread t opened.
func (t *Thread) newProcSnapshot(p string) *procSnapshot {
	ps := &procSnapshot{path: p, link: t.procLinkName(p)}
	ps.fresh.Store(true)
	return ps
}

// procLinkName is the name /proc/self/fd/N gives a /proc file the thread opened at
// cleaned path p: the path from /proc's root (fs/d_path.c, d_path), where "self" and
// "thread-self" are the symlinks they are, to the process's and the thread's directories
// (fs/proc/self.c, fs/proc/thread_self.c).
func (t *Thread) procLinkName(p string) string {
	pid := "/proc/" + strconv.Itoa(selfPid)
	if rest, ok := strings.CutPrefix(p, "/proc/self/"); ok {
		return pid + "/" + rest
	}
	if rest, ok := strings.CutPrefix(p, "/proc/thread-self/"); ok {
		return pid + "/task/" + strconv.Itoa(t.tid) + "/" + rest
	}
	return p
}

// procSnapshotFD is the procSnapshot of descriptor N when cleaned path p is this
// process's /proc/self/fd/N and N is a /proc file of golos's
// making.
func (p *Process) procSnapshotFD(path string) *procSnapshot {
	rest, self := procRest(path)
	n, ok := strings.CutPrefix(rest, "fd/")
	if !self || !ok {
		return nil
	}
	fd, err := strconv.Atoi(n)
	if err != nil {
		return nil
	}
	w, _ := p.files.fdDirs.Load(fd)
	ps, _ := w.(*procSnapshot)
	return ps
}

// procSnapshotArg is the descriptor in the first argument when it is one of those.
func (t *Thread) procSnapshotArg() (*procSnapshot, int) { return watchedArg[procSnapshot](t) }

// procFileMode is the mode of the memfd behind a /proc file of golos's making: writable
// by all, so that golos can open it again for writing (reopenWritable) after the program
// changed its user ids (setuid(2) to one that neither owns the memfd nor may override its
// mode). Linux shows 0444 there (fs/proc/base.c, tid_base_stuff: S_IRUGO); a reopen by
// the program goes to the /proc file instead (openAt), so the mode lets nothing more in.
const procFileMode = 0o666

// reopenWritable opens the memfd behind the program's read-only descriptor fd for
// writing, as golos's own (close-on-exec): through /proc/self/fd, which opens the file
// anew (proc(5)).
func reopenWritable(fd int) (int, error) {
	w, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open /proc/self/fd/%d: %w", fd, err)
	}
	return w, nil
}
