package oci

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// process.capabilities (config.md, "Linux Process"): the container's processes run with
// the capabilities the config grants and no others, set on the init process before it
// becomes golos, in runc's order (libcontainer/init_linux.go, finalizeNamespace): the
// bounding set is cut first (PR_CAPBSET_DROP needs CAP_SETPCAP, which the init process
// still has), the capabilities are kept across setuid (PR_SET_KEEPCAPS), and after it
// the effective, permitted and inheritable sets are set with capset(2) and the ambient
// set is raised (capabilities(7)). execve(2) of golos then gives a root process its
// bounding set as its permitted and effective ones, as runc's execve of the program
// does; golos's own calls need none of the capabilities a container is denied.

// Capabilities is process.capabilities: the names (CAP_CHOWN, …) in each set.
type Capabilities struct {
	Bounding    []string `json:"bounding"`
	Effective   []string `json:"effective"`
	Inheritable []string `json:"inheritable"`
	Permitted   []string `json:"permitted"`
	Ambient     []string `json:"ambient"`
}

// capNames are the capabilities by name (<linux/capability.h>).
var capNames = map[string]int{
	"CAP_CHOWN": unix.CAP_CHOWN, "CAP_DAC_OVERRIDE": unix.CAP_DAC_OVERRIDE,
	"CAP_DAC_READ_SEARCH": unix.CAP_DAC_READ_SEARCH, "CAP_FOWNER": unix.CAP_FOWNER,
	"CAP_FSETID": unix.CAP_FSETID, "CAP_KILL": unix.CAP_KILL, "CAP_SETGID": unix.CAP_SETGID,
	"CAP_SETUID": unix.CAP_SETUID, "CAP_SETPCAP": unix.CAP_SETPCAP,
	"CAP_LINUX_IMMUTABLE": unix.CAP_LINUX_IMMUTABLE, "CAP_NET_BIND_SERVICE": unix.CAP_NET_BIND_SERVICE,
	"CAP_NET_BROADCAST": unix.CAP_NET_BROADCAST, "CAP_NET_ADMIN": unix.CAP_NET_ADMIN,
	"CAP_NET_RAW": unix.CAP_NET_RAW, "CAP_IPC_LOCK": unix.CAP_IPC_LOCK, "CAP_IPC_OWNER": unix.CAP_IPC_OWNER,
	"CAP_SYS_MODULE": unix.CAP_SYS_MODULE, "CAP_SYS_RAWIO": unix.CAP_SYS_RAWIO,
	"CAP_SYS_CHROOT": unix.CAP_SYS_CHROOT, "CAP_SYS_PTRACE": unix.CAP_SYS_PTRACE,
	"CAP_SYS_PACCT": unix.CAP_SYS_PACCT, "CAP_SYS_ADMIN": unix.CAP_SYS_ADMIN,
	"CAP_SYS_BOOT": unix.CAP_SYS_BOOT, "CAP_SYS_NICE": unix.CAP_SYS_NICE,
	"CAP_SYS_RESOURCE": unix.CAP_SYS_RESOURCE, "CAP_SYS_TIME": unix.CAP_SYS_TIME,
	"CAP_SYS_TTY_CONFIG": unix.CAP_SYS_TTY_CONFIG, "CAP_MKNOD": unix.CAP_MKNOD, "CAP_LEASE": unix.CAP_LEASE,
	"CAP_AUDIT_WRITE": unix.CAP_AUDIT_WRITE, "CAP_AUDIT_CONTROL": unix.CAP_AUDIT_CONTROL,
	"CAP_SETFCAP": unix.CAP_SETFCAP, "CAP_MAC_OVERRIDE": unix.CAP_MAC_OVERRIDE,
	"CAP_MAC_ADMIN": unix.CAP_MAC_ADMIN, "CAP_SYSLOG": unix.CAP_SYSLOG, "CAP_WAKE_ALARM": unix.CAP_WAKE_ALARM,
	"CAP_BLOCK_SUSPEND": unix.CAP_BLOCK_SUSPEND, "CAP_AUDIT_READ": unix.CAP_AUDIT_READ,
	"CAP_PERFMON": unix.CAP_PERFMON, "CAP_BPF": unix.CAP_BPF, "CAP_CHECKPOINT_RESTORE": unix.CAP_CHECKPOINT_RESTORE,
}

// capMask is the set of the names a host kernel whose last capability is last knows;
// the others are left out, as runc leaves out the ones it does not know (with a warning).
func capMask(names []string, last int) uint64 {
	var m uint64
	for _, n := range names {
		if c, ok := capNames[strings.ToUpper(n)]; ok && c <= last {
			m |= 1 << c
		}
	}
	return m
}

// lastCap is the host kernel's last capability (/proc/sys/kernel/cap_last_cap).
func lastCap() int {
	data, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		return unix.CAP_LAST_CAP
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return unix.CAP_LAST_CAP
	}
	return n
}

// dropBounding cuts the bounding set to c's and keeps the capabilities across the
// setuid to come. The calling thread's: the init process is locked to its thread.
func (c *Capabilities) dropBounding() error {
	last := lastCap()
	keep := capMask(c.Bounding, last)
	for cap := 0; cap <= last; cap++ {
		if keep&(1<<cap) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(cap), 0, 0, 0); err != nil {
			return fmt.Errorf("capabilities: drop %d from the bounding set: %w", cap, err)
		}
	}
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("capabilities: keepcaps: %w", err)
	}
	return nil
}

// apply sets the effective, permitted, inheritable and ambient sets, after setuid.
func (c *Capabilities) apply() error {
	if err := unix.Prctl(unix.PR_SET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("capabilities: keepcaps: %w", err)
	}
	last := lastCap()
	eff, perm, inh := capMask(c.Effective, last), capMask(c.Permitted, last), capMask(c.Inheritable, last)
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData // the low 32 capabilities, then the high ones
	for i := range data {
		data[i] = unix.CapUserData{Effective: uint32(eff >> (32 * i)), Permitted: uint32(perm >> (32 * i)),
			Inheritable: uint32(inh >> (32 * i))}
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capabilities: capset: %w", err)
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("capabilities: clear the ambient set: %w", err)
	}
	amb := capMask(c.Ambient, last)
	for cap := 0; cap <= last; cap++ {
		if amb&(1<<cap) == 0 {
			continue
		}
		// An ambient capability must be permitted and inheritable; runc ignores the
		// failure of one that is not (it logs it), and so does golos-oci.
		unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_RAISE, uintptr(cap), 0, 0)
	}
	return nil
}
