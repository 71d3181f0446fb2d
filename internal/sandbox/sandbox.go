// Package sandbox confines a whole golos process with the host kernel (golos run
// --sandbox): a program that takes over golos's own memory, and so makes any syscall
// golos could, still cannot leave its root.
//
// It runs in three steps, the first two of them golos processes of their own:
//
//   - Spawn (the golos the user started, outside): starts golos again (/proc/self/exe)
//     in new mount, IPC, UTS and pid namespaces (a network namespace too for --net=none, and
//     a user namespace for a user other than root), then waits for it and ends as it
//     ends: the same exit status, or death by the same signal; it passes on the signals
//     sent to it and its stops.
//   - Enter (that new golos, inside the namespaces, before any program runs): with a
//     root, makes the mount namespace hold only what golos needs (onlyDirs); makes
//     /proc's kernel knobs read-only, brings up the loopback interface of a new network
//     namespace, then on its one thread that will survive execve(2) drops capabilities,
//     sets no_new_privs, the Landlock ruleset and the seccomp filter, and execs golos a
//     last time.
//   - That golos runs the program as golos always does: everything it and the program do
//     is under the ruleset and the filter, which execve(2) and fork(2) keep, so every
//     golos the program's fork or execve starts is confined too.
//
// The namespaces need a process of a single thread to be created in (unshare(2):
// CLONE_NEWUSER fails in a multi-threaded process, and CLONE_NEWNS's mounts would be
// golos's runtime threads' too), which a Go program never is: hence the new process.
// Landlock's ruleset binds only the thread that calls landlock_restrict_self(2) (before
// Linux's LANDLOCK_RESTRICT_SELF_TSYNC): hence the execve from that thread, which makes
// it the new process's only thread.
package sandbox

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// Net is the network a sandboxed program has.
type Net string

// The networks of --net.
const (
	NetHost Net = "host" // the host's network namespace, as without --sandbox
	NetNone Net = "none" // a new network namespace: only its own loopback interface
)

// A Dir is a host directory the program may reach, and how.
type Dir struct {
	What     string // what it is to the user, for errors: "root", "volume /data"
	Path     string
	ReadOnly bool
}

// Config says what the sandboxed golos may reach.
type Config struct {
	// Dirs are the root and the volumes (the host's "/" when golos has no --root).
	Dirs []Dir
	Net  Net
	// RlimitNproc, if not 0, is the RLIMIT_NPROC Enter sets in the sandbox's user
	// namespace, where Spawn could make no pids cgroup (pids.go).
	RlimitNproc int
}

// StageFlag is golos run's hidden flag that tells a golos which step of the sandbox it
// is: StageEnter or StageInside.
const StageFlag = "--sandbox-stage"

// The stages of StageFlag.
const (
	StageEnter  = "enter"
	StageInside = "inside"
)

// exe is golos's own executable: /proc/self/exe leads to the file even if its path is no
// longer reachable.
const exe = "/proc/self/exe"

