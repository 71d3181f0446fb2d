package oci

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// initConfig is what the init process is told on its descriptor 3.
type initConfig struct {
	Golos      []string // golos's command line, run with execve(2) at the end
	FIFO       string   // the exec FIFO to wait on (empty for exec)
	Hostname   string
	Namespaces []Namespace
	Process    *Process
	// NewPidNS: the init process is the first of a new pid namespace, in a new mount
	// namespace (create's startInit), and mounts the namespace's procfs on /proc.
	NewPidNS bool
	// JoinPidNS: the init process was made in this pid namespace (a pod's, by path), in a
	// new mount namespace, and mounts the namespace's procfs on /proc as for NewPidNS.
	JoinPidNS string
	// Binds: what the init process binds in its mount namespace, before it becomes the
	// container's user (view.go).
	Binds []bindMount
	// Cgroups: the container's cgroups, which the init process joins first (cgroup.go).
	Cgroups []string

	enter int // exec: the container's init process, whose namespaces nsenter(1) enters
}

// nsFile is each namespace type's file in /proc/PID/ns and its clone flag (namespaces(7)).
var nsFile = map[string]string{"network": "net", "uts": "uts", "ipc": "ipc"}

var nsFlag = map[string]int{"network": unix.CLONE_NEWNET, "uts": unix.CLONE_NEWUTS, "ipc": unix.CLONE_NEWIPC}

// newPidNS mounts the procfs of the init process's new pid namespace on /proc, in its
// own mount namespace, whose mounts it first makes private so that nothing reaches the
// host's (mount_namespaces(7)). /proc is then the container's: the program's /proc/1 is
// its own first process and ps lists the container's processes only, as in runc's
// container (pid_namespaces(7), "/proc and pid namespaces"); golos's own reads of
// /proc/self find its own process there as well.
func newPidNS() error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("pid namespace: private mounts: %w", err)
	}
	if err := unix.Mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return fmt.Errorf("pid namespace: mount /proc: %w", err)
	}
	return nil
}

// rlimitNames are process.rlimits' types (getrlimit(2)).
var rlimitNames = map[string]int{
	"RLIMIT_AS": unix.RLIMIT_AS, "RLIMIT_CORE": unix.RLIMIT_CORE, "RLIMIT_CPU": unix.RLIMIT_CPU,
	"RLIMIT_DATA": unix.RLIMIT_DATA, "RLIMIT_FSIZE": unix.RLIMIT_FSIZE, "RLIMIT_LOCKS": unix.RLIMIT_LOCKS,
	"RLIMIT_MEMLOCK": unix.RLIMIT_MEMLOCK, "RLIMIT_MSGQUEUE": unix.RLIMIT_MSGQUEUE,
	"RLIMIT_NICE": unix.RLIMIT_NICE, "RLIMIT_NOFILE": unix.RLIMIT_NOFILE, "RLIMIT_NPROC": unix.RLIMIT_NPROC,
	"RLIMIT_RSS": unix.RLIMIT_RSS, "RLIMIT_RTPRIO": unix.RLIMIT_RTPRIO, "RLIMIT_RTTIME": unix.RLIMIT_RTTIME,
	"RLIMIT_SIGPENDING": unix.RLIMIT_SIGPENDING, "RLIMIT_STACK": unix.RLIMIT_STACK,
}

// Init is the init process (`golos-oci init`, started by create and exec): it enters the
// container's namespaces, sets the process's limits and identity, tells its parent it is
// ready, waits on the exec FIFO until start, and becomes golos. It returns only on failure.
// The calling goroutine must be locked to the main thread: namespaces joined with
// setns(2) or made with unshare(2) are the calling thread's, and execve(2) keeps the
// thread that calls it.
func Init() error {
	cfgFile, syncFile := os.NewFile(3, "config"), os.NewFile(4, "sync")
	err := initProcess(cfgFile, syncFile)
	if err != nil {
		// Before the parent hears "ok" it reports the error; after, the container's
		// stderr is the only place left for it.
		if _, werr := fmt.Fprint(syncFile, err.Error()); werr != nil {
			fmt.Fprintf(os.Stderr, "golos-oci: %v\n", err)
		}
	}
	return err
}

