package kernel

import (
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sys/unix"
)

// A thread's credentials are its own on Linux (struct cred, include/linux/cred.h), and a
// new thread gets a copy of its creator's (kernel/fork.c, copy_process → copy_creds).
// setuid(2) and the like change only the calling thread's: libc makes every thread it
// knows of make the same call (glibc's SIGSETXID, musl's __synccall; nptl(7)), and
// capset(2) and prctl(2)'s PR_SET_NO_NEW_PRIVS and PR_SET_KEEPCAPS it leaves to the
// thread. golos passes those calls to the host on the calling thread, which is right,
// but runs a new application thread on a spare OS thread (thread.go) that has the
// credentials golos started with, not the creator's: a program that dropped root would
// get threads that are root again. So clone takes the creator's credentials
// (currentCreds, on the creator's OS thread) and the spare takes them on before it runs
// the thread (adoptCreds).
//
// Reading the creator's credentials costs eight syscalls at each thread start, so clone
// does it only once a thread of the process has changed its own (passthroughCreds):
// until then every thread has golos's, which the spares have too.
//
// What is copied: the real, effective, saved and filesystem user and group ids, the
// supplementary groups, the permitted, effective and inheritable capabilities,
// PR_SET_KEEPCAPS and no_new_privs. Not copied: the capability bounding and ambient sets
// and the securebits, which a program rarely changes in one thread only.
type threadCreds struct {
	uid, gid     [3]int // real, effective, saved (getresuid(2))
	fsuid, fsgid int
	groups       []int
	caps         [2]unix.CapUserData // capget(2), _LINUX_CAPABILITY_VERSION_3
	keepCaps     int
	noNewPrivs   int
}