// Spawn starts golos again as argv (argv[0] is its name; argv[1:] its arguments, which
// must make it Enter) with env, in new namespaces, waits for it and returns its exit
// status; if it dies of a signal, Spawn makes the calling process die of the same signal
// and does not return. It runs on the process's main thread (golos's is locked to it).
//
// pidsLimit, if not 0, bounds the sandbox's tasks (pids.go).
func Spawn(argv, env []string, net Net, pidsLimit int) (int, error) {
	// A new pid namespace, whose first process is the sandboxed golos (getpid 1), so
	// that the program sees only its own processes; nsinit.go does for it what the
	// kernel does not do for a namespace's init.
	flags := uintptr(unix.CLONE_NEWNS | unix.CLONE_NEWIPC | unix.CLONE_NEWUTS | unix.CLONE_NEWPID)
	if net == NetNone {
		flags |= unix.CLONE_NEWNET
	}
	// Inside, the program keeps its user and group ids. Root keeps the host's first user
	// namespace: golos's fork hands shared memory that has no path to the child through
	// /proc/self/map_files, which takes CAP_CHECKPOINT_RESTORE there
	// (fs/proc/base.c, proc_map_files_get_link); Enter then drops every capability but
	// those of keepCaps, and makes the new mount namespace's mounts private
	// before it mounts anything. Any other user gets a new user
	// namespace, in which only its own ids map to themselves (user_namespaces(7); the
	// group needs setgroups(2) given up), and whose capabilities reach nothing the host
	// owns: it could not open map_files outside the sandbox either.
	sys := &syscall.SysProcAttr{Cloneflags: flags}
	if uid, gid := os.Getuid(), os.Getgid(); uid != 0 {
		sys.Cloneflags |= unix.CLONE_NEWUSER
		sys.UidMappings = []syscall.SysProcIDMap{{ContainerID: uid, HostID: uid, Size: 1}}
		sys.GidMappings = []syscall.SysProcIDMap{{ContainerID: gid, HostID: gid, Size: 1}}
		// A user other than root loses its capabilities in the new namespace when it
		// execs golos (capabilities(7), "Transformation of capabilities during
		// execve()"), unless they are ambient: Enter needs these two for its mounts and
		// the loopback interface, and clears them before the program runs.
		sys.AmbientCaps = []uintptr{unix.CAP_SYS_ADMIN, unix.CAP_NET_ADMIN}
	}
	// Pdeathsig: a SIGKILL that ends this golos (which cannot pass it on) ends the
	// sandboxed one too, as it would end the program natively (prctl(2)
	// PR_SET_PDEATHSIG; its parent is this process's main thread, which lives as long as
	// the process).
	sys.Pdeathsig = unix.SIGKILL
	// Descriptors 0 to 2 go on as they are, open or closed (a closed one stays closed:
	// syscall's -1); every other descriptor golos was given is inherited as it is too,
	// since golos opens its own close-on-exec.
	files := make([]uintptr, 3)
	for fd := range files {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			files[fd] = ^uintptr(0)
		} else {
			files[fd] = uintptr(fd)
		}
	}
	// Signals arrive here from the user's shell or whoever holds golos's pid; they go on
	// to the sandboxed golos. Those golos was started with ignored stay ignored (and are
	// inherited as ignored): signal.Notify would take them over.
	sigs := make(chan os.Signal, 16)
	for _, s := range forwarded {
		if !signal.Ignored(s) {
			signal.Notify(sigs, s)
		}
	}
	ns, err := newNSInit()
	if err != nil {
		return 0, fmt.Errorf("--sandbox: %w", err)
	}
	cg, back, argv := limitTasks(argv, pidsLimit)
	pid, err := syscall.ForkExec(exe, ns.args(argv), &syscall.ProcAttr{Env: env, Files: files, Sys: sys})
	back()
	unix.Close(ns.child)
	done := func() {
		if cg != nil {
			cg.remove()
		}
	}
	if err != nil {
		done()
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSPC) {
			return 0, fmt.Errorf("--sandbox: new namespaces (mount, ipc, uts, net for --net=none, user for a user other than root) are not allowed here: %w", err)
		}
		return 0, fmt.Errorf("--sandbox: start golos in new namespaces: %w", err)
	}
	go forward(sigs, pid)
	go ns.serve(pid)
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(pid, &ws, unix.WUNTRACED, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			done()
			return 0, fmt.Errorf("--sandbox: wait for the sandboxed golos: %w", err)
		}
		switch {
		case ws.Exited():
			done()
			if sig := ns.die.Load(); sig != 0 {
				dieOf(unix.Signal(sig)) // the death the golos inside could not die
			}
			return ws.ExitStatus(), nil
		case ws.Signaled():
			done()
			dieOf(ws.Signal())
		case ws.Stopped():
			sig := ws.StopSignal()
			if s := ns.stop.Swap(0); s != 0 && sig == unix.SIGSTOP {
				sig = unix.Signal(s) // the stop the golos inside asked for
			}
			stopAs(sig, pid)
		}
	}
}

// stopAs stops golos's process by sig, the signal that stopped the sandboxed golos, so
// that the shell sees its job stop as the program did (waitpid(2) WUNTRACED, WSTOPSIG):
// sig's host disposition goes to SIG_DFL for the moment (a raw rt_sigaction(2), as
// kernel's stopBy), and the thread sends it to itself. Once golos is continued (fg, bg,
// kill -CONT), so is the program, unless the SIGCONT reached it already (sent to the
// process group).
func stopAs(sig unix.Signal, pid int) {
	if sig == unix.SIGSTOP {
		unix.Tgkill(os.Getpid(), unix.Gettid(), sig)
	} else if old, err := entry.SetHostDefault(sig); err == nil {
		entry.UnblockHost(sig)
		unix.Tgkill(os.Getpid(), unix.Gettid(), sig)
		entry.RestoreHost(sig, old)
	}
	if stopped(pid) {
		unix.Kill(pid, unix.SIGCONT)
	}
}