func initProcess(cfgFile, syncFile *os.File) error {
	runtime.LockOSThread()
	var cfg initConfig
	if err := json.NewDecoder(cfgFile).Decode(&cfg); err != nil {
		return fmt.Errorf("init: configuration: %w", err)
	}
	cfgFile.Close()
	// Before anything of the container's runs: golos and every process it forks are
	// counted there from their start.
	if err := joinCgroups(cfg.Cgroups); err != nil {
		return err
	}
	if cfg.NewPidNS || cfg.JoinPidNS != "" {
		if err := newPidNS(); err != nil {
			return err
		}
		if err := bindAll(cfg.Binds); err != nil {
			return err
		}
	}
	newUTS := false
	for _, ns := range cfg.Namespaces {
		flag, ok := nsFlag[ns.Type]
		if !ok {
			// mount: golos makes its own view of paths and mounts nothing; pid, cgroup,
			// user and time: not honoured (the README says so).
			continue
		}
		if ns.Path == "" {
			if err := unix.Unshare(flag); err != nil {
				return fmt.Errorf("new %s namespace: %w", ns.Type, err)
			}
			newUTS = newUTS || ns.Type == "uts"
			continue
		}
		fd, err := unix.Open(ns.Path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s namespace: %w", ns.Type, err)
		}
		err = unix.Setns(fd, flag)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("join %s namespace %s: %w", ns.Type, ns.Path, err)
		}
	}
	if cfg.Hostname != "" {
		if !newUTS {
			return fmt.Errorf("hostname %q needs a new uts namespace (linux.namespaces)", cfg.Hostname)
		}
		if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
			return fmt.Errorf("sethostname: %w", err)
		}
	}
	p := cfg.Process
	for _, rl := range p.Rlimits {
		if err := unix.Setrlimit(rlimitNames[rl.Type], &unix.Rlimit{Cur: rl.Soft, Max: rl.Hard}); err != nil {
			return fmt.Errorf("setrlimit %s: %w", rl.Type, err)
		}
	}
	if p.User.Umask != nil {
		unix.Umask(int(*p.User.Umask))
	} else {
		unix.Umask(0o022)
	}
	if _, err := os.Stat(cfg.Golos[0]); err != nil {
		return fmt.Errorf("golos: %w", err)
	}
	fmt.Fprint(syncFile, "ok")
	syncFile.Close()
	if cfg.FIFO != "" {
		// Blocks until start opens the FIFO for reading (fifo(7)).
		f, err := os.OpenFile(cfg.FIFO, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("exec fifo: %w", err)
		}
		f.Write([]byte("0"))
		f.Close()
	}
	if p.Capabilities != nil {
		if err := p.Capabilities.dropBounding(); err != nil {
			return err
		}
	}
	groups := make([]int, len(p.User.AdditionalGids))
	for i, g := range p.User.AdditionalGids {
		groups[i] = int(g)
	}
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(int(p.User.GID)); err != nil {
		return fmt.Errorf("setgid %d: %w", p.User.GID, err)
	}
	if err := syscall.Setuid(int(p.User.UID)); err != nil {
		return fmt.Errorf("setuid %d: %w", p.User.UID, err)
	}
	if p.Capabilities != nil {
		if err := p.Capabilities.apply(); err != nil {
			return err
		}
	}
	if p.NoNewPrivileges {
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			return fmt.Errorf("no_new_privs: %w", err)
		}
	}
	err := syscall.Exec(cfg.Golos[0], cfg.Golos, []string{})
	return fmt.Errorf("exec %s as uid %d: %w", cfg.Golos[0], p.User.UID, err)
}
