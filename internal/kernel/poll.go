package kernel

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// poll(2), ppoll(2), select(2) and pselect6 on golos's own descriptors. The host would
// report them open; to the program they are closed numbers, which Linux answers with
// POLLNVAL in the entry's revents (fs/select.c, do_pollfd: counted in the result, so the
// call returns at once) and with EBADF from a select whose sets name one below the size
// of the descriptor table (fs/select.c, max_select_fd; numbers at or above that size are
// ignored, core_sys_select, and golos's own descriptors are always below it). Calls that
// name none of golos's are the host's, and the entry code makes them itself at a
// rewritten site (entry.PlainPoll, entry.PlainSelect): a look at each pollfd, or one
// comparison of select's nfds with golos's lowest descriptor.

// maxPollFDs bounds the pollfds golos reads: fs/file.c's sysctl_nr_open_max on x86-64
// is about 2^31, but the default nr_open, and so any RLIMIT_NOFILE a program can have
// without root raising it, is 2^20 (Documentation/admin-guide/sysctl/fs.rst). Beyond it
// the host answers (EINVAL, nfds over RLIMIT_NOFILE).
const maxPollFDs = 1 << 20

// poll(2).
func sysPoll(t *Thread) int64 {
	if r, ok := t.pollOwn(0); ok {
		return r
	}
	return passthroughWait(t)
}

// pollOwn answers a poll or ppoll (whose struct timespec is at ts, or 0) that names one
// of golos's own descriptors, as Linux answers one with a closed descriptor: the others
// as they are now (the host's poll with no time to wait, golos's entries left out with a
// negative fd, which poll ignores), POLLNVAL in golos's entries' revents, and the count of
// entries with revents set. ok is false when the call names none of them, or cannot be
// read (the host then fails it with EFAULT or EINVAL as Linux does).
func (t *Thread) pollOwn(ts uint64) (r int64, ok bool) {
	start := time.Now()
	addr, n := t.arg(0), uint64(uint32(t.arg(1)))
	if n == 0 || n > maxPollFDs || len(t.p.files.ownFDs) == 0 {
		return 0, false
	}
	buf := make([]byte, 8*n)
	if copyIn(addr, buf) != 0 {
		return 0, false
	}
	fds := make([]unix.PollFd, n)
	var own []int
	for i := range fds {
		fd := int32(binary.LittleEndian.Uint32(buf[8*i:]))
		fds[i] = unix.PollFd{Fd: fd, Events: int16(binary.LittleEndian.Uint16(buf[8*i+4:]))}
		if fd >= 0 && entry.OwnFDs[fd&0xffff] != 0 && t.p.ownFD(int(fd)) {
			fds[i].Fd = -1
			own = append(own, i)
		}
	}
	if own == nil {
		return 0, false
	}
	// What Linux checks before it looks at a descriptor (fs/select.c, ppoll and
	// do_sys_poll): the time limit, then nfds against RLIMIT_NOFILE.
	var limit time.Duration
	if ts != 0 {
		d, e := readTimespec(ts)
		if e != 0 {
			return -int64(e), true
		}
		limit = d
	}
	if n > t.p.nofileCur() {
		return -int64(unix.EINVAL), true
	}
	for {
		c, err := unix.Poll(fds, 0)
		if err == unix.EINTR {
			continue // a signal of golos's own: the program's wait is not over
		}
		if err != nil {
			return -int64(errnoOf(err)), true
		}
		r = int64(c)
		break
	}
	for _, i := range own {
		fds[i].Revents = unix.POLLNVAL
	}
	r += int64(len(own))
	// Linux writes every entry's revents back (do_sys_poll).
	for i := range fds {
		var rev [2]byte
		binary.LittleEndian.PutUint16(rev[:], uint16(fds[i].Revents))
		if e := copyOut(addr+8*uint64(i)+6, rev[:]); e != 0 {
			return -int64(e), true
		}
	}
	if ts != 0 && limit > 0 {
		writeTimeLeft(ts, false, limit-time.Since(start))
	}
	return r, true
}

// select(2).
func sysSelect(t *Thread) int64 {
	if e, ok := t.selectOwn(false); ok {
		return -int64(e)
	}
	return passthrough(t)
}