// stopped reports whether process pid is stopped (proc(5): /proc/PID/stat's state T).
func stopped(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')') // the command name may hold anything
	return i >= 0 && i+2 < len(b) && b[i+2] == 'T'
}

// forwarded are the signals Spawn takes. The stop signals are among them so that they
// stop this golos only when they stop the program (stopAs), not by their default action.
var forwarded = []os.Signal{unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGTERM, unix.SIGUSR1,
	unix.SIGUSR2, unix.SIGALRM, unix.SIGTSTP, unix.SIGTTIN, unix.SIGTTOU}

// forward sends the signals that arrive on sigs to pid. SIGINT, SIGQUIT and SIGTSTP are
// kept back while golos's process group is its terminal's foreground one: the
// terminal's ^C, ^\ and ^Z went to the sandboxed golos, in the same group, already
// (termios(3), ISIG), and a second one would be a signal the program does not get
// natively. SIGTTIN and SIGTTOU are never passed on: the terminal sends them to the
// whole process group of a background job that reads or writes it.
func forward(sigs chan os.Signal, pid int) {
	for s := range sigs {
		switch sig := s.(unix.Signal); sig {
		case unix.SIGTTIN, unix.SIGTTOU:
		case unix.SIGINT, unix.SIGQUIT, unix.SIGTSTP:
			if !foreground() {
				unix.Kill(pid, sig)
			}
		default:
			unix.Kill(pid, sig)
		}
	}
}

// foreground reports whether golos's process group is the foreground one of the terminal
// on one of its standard descriptors.
func foreground() bool {
	pgrp := unix.Getpgrp()
	for fd := 0; fd < 3; fd++ {
		if fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err == nil {
			return fg == pgrp
		}
	}
	return false
}

// dieOf makes golos die of sig, as the sandboxed golos did, so that the shell sees the
// program's death (as kernel's dieOf: no core file, SIG_DFL set with a raw
// rt_sigaction(2), the signal unblocked and sent to the calling thread).
func dieOf(sig unix.Signal) {
	unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0})
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	if sig != unix.SIGKILL {
		entry.SetHostDefault(sig)
		entry.UnblockHost(sig)
	}
	unix.Tgkill(os.Getpid(), unix.Gettid(), sig)
	os.Exit(128 + int(sig))
}

// notParentsNamespace checks that golos is not in its parent's mount namespace, or not
// in its user namespace, as a golos Spawn started is not. Seeing the parent's
// /proc/PID/ns files takes ptrace rights over it (namespaces(7)), which a process in a
// child user namespace lacks (security/commoncap.c, cap_ptrace_access_check: EPERM,
// shown as EACCES); a process that does see them compares the namespaces (the same
// device and inode). The parent's pid is the one /proc/self/stat shows, not getppid(2)'s:
// golos is the first process of a new pid namespace, whose getppid is 0, and /proc is
// still the host's procfs here, whose files give the pids of the host's namespace
// (fs/proc/array.c, the procfs's pid namespace).
func notParentsNamespace() error {
	ppid, err := hostParent()
	if err != nil {
		return err
	}
	for _, ns := range []string{"mnt", "user"} {
		var self, parent unix.Stat_t
		if err := unix.Stat("/proc/self/ns/"+ns, &self); err != nil {
			return err
		}
		err := unix.Stat("/proc/"+strconv.Itoa(ppid)+"/ns/"+ns, &parent)
		switch {
		case err == unix.EACCES || err == unix.EPERM:
			return nil
		case err != nil:
			return fmt.Errorf("its parent's %s namespace: %w", ns, err)
		case self.Dev != parent.Dev || self.Ino != parent.Ino:
			return nil
		}
	}
	return errors.New("not started by golos run --sandbox (in its parent's namespaces)")
}

// hostParent is the pid of golos's parent in the pid namespace of the procfs on /proc
// (proc(5): /proc/PID/stat's fourth field, after the command name in parentheses, which
// may hold anything).
func hostParent() (int, error) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, err
	}
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/self/stat: no command name: %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return 0, fmt.Errorf("/proc/self/stat: no parent pid: %q", b)
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return 0, fmt.Errorf("/proc/self/stat: parent pid: %w", err)
	}
	return ppid, nil
}

