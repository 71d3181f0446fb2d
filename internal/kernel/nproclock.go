package kernel

import (
	"strconv"
	"sync"

	"golang.org/x/sys/unix"

	"golos/internal/vfs"
)

// The user's golos processes make their forks and threads one at a time while the task
// limit binds: taskRoom's count and the clone that follows are not atomic, and a tree of
// golos processes that fork at once would each see room for one more golos and together
// pass the limit, where one of them (or a new child's) Go runtime then dies (nproc.go).
// The lock is flock(2)'s on a file of the user's, taken before the count and let go once
// the new task is running: a fork's child golos has then received the process and
// started its thread, so the next count sees it.
//
// The file is nproc.lock in a directory of the user's own in the temporary directory
// (golos-UID, mode 0700, in $TMPDIR or else /tmp), reached by every golos of the user
// that sees the same /tmp. Where it cannot be made or is not the user's, there is no
// lock: the count alone then guards.
//
// In a --sandbox (Options.TaskLimit), whose limits count the sandbox's tasks alone (its
// pids cgroup, or RLIMIT_NPROC in its user namespace) and whose /tmp may be out of
// golos's reach (--root), the lock is on /proc/1, the directory of the sandbox's first
// process in the pid namespace's own procfs: flock(2) locks an inode, whatever the
// file system (fs/locks.c), and every golos in the sandbox holds that directory open,
// so all of them open the same inode. Sandboxes then do not wait for one another.
var nprocLockFile struct {
	once sync.Once
	fd   int // -1: none
}

// nprocLockWait bounds the wait for the lock, in 1 ms steps: a golos stopped (SIGSTOP)
// while it holds the lock must not stop the user's other golos processes' forks for
// ever. Past it the fork goes on without the lock.
const nprocLockWait = 2000

// lockNproc takes the user's lock while a task limit binds golos's process (taskRoom)
// and returns the function that lets it go, which may be called more than once.
func (p *Process) lockNproc() (unlock func()) {
	if !p.taskLimitBinds() || p.farFromLimits() {
		return func() {}
	}
	nprocLockFile.once.Do(func() {
		if p.opts.TaskLimit > 0 {
			nprocLockFile.fd = openSandboxLock()
		} else {
			openNprocLock()
		}
	})
	fd := nprocLockFile.fd
	if fd < 0 {
		return func() {}
	}
	for i := 0; ; i++ {
		err := unix.Flock(fd, unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return sync.OnceFunc(func() { unix.Flock(fd, unix.LOCK_UN) })
		}
		if (err != unix.EWOULDBLOCK && err != unix.EINTR) || i == nprocLockWait {
			return func() {}
		}
		unix.Nanosleep(&unix.Timespec{Nsec: 1e6}, nil)
	}
}

// openNprocLock opens the user's lock file, once a process, at a descriptor of golos's
// own (vfs.MoveHigh), close-on-exec: in $TMPDIR, or in /tmp when that cannot hold it
// (not one the user may write, say). It uses plain system calls, no os.File (see
// countTasks).
func openNprocLock() {
	nprocLockFile.fd = -1
	dirs := []string{"/tmp"}
	if d, ok := unix.Getenv("TMPDIR"); ok && len(d) > 1 && d[0] == '/' && d != "/tmp" {
		dirs = []string{d, "/tmp"}
	}
	for _, tmp := range dirs {
		if fd, ok := openLockIn(tmp); ok {
			nprocLockFile.fd = fd
			return
		}
	}
}

// openSandboxLock opens /proc/1, at a descriptor of golos's own, or returns -1.
func openSandboxLock() int {
	fd, err := unix.Open("/proc/1", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1
	}
	if fd, err = vfs.MoveHigh(fd); err != nil {
		return -1
	}
	return fd
}

// openLockIn opens (making it if need be) tmp/golos-UID/nproc.lock.
func openLockIn(tmp string) (int, bool) {
	uid := unix.Getuid()
	dir := tmp + "/golos-" + strconv.Itoa(uid)
	if err := unix.Mkdir(dir, 0o700); err != nil && err != unix.EEXIST {
		return -1, false
	}
	// Another user could have made the directory first (/tmp is everyone's): only one
	// that is the user's, and no one else's to write, is used.
	var st unix.Stat_t
	if unix.Lstat(dir, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR || int(st.Uid) != uid || st.Mode&0o022 != 0 {
		return -1, false
	}
	fd, err := unix.Open(dir+"/nproc.lock", unix.O_RDWR|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return -1, false
	}
	fd, err = vfs.MoveHigh(fd)
	return fd, err == nil
}

// farFromLimits reports whether the host's tasks are so few that the user's golos
// processes cannot together reach a binding task limit, however many fork at once: each
// task could be a golos process (golosThreads), and each could be forking a child of as
// many, which the count does not see yet. Forks then need no lock: taken on every fork,
// it would make the user's forks, sandboxes' included, wait for one another far from any
// limit.
func (p *Process) farFromLimits() bool {
	total, ok := hostTasks()
	if !ok {
		return false
	}
	need := total*2*golosThreads + golosThreads + nprocReserve
	if limit, binds := p.nprocLimit(); binds && need > limit {
		return false
	}
	for _, l := range pidsLimits() {
		if need > l.max {
			return false
		}
	}
	return p.opts.TaskLimit <= 0 || need <= uint64(p.opts.TaskLimit)
}
