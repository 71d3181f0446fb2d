package kernel

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// The host's names (uname(2)) are the host's UTS namespace's, which golos shares: a
// program may not change them (a container has a namespace of its own, and may not
// change it without CAP_SYS_ADMIN). A process made by a clone with CLONE_NEWUTS, and its
// descendants, are in a namespace of their own (the host's clone of their golos made it,
// cloneflags.go), whose names they may set as on Linux (uts_namespaces(7)).

// ownUTS says whether this golos's process is in a UTS namespace the program's tree made.
var ownUTS atomic.Bool

const whyUTS = "golos shares the host's UTS namespace: a container has its own, and may not change it without CAP_SYS_ADMIN"

// sethostname(2).
func sysSethostname(t *Thread) int64 {
	if ownUTS.Load() {
		return passthrough(t)
	}
	return t.p.refused(unix.SYS_SETHOSTNAME, &sysRecord{errno: unix.EPERM, why: whyUTS})
}

// setdomainname(2).
func sysSetdomainname(t *Thread) int64 {
	if ownUTS.Load() {
		return passthrough(t)
	}
	return t.p.refused(unix.SYS_SETDOMAINNAME, &sysRecord{errno: unix.EPERM, why: whyUTS})
}