// keepCaps are the capabilities root keeps in the sandbox: Docker's default set, less
// CAP_MKNOD (no device cgroup keeps a made device node from being opened here) and
// CAP_NET_RAW (raw packets on the host's network), plus CAP_CHECKPOINT_RESTORE, which
// golos's fork needs (Spawn).
var keepCaps = []uintptr{unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_FOWNER, unix.CAP_FSETID,
	unix.CAP_KILL, unix.CAP_SETGID, unix.CAP_SETUID, unix.CAP_SETPCAP, unix.CAP_NET_BIND_SERVICE,
	unix.CAP_SYS_CHROOT, unix.CAP_AUDIT_WRITE, unix.CAP_SETFCAP, unix.CAP_CHECKPOINT_RESTORE}

// dropCaps drops every other capability from the calling thread's bounding set
// (prctl(2) PR_CAPBSET_DROP), which the execve that follows makes the process's
// (capabilities(7): root's permitted and effective sets after execve are its bounding
// set). A user other than root has only Spawn's ambient capabilities, in its own user
// namespace, and loses them.
func dropCaps() error {
	if os.Getuid() != 0 {
		// Spawn's ambient capabilities go: the execve that follows then leaves a user
		// other than root none, as natively.
		if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
			return fmt.Errorf("clear the ambient capabilities: %w", err)
		}
		// And out of the inheritable set, where Go put them to make them ambient.
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			return fmt.Errorf("the capabilities: %w", err)
		}
		data[0].Inheritable, data[1].Inheritable = 0, 0
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			return fmt.Errorf("clear the inheritable capabilities: %w", err)
		}
		return nil
	}
	last := unix.CAP_LAST_CAP
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			last = n
		}
	}
next:
	for c := 0; c <= last; c++ {
		for _, k := range keepCaps {
			if uintptr(c) == k {
				continue next
			}
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			return fmt.Errorf("drop capability %d: %w", c, err)
		}
	}
	return nil
}

// Enter confines the calling golos, already in the namespaces Spawn made, and execs golos
// as argv with env inside it; it returns only on failure. It must run on the thread
// that was the process's first (golos's main goroutine is locked to it): execve(2)
// keeps that thread, and the ruleset binds only the thread that sets it.
func Enter(cfg Config, argv, env []string) error {
	// Only a golos Spawn started may go on: what follows changes the mount namespace it
	// is in, which must not be the host's (golos run --sandbox-stage enter, typed by
	// hand as root, would otherwise mount a tmpfs over the host's /tmp).
	if err := notParentsNamespace(); err != nil {
		return fmt.Errorf("%s %s is golos's own: %w", StageFlag, StageEnter, err)
	}
	// The namespace's mounts are made private first, so that nothing done to them
	// reaches the host's (mount_namespaces(7); a mount namespace owned by a new user
	// namespace gets the host's shared mounts as slaves anyway).
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("--sandbox: make the mounts private: %w", err)
	}
	if err := newProc(); err != nil {
		return fmt.Errorf("--sandbox: %w", err)
	}
	if len(cfg.Dirs) > 0 && cfg.Dirs[0].Path != "/" {
		if err := onlyDirs(cfg.Dirs); err != nil {
			return fmt.Errorf("--sandbox: %w", err)
		}
	}
	if err := readOnlyProc(); err != nil {
		return fmt.Errorf("--sandbox: %w", err)
	}
	if cfg.Net == NetNone {
		if err := loopbackUp(); err != nil {
			return fmt.Errorf("--sandbox: --net=none: %w", err)
		}
	}
	if err := limitCore(); err != nil {
		return fmt.Errorf("--sandbox: %w", err)
	}
	if cfg.RlimitNproc > 0 {
		if err := limitNproc(cfg.RlimitNproc); err != nil {
			return fmt.Errorf("--sandbox: %w", err)
		}
	}
	ruleset, err := landlockRuleset(cfg.Dirs)
	if err != nil {
		return fmt.Errorf("--sandbox: %w", err)
	}
	if err := dropCaps(); err != nil {
		return fmt.Errorf("--sandbox: %w", err)
	}
	// no_new_privs (prctl(2) PR_SET_NO_NEW_PRIVS): no set-user-ID or file-capability
	// program gains privileges, which an unprivileged seccomp filter and Landlock
	// require (seccomp(2), landlock_restrict_self(2)).
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("--sandbox: no_new_privs: %w", err)
	}
	if err := landlockRestrictSelf(ruleset); err != nil {
		return fmt.Errorf("--sandbox: %w", err)
	}
	unix.Close(ruleset)
	if err := installSeccomp(); err != nil {
		return fmt.Errorf("--sandbox: seccomp: %w", err)
	}
	err = unix.Exec(exe, argv, env)
	return fmt.Errorf("--sandbox: exec golos inside the sandbox: %w", err)
}