// currentCreds returns the calling OS thread's credentials. The calls are the raw
// per-thread ones: Go's syscall.Setuid family acts on every thread of the process
// (syscall.AllThreadsSyscall), which would change golos's own threads.
func currentCreds() (threadCreds, error) {
	var c threadCreds
	c.uid[0], c.uid[1], c.uid[2] = unix.Getresuid()
	c.gid[0], c.gid[1], c.gid[2] = unix.Getresgid()
	// setfsuid(2) returns the previous fsuid; -1 is no uid, so nothing changes.
	c.fsuid, _ = unix.SetfsuidRetUid(-1)
	c.fsgid, _ = unix.SetfsgidRetGid(-1)
	var err error
	if c.groups, err = unix.Getgroups(); err != nil {
		return c, fmt.Errorf("getgroups: %w", err)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	if err := unix.Capget(&hdr, &c.caps[0]); err != nil {
		return c, fmt.Errorf("capget: %w", err)
	}
	if c.keepCaps, err = unix.PrctlRetInt(unix.PR_GET_KEEPCAPS, 0, 0, 0, 0); err != nil {
		return c, fmt.Errorf("prctl PR_GET_KEEPCAPS: %w", err)
	}
	if c.noNewPrivs, err = unix.PrctlRetInt(unix.PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0); err != nil {
		return c, fmt.Errorf("prctl PR_GET_NO_NEW_PRIVS: %w", err)
	}
	return c, nil
}

func (c *threadCreds) equal(o *threadCreds) bool {
	return c.uid == o.uid && c.gid == o.gid && c.fsuid == o.fsuid && c.fsgid == o.fsgid &&
		slices.Equal(c.groups, o.groups) && c.caps == o.caps && c.keepCaps == o.keepCaps &&
		c.noNewPrivs == o.noNewPrivs
}

// adoptCreds gives the calling OS thread the credentials want, if it has others. The thread
// is a spare of golos's, with the credentials golos started with, which are at least
// the creator's (a thread cannot gain privileges without an execve, which golos makes in
// its own process: exec.go); the order is what that needs: groups and gids while the
// thread still has CAP_SETGID, the uids with PR_SET_KEEPCAPS so that the permitted
// capabilities outlive the change (capabilities(7), "Effect of user ID changes on
// capabilities"), the fs ids with every permitted capability effective, then the
// creator's capabilities, a subset of those.
func adoptCreds(want *threadCreds) error {
	have, err := currentCreds()
	if err != nil {
		return err
	}
	if have.equal(want) {
		return nil
	}
	call := func(what string, nr, a1, a2, a3 uintptr) error {
		if _, _, e := unix.RawSyscall(nr, a1, a2, a3); e != 0 {
			return fmt.Errorf("%s: %w", what, e)
		}
		return nil
	}
	prctl := func(what string, option, arg uintptr) error {
		return call("prctl "+what, unix.SYS_PRCTL, option, arg, 0)
	}
	if want.noNewPrivs != have.noNewPrivs {
		// One way only (prctl(2)): a spare never has it when its creator has not.
		if err := prctl("PR_SET_NO_NEW_PRIVS", unix.PR_SET_NO_NEW_PRIVS, 1); err != nil {
			return err
		}
	}
	if !slices.Equal(want.groups, have.groups) {
		if err := unix.Setgroups(want.groups); err != nil { // the calling thread's only
			return fmt.Errorf("setgroups: %w", err)
		}
	}
	id := func(v int) uintptr { return uintptr(uint32(v)) }
	if err := call("setresgid", unix.SYS_SETRESGID, id(want.gid[0]), id(want.gid[1]), id(want.gid[2])); err != nil {
		return err
	}
	if err := call("setfsgid", unix.SYS_SETFSGID, id(want.fsgid), 0, 0); err != nil {
		return err
	}
	if err := prctl("PR_SET_KEEPCAPS", unix.PR_SET_KEEPCAPS, 1); err != nil {
		return err
	}
	if err := call("setresuid", unix.SYS_SETRESUID, id(want.uid[0]), id(want.uid[1]), id(want.uid[2])); err != nil {
		return err
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var caps [2]unix.CapUserData
	if err := unix.Capget(&hdr, &caps[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	for i := range caps {
		caps[i].Effective = caps[i].Permitted
	}
	if err := unix.Capset(&hdr, &caps[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if err := call("setfsuid", unix.SYS_SETFSUID, id(want.fsuid), 0, 0); err != nil {
		return err
	}
	caps = want.caps
	if err := unix.Capset(&hdr, &caps[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	if err := prctl("PR_SET_KEEPCAPS", unix.PR_SET_KEEPCAPS, uintptr(want.keepCaps)); err != nil {
		return err
	}
	// setfsuid(2) and setfsgid(2) say nothing when they fail: the result is checked.
	if have, err = currentCreds(); err != nil {
		return err
	}
	if !have.equal(want) {
		return fmt.Errorf("the thread has %+v, not %+v", have, *want)
	}
	return nil
}

// passthroughCreds makes a call that changes the calling thread's credentials (the
// setuid(2) family, setgroups(2), setfsuid(2), capset(2), and prctl(2)'s
// PR_SET_KEEPCAPS, PR_SET_NO_NEW_PRIVS and capability options), after noting that the
// process's threads may differ from golos's own from now on.
func passthroughCreds(t *Thread) int64 {
	t.p.credsChanged.Store(true)
	return passthroughFast(t)
}

// rootCreds reports whether the calling thread's real or effective user id is 0. Until a
// thread of the process changes its credentials (credsChanged, set before the change is
// made), every thread has those golos started with, read once (startIDs); after, the
// calling thread's own are read.
func (p *Process) rootCreds() bool {
	if p.credsChanged.Load() {
		return unix.Getuid() == 0 || unix.Geteuid() == 0
	}
	ids := startIDs()
	return ids[0] == 0 || ids[1] == 0
}

// startIDs are the real and effective user ids golos's process started with.
var startIDs = sync.OnceValue(func() [2]int { return [2]int{unix.Getuid(), unix.Geteuid()} })