// selectOwn answers a select (or, with pselect, a pselect6) whose sets name one of
// golos's own descriptors below nfds: EBADF, after the checks Linux makes first
// (fs/select.c: kern_select or do_pselect read the time limit, EFAULT or EINVAL, and
// pselect's mask; core_sys_select reads the three sets, EFAULT). ok is false when no set
// names one, or one cannot be read where golos looked (the host then answers).
func (t *Thread) selectOwn(pselect bool) (e unix.Errno, ok bool) {
	start := time.Now()
	nfds := int64(int32(t.arg(0)))
	own := t.p.files.ownFDs
	named := false
	for _, fd := range own {
		if int64(fd) >= nfds {
			continue
		}
		for _, set := range []uint64{t.arg(1), t.arg(2), t.arg(3)} {
			if set == 0 {
				continue
			}
			var w [8]byte
			if copyIn(set+uint64(fd/64)*8, w[:]) != 0 {
				return 0, false
			}
			named = named || binary.LittleEndian.Uint64(w[:])>>(fd%64)&1 != 0
		}
	}
	if !named {
		return 0, false
	}
	var limit time.Duration
	if tv := t.arg(4); tv != 0 {
		var d time.Duration
		if pselect {
			d, e = readTimespec(tv)
		} else {
			d, e = readTimeval(tv)
		}
		if e != 0 {
			return e, true
		}
		limit = d
	}
	if pselect && t.arg(5) != 0 {
		if _, _, e := readMaskPack(t.arg(5)); e != 0 {
			return e, true
		}
	}
	// core_sys_select reads each set whole, up to nfds or the table's size if that is
	// smaller, before it looks at a descriptor.
	words := (min(nfds, fdTableSize()) + 63) / 64
	buf := make([]byte, 8*words)
	for _, set := range []uint64{t.arg(1), t.arg(2), t.arg(3)} {
		if set != 0 && copyIn(set, buf) != 0 {
			return unix.EFAULT, true
		}
	}
	if tv := t.arg(4); tv != 0 && limit > 0 {
		writeTimeLeft(tv, !pselect, limit-time.Since(start))
	}
	return unix.EBADF, true
}

// readTimespec reads a poll or pselect time limit, a struct timespec: EFAULT, or EINVAL
// for one timespec64_valid refuses (include/linux/time64.h: a negative second, or
// nanoseconds outside [0, 1e9)).
func readTimespec(addr uint64) (time.Duration, unix.Errno) {
	var b [16]byte
	if e := copyIn(addr, b[:]); e != 0 {
		return 0, e
	}
	sec, nsec := int64(binary.LittleEndian.Uint64(b[:8])), int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, unix.EINVAL
	}
	return clampDuration(sec, nsec), 0
}

// readTimeval reads select's struct timeval as kern_select does: the microseconds may
// carry into the seconds, and what remains must make a valid timespec.
func readTimeval(addr uint64) (time.Duration, unix.Errno) {
	var b [16]byte
	if e := copyIn(addr, b[:]); e != 0 {
		return 0, e
	}
	sec, usec := int64(binary.LittleEndian.Uint64(b[:8])), int64(binary.LittleEndian.Uint64(b[8:]))
	sec += usec / 1e6
	nsec := (usec % 1e6) * 1e3
	if sec < 0 || nsec < 0 {
		return 0, unix.EINVAL
	}
	return clampDuration(sec, nsec), 0
}

// clampDuration is sec seconds and nsec nanoseconds, at most about 292 years.
func clampDuration(sec, nsec int64) time.Duration {
	if sec >= int64(time.Duration(1<<62)/time.Second) {
		return 1 << 62
	}
	return time.Duration(sec)*time.Second + time.Duration(nsec)
}

// writeTimeLeft writes the time left of a call's limit back, as poll_select_finish does
// when the call returns: a struct timeval (select, microseconds cut off) or a struct
// timespec. A limit that cannot be written back is no error (the call's result stands).
func writeTimeLeft(addr uint64, timeval bool, left time.Duration) {
	left = max(left, 0)
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(left/time.Second))
	frac := left % time.Second
	if timeval {
		frac /= time.Microsecond
	}
	binary.LittleEndian.PutUint64(b[8:], uint64(frac))
	copyOut(addr, b[:])
}

// fdTableSize is the size of the process's descriptor table (fdt->max_fds), which
// /proc/self/status shows as FDSize (fs/proc/array.c); a large number if it cannot be
// read.
func fdTableSize() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err == nil {
		s := bufio.NewScanner(bytes.NewReader(data))
		for s.Scan() {
			if v, ok := bytes.CutPrefix(s.Bytes(), []byte("FDSize:")); ok {
				if n, err := strconv.ParseInt(string(bytes.TrimSpace(v)), 10, 64); err == nil {
					return n
				}
			}
		}
	}
	return 1 << 30
}

// nofileCur is the program's soft RLIMIT_NOFILE.
func (p *Process) nofileCur() uint64 {
	p.nofileMu.Lock()
	defer p.nofileMu.Unlock()
	if p.opts.Nofile != nil {
		return p.opts.Nofile.Cur
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &rl) != nil {
		return maxPollFDs
	}
	return rl.Cur
}
