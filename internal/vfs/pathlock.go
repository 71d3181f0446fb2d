package vfs

import "golang.org/x/sys/unix"

// LockPaths takes a lock, shared or exclusive, that keeps the directories of the root's
// and volumes' host paths from being replaced while a call that must name a host path
// by its string runs. bind(2) of a unix socket is one: Linux looks its sun_path up by
// string and records that string as the socket's name (net/unix/af_unix.c,
// unix_bind_bsd: kern_path_create), so golos gives the host path of the directory it
// resolved; a rename(2) or rmdir(2) in the tree between golos's check and the host's
// lookup could put a symlink to any host directory in its place. Those calls take the
// lock shared, bind exclusive.
//
// The lock is flock(2) on a descriptor of the root opened for the call: flock locks
// belong to open file descriptions, so it holds between the threads of one golos and
// between the golos processes of a tree alike. A host process that changes the tree
// (or a program that reaches the host's syscalls past golos, which only --sandbox's
// mount namespace stops) does not take it. unlock releases it; without a root
// descriptor that can be opened for reading, no lock is taken.
func (fs *FS) LockPaths(exclusive bool) (unlock func()) {
	var root *Mount
	for _, m := range fs.mounts {
		if m.Guest == "/" {
			root = m
		}
	}
	if root == nil {
		return func() {}
	}
	leave := EnterLow()
	fd, err := unix.Openat(root.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		leave()
		return func() {}
	}
	fd = holdTemp(fd) // a temporary descriptor (tempfd.go)
	leave()
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	for unix.Flock(fd, how) == unix.EINTR {
	}
	return func() { closeTemp(fd) }
}
