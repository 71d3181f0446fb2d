// This file is built only by internal/build, as hostfd_unsafe.go (the golosbuild tag,
// -checklinkname=0); a plain go build gets plainbuild.go's startIgnored.

//go:build golosbuild

package main

import (
	_ "unsafe" // go:linkname

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// runtimeFwdSig is the Go runtime's record of each signal's action when the process
// started (runtime/signal_unix.go, initsig: fwdSig[i] = getsig(i)), before it put its own
// handler in place of most: only SIGHUP and SIGINT stay ignored on the host
// (sigInstallGoHandler), the others are ignored nowhere but here.
//
//go:linkname runtimeFwdSig runtime.fwdSig
var runtimeFwdSig [65]uintptr

// startIgnored returns the signals golos's process was started with ignored, which the
// program inherits natively: execve(2) keeps an ignored signal ignored, and a shell's
// `trap "" TERM` or a supervisor that ignores SIGPIPE passes them on (signal(7),
// "Signal disposition": "During an execve(2), the dispositions of handled signals are
// reset to the default; the dispositions of ignored signals are left unchanged"). Those
// golos needs for itself (SIGSYS, its kick, the fault signals, whose ignoring Linux
// overrides for a fault anyway: kernel/signal.c, force_sig_info_to_task) are left out.
func startIgnored() uint64 {
	var set uint64
	for sig := unix.Signal(1); sig <= 64; sig++ {
		if runtimeFwdSig[sig] != 1 { // SIG_IGN
			continue
		}
		switch sig {
		case unix.SIGKILL, unix.SIGSTOP, unix.SIGSYS, entry.KickSignal, unix.SIGSEGV, unix.SIGBUS,
			unix.SIGFPE, unix.SIGILL, unix.SIGTRAP:
			continue
		}
		set |= 1 << (sig - 1)
	}
	return set
}
