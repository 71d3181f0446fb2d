package kernel

import (
	"golang.org/x/sys/unix"
)

// exit_group(2): the whole process ends with the status's low byte.
func sysExitGroup(t *Thread) int64 {
	t.exit(int(t.arg(0) & 0xff))
	return 0
}

// exit(2): the thread ends; with a single thread, so does the process, with this status.
func sysExit(t *Thread) int64 {
	t.exit(int(t.arg(0) & 0xff))
	return 0
}

// set_tid_address(2): records where the kernel clears the tid when the thread exits and
// returns the caller's tid.
func sysSetTidAddress(t *Thread) int64 {
	t.clearChildTid = t.arg(0)
	return int64(t.tid)
}

// arch_prctl(2). ARCH_SET_FS sets this thread's FS base on the host: the application owns
// FS and golos never reads or changes it again. ARCH_GET_FS is answered by the host too
// (it writes the value to the application's memory; golos never reads it). The
// application's GS needs golos to switch GS on every crossing, which it does not do yet:
// ARCH_SET_GS is refused with EPERM rather than pretended.
func sysArchPrctl(t *Thread) int64 {
	const (
		archSetGS = 0x1001
		archSetFS = 0x1002
		archGetFS = 0x1003
		archGetGS = 0x1004
	)
	switch t.arg(0) {
	case archSetFS:
		if t.arg(1) >= userEnd {
			return -int64(unix.EPERM) // as Linux: a non-canonical or kernel address
		}
		return passthroughRaw(unix.SYS_ARCH_PRCTL, archSetFS, t.arg(1), 0, 0, 0, 0)
	case archGetFS:
		return passthroughRaw(unix.SYS_ARCH_PRCTL, archGetFS, t.arg(1), 0, 0, 0, 0)
	case archGetGS:
		var zero [8]byte
		if e := copyOut(t.arg(1), zero[:]); e != 0 {
			return -int64(e)
		}
		return 0
	case archSetGS:
		t.p.unsupported("arch_prctl(ARCH_SET_GS)", "the application's own GS is not switched yet")
		return -int64(unix.EPERM)
	}
	return -int64(unix.EINVAL)
}

// unsupported names, once, a feature golos refuses.
func (p *Process) unsupported(what, why string) {
	p.noteMu.Lock()
	key := "u:" + what
	first := !p.notedFeatures[key]
	if p.notedFeatures == nil {
		p.notedFeatures = map[string]bool{}
	}
	p.notedFeatures[key] = true
	p.noteMu.Unlock()
	if first && !p.opts.Quiet {
		p.note("%s is not supported: %s", what, why)
	}
}

// gettid(2): the application thread is the host thread that runs it.
func sysGettid(t *Thread) int64 { return int64(t.tid) }
