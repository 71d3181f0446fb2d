package oci

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Runtime is what every command shares: the state root, the golos binary the containers'
// processes run under, and where notes go (the engine's --log).
type Runtime struct {
	Root  string // the state root (--root)
	Golos string // the golos binary
	Self  string // this executable, run again as the init process
	Note  func(string)
	// SystemdCgroup: linux.cgroupsPath is systemd's slice:prefix:name (--systemd-cgroup).
	SystemdCgroup bool
	// Warn says what the container runs without on stderr, as well as in the log.
	Warn func(string)
}

// CreateOpts are create's and run's options.
type CreateOpts struct {
	Bundle        string
	PidFile       string
	ConsoleSocket string
}

// Created is a container whose init process waits on its exec FIFO. Cmd is the init
// process, a child of this process (run waits for it; create leaves it to the engine).
type Created struct {
	State *State
	Cmd   *exec.Cmd
}

// Create makes container id from a bundle: its state directory, and its init process,
// stopped before the program's first instruction (runtime.md, "create"). On any failure
// nothing is left behind: no process, no state directory.
func (r *Runtime) Create(id string, o CreateOpts) (c *Created, err error) {
	bundle, err := filepath.Abs(o.Bundle)
	if err != nil {
		return nil, err
	}
	spec, err := LoadSpec(bundle)
	if err != nil {
		return nil, err
	}
	if spec.Process.Terminal && o.ConsoleSocket == "" {
		return nil, errors.New("process.terminal is true but no --console-socket was given")
	}
	if !spec.Process.Terminal && o.ConsoleSocket != "" {
		return nil, errors.New("--console-socket given but process.terminal is false")
	}
	dir, err := Dir(r.Root, id)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(r.Root, 0o711); err != nil {
		return nil, fmt.Errorf("state root: %w", err)
	}
	if err := os.Mkdir(dir, 0o711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %s already exists", id)
		}
		return nil, fmt.Errorf("state directory: %w", err)
	}
	var cmd *exec.Cmd
	defer func() {
		if err != nil {
			if cmd != nil && cmd.Process != nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
			os.RemoveAll(dir)
		}
	}()
	vols, notes, err := spec.volumes(dir)
	if err != nil {
		return nil, err
	}
	for _, n := range notes {
		r.note(n)
	}
	cgroups, cgVols, err := r.cgroups(id, spec)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			cgroupRemove(cgroups)
		}
	}()
	vols = append(vols, cgVols...)
	newPidNS, joinPidNS := false, ""
	if spec.Linux != nil {
		for _, ns := range spec.Linux.Namespaces {
			// A new pid namespace (podman always asks for one): the init process is
			// made in it (its pid 1) with a mount namespace of its own, where the
			// namespace's procfs is mounted over /proc (init.go, newPidNS). One named
			// by path (a pod's, podman run --pid container:X) is joined the same way,
			// the init process one more of its processes (startInPidNS).
			if ns.Type == "pid" {
				newPidNS = ns.Path == ""
				joinPidNS = ns.Path
			}
		}
	}
	rootPath := spec.Root.Path
	var binds []bindMount
	if newPidNS || joinPidNS != "" {
		// Paths the container's user could not reach, bound where it can in the init
		// process's mount namespace (view.go).
		if binds, err = viewBinds(dir, &rootPath, vols); err != nil {
			return nil, err
		}
	}
	base := []string{"--root", rootPath}
	if spec.Root.Readonly {
		base[1] += ":ro"
	}
	for _, v := range vols {
		base = append(base, "--volume", v.flag())
	}
	if spec.Linux != nil && spec.Linux.Seccomp != nil {
		// The container's processes, the first and exec's, run under the profile's
		// filter (seccomp.go); golos passes it on across their forks and execs.
		filter, err := spec.Linux.Seccomp.Compile()
		if err != nil {
			return nil, err
		}
		base = append(base, "--exec-seccomp", hex.EncodeToString(filter))
	}
	fifo := filepath.Join(dir, execFIFO)
	if err := unix.Mkfifo(fifo, 0o622); err != nil {
		return nil, fmt.Errorf("exec fifo: %w", err)
	}
	spec.Process.Env = withHome(spec.Process.Env, spec.Root.Path, spec.Process.User.UID)
	golosBase := base
	if joinPidNS == "" {
		// The container's first process, which runc makes its pid namespace's init:
		// golos gives it init's signals (README). In a joined pid namespace it is not
		// its init.
		golosBase = append([]string{"--pid1"}, base...)
	}
	cfg := initConfig{
		Golos:     r.golosArgs(golosBase, spec.Process),
		FIFO:      fifo,
		Hostname:  spec.Hostname,
		Process:   spec.Process,
		NewPidNS:  newPidNS,
		JoinPidNS: joinPidNS,
		Binds:     binds,
		Cgroups:   cgroups,
	}
	if spec.Linux != nil {
		cfg.Namespaces = spec.Linux.Namespaces
	}
	if cmd, err = r.startInit(&cfg, spec.Process, o.ConsoleSocket); err != nil {
		return nil, err
	}
	pid := cmd.Process.Pid
	_, start, err := procStat(pid)
	if err != nil {
		return nil, fmt.Errorf("init process: %w", err)
	}
	st := &State{
		OCIVersion: specVersion, ID: id, Status: "created", Pid: pid, Bundle: bundle,
		Annotations: spec.Annotations, Created: time.Now().UTC(), StartTime: start,
		Golos: base, RootPath: spec.Root.Path, PidNS: newPidNS || joinPidNS != "", Cgroups: cgroups,
	}
	if err := saveProcess(dir, spec.Process); err != nil {
		return nil, err
	}
	if err := st.save(dir); err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	if spec.Hooks != nil {
		h := spec.Hooks
		for _, k := range []struct {
			name  string
			hooks []Hook
		}{{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer}} {
			if err := runHooks(k.name, k.hooks, st.JSON()); err != nil {
				return nil, err
			}
		}
	}
	if o.PidFile != "" {
		if err := writeAtomic(o.PidFile, []byte(strconv.Itoa(pid))); err != nil {
			return nil, fmt.Errorf("pid file: %w", err)
		}
	}
	return &Created{State: st, Cmd: cmd}, nil
}

// golosArgs is the golos command line of a process: the container's environment only,
// its root and volumes, its working directory.
func (r *Runtime) golosArgs(base []string, p *Process) []string {
	args := []string{r.Golos, "run", "--quiet", "--clear-env"}
	for _, kv := range p.Env {
		if strings.Contains(kv, "=") {
			args = append(args, "-e", kv)
		}
	}
	args = append(args, base...)
	cwd := p.Cwd
	if cwd == "" {
		cwd = "/"
	}
	args = append(args, "-w", cwd, "--")
	return append(args, p.Args...)
}

// withHome adds HOME to env when it has none, as runc does (libcontainer/init_linux.go:
// the user's home directory from the root's /etc/passwd, or "/").
func withHome(env []string, root string, uid uint32) []string {
	for _, kv := range env {
		if strings.HasPrefix(kv, "HOME=") {
			return env
		}
	}
	home := "/"
	if data, err := os.ReadFile(filepath.Join(root, "etc/passwd")); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Split(line, ":")
			if len(f) >= 6 && f[2] == strconv.FormatUint(uint64(uid), 10) && f[5] != "" {
				home = f[5]
				break
			}
		}
	}
	return append(env, "HOME="+home)
}

func saveProcess(dir string, p *Process) error {
	data, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, "process.json"), data)
}

// startInit starts this executable again as `init`: the process that becomes golos. It
// gets its configuration on descriptor 3 and says on descriptor 4 that it is ready (or
// why it failed) before it blocks on the exec FIFO.
func (r *Runtime) startInit(cfg *initConfig, p *Process, consoleSocket string) (*exec.Cmd, error) {
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer cfgR.Close()
	defer cfgW.Close()
	syncR, syncW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer syncR.Close()
	defer syncW.Close()
	cmd := exec.Command(r.Self, "init")
	if cfg.enter > 0 {
		nsenter, err := exec.LookPath("nsenter")
		if err != nil {
			return nil, fmt.Errorf("exec in a container with a pid namespace needs nsenter (util-linux): %w", err)
		}
		cmd = exec.Command(nsenter, "--target", strconv.Itoa(cfg.enter), "--pid", "--mount", "--net", "--uts", "--ipc",
			"--", r.Self, "init")
	}
	cmd.Env = []string{}
	cmd.ExtraFiles = []*os.File{cfgR, syncW}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if cfg.NewPidNS {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWPID | syscall.CLONE_NEWNS
	}
	if cfg.JoinPidNS != "" {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNS
	}
	if consoleSocket != "" {
		master, slave, err := openPTY(p.ConsoleSize)
		if err != nil {
			return nil, err
		}
		defer master.Close()
		defer slave.Close()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
		cmd.SysProcAttr.Setctty = true
		cmd.SysProcAttr.Ctty = 0
		if err := sendConsole(consoleSocket, master); err != nil {
			return nil, err
		}
	} else {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	start := cmd.Start
	if cfg.JoinPidNS != "" {
		start = func() error { return startInPidNS(cmd, cfg.JoinPidNS) }
	}
	if err := start(); err != nil {
		return nil, fmt.Errorf("init process: %w", err)
	}
	cfgR.Close()
	syncW.Close()
	fail := func(err error) (*exec.Cmd, error) {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, err
	}
	if err := json.NewEncoder(cfgW).Encode(cfg); err != nil {
		return fail(fmt.Errorf("init process: %w", err))
	}
	cfgW.Close()
	// One read: the init process says "ok", or why it failed, in one write (pipe(7):
	// atomic up to PIPE_BUF). Not until EOF: with nsenter (exec in a pid namespace) the
	// parent nsenter keeps its copy of the pipe open until the process ends.
	buf := make([]byte, 4096)
	n, _ := syncR.Read(buf)
	msg := buf[:n]
	if string(msg) != "ok" {
		if len(msg) == 0 {
			msg = []byte("init process exited before it was ready")
		}
		return fail(errors.New(string(msg)))
	}
	return cmd, nil
}

// startInPidNS starts cmd in the pid namespace at nsPath: setns(2) with CLONE_NEWPID
// changes the namespace the calling thread's children are made in (its own stays), so
// the thread is locked for the fork and ends with the goroutine (no UnlockOSThread),
// taking the changed namespace with it: no other goroutine forks from it. The init
// process so is in the namespace from its start, its pid there one more of the
// namespace's, as runc's nsexec makes it (setns then fork), without nsenter's process
// in between: the container's pid is the init process's.
func startInPidNS(cmd *exec.Cmd, nsPath string) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		fd, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("pid namespace: %w", err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWPID)
		unix.Close(fd)
		if err != nil {
			errc <- fmt.Errorf("join pid namespace %s: %w", nsPath, err)
			return
		}
		errc <- cmd.Start()
	}()
	return <-errc
}

// Start releases a created container's process (runtime.md, "start"): opening the exec
// FIFO for reading lets the init process's open for writing return.
func (r *Runtime) Start(id string) error {
	dir, err := Dir(r.Root, id)
	if err != nil {
		return err
	}
	st, err := Load(r.Root, id)
	if err != nil {
		return err
	}
	if st.Status != "created" {
		return fmt.Errorf("container %s is %s, not created", id, st.Status)
	}
	spec, _ := LoadSpec(st.Bundle) // for the hooks; the bundle may be gone, as runc allows
	if spec != nil && spec.Hooks != nil {
		if err := runHooks("startContainer", spec.Hooks.StartContainer, st.JSON()); err != nil {
			return err
		}
	}
	fifo := filepath.Join(dir, execFIFO)
	opened := make(chan error, 1)
	var f *os.File
	go func() {
		var err error
		f, err = os.OpenFile(fifo, os.O_RDONLY, 0)
		opened <- err
	}()
	for done := false; !done; {
		select {
		case err := <-opened:
			if err != nil {
				return fmt.Errorf("container %s: exec fifo: %w", id, err)
			}
			done = true
		case <-time.After(50 * time.Millisecond):
			if !st.alive() {
				return fmt.Errorf("container %s: its process exited before start", id)
			}
		}
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "0" {
		return fmt.Errorf("container %s: its process exited before start", id)
	}
	os.Remove(fifo)
	if spec != nil && spec.Hooks != nil {
		st.Status = "running"
		if err := runHooks("poststart", spec.Hooks.Poststart, st.JSON()); err != nil {
			r.note(err.Error())
		}
	}
	return nil
}

// Kill sends sig to the container's process, or with all to every process of it.
func (r *Runtime) Kill(id string, sig syscall.Signal, all bool) error {
	st, err := Load(r.Root, id)
	if err != nil {
		return err
	}
	if st.Status == "stopped" {
		return fmt.Errorf("container %s is not running", id)
	}
	// SIGKILL goes to every process of the container, and returns once they are gone: in
	// runc's container, the death of the pid namespace's init kills the namespace's other
	// processes (pid_namespaces(7)), and the engine unmounts the container's file
	// systems next, which fails while any of golos's processes still holds a volume open.
	if all || sig == syscall.SIGKILL {
		pids := st.Pids()
		for _, pid := range pids {
			syscall.Kill(pid, sig)
		}
		if sig == syscall.SIGKILL {
			waitGone(pids, 5*time.Second)
		}
		return nil
	}
	if err := syscall.Kill(st.Pid, sig); err != nil {
		return fmt.Errorf("kill container %s: %w", id, err)
	}
	return nil
}

// waitGone waits, at most timeout, until none of pids is alive (gone, or a zombie: a
// zombie has closed its descriptors).
func waitGone(pids []int, timeout time.Duration) {
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		alive := false
		for _, pid := range pids {
			if st, _, err := procStat(pid); err == nil && st != 'Z' && st != 'X' {
				alive = true
				break
			}
		}
		if !alive {
			return
		}
	}
}

// Delete removes a container: its state directory, after its processes are gone
// (runtime.md, "delete"). A running container is deleted only with force, which kills
// it; a created one is killed as runc does.
func (r *Runtime) Delete(id string, force bool) error {
	dir, err := Dir(r.Root, id)
	if err != nil {
		return err
	}
	st, err := Load(r.Root, id)
	if err != nil {
		if force {
			if _, serr := os.Stat(dir); serr != nil {
				return nil
			}
			return os.RemoveAll(dir)
		}
		return err
	}
	if st.Status == "running" && !force {
		return fmt.Errorf("container %s is running: stop it first, or delete --force", id)
	}
	// The init process may be gone and others of the container left (a child it did not
	// wait for): they go too, as in a pid namespace whose init died.
	if pids := st.sessionPids(); len(pids) > 0 {
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		waitGone(pids, 5*time.Second)
	}
	if err := cgroupRemove(st.Cgroups); err != nil {
		r.note(err.Error())
	}
	if spec, _ := LoadSpec(st.Bundle); spec != nil && spec.Hooks != nil {
		st.Status = "stopped"
		if err := runHooks("poststop", spec.Hooks.Poststop, st.JSON()); err != nil {
			r.note(err.Error())
		}
	}
	return os.RemoveAll(dir)
}

// Wait waits for the init process (a child of this process, as in run) and returns its
// exit status as a shell shows it: 128+N for a death by signal N.
func Wait(cmd *exec.Cmd) int {
	// Signals to this process go on to the container's, as runc run forwards them.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	cmd.Wait()
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return 255
	}
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// ExecOpts are exec's options.
type ExecOpts struct {
	Process       *Process // the process to run
	PidFile       string
	ConsoleSocket string
	Detach        bool
}

// BaseProcess is the container's own process, which exec's command line options amend
// (as runc exec builds its process from the container's).
func (r *Runtime) BaseProcess(id string) (*Process, error) {
	if _, err := Load(r.Root, id); err != nil {
		return nil, err
	}
	dir, err := Dir(r.Root, id)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, "process.json"))
	if err != nil {
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	var p Process
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("container %s: process.json: %w", id, err)
	}
	return &p, nil
}

// Exec runs another process in a running container: golos with the container's root and
// volumes, in the container's network, UTS and IPC namespaces. It returns the process's
// exit status, or 0 at once with Detach.
func (r *Runtime) Exec(id string, o ExecOpts) (int, error) {
	st, err := Load(r.Root, id)
	if err != nil {
		return 0, err
	}
	if st.Status != "running" {
		return 0, fmt.Errorf("container %s is %s, not running", id, st.Status)
	}
	if err := o.Process.check(); err != nil {
		return 0, err
	}
	if o.Process.Terminal != (o.ConsoleSocket != "") {
		return 0, errors.New("a terminal needs --console-socket, and --console-socket a terminal")
	}
	o.Process.Env = withHome(o.Process.Env, st.RootPath, o.Process.User.UID)
	cfg := initConfig{Golos: r.golosArgs(st.Golos, o.Process), Process: o.Process, Cgroups: st.Cgroups}
	if st.PidNS {
		// The process joins the container's pid namespace too, and its mount namespace
		// (whose /proc is the pid namespace's): through nsenter(1), which enters them
		// before the Go runtime has threads (a mount namespace cannot be entered by a
		// process that has several, setns(2)) and forks, so that the init process is in
		// the pid namespace (setns(2) moves only the children there).
		cfg.enter = st.Pid
	} else {
		for _, t := range []string{"network", "uts", "ipc"} {
			cfg.Namespaces = append(cfg.Namespaces, Namespace{Type: t, Path: fmt.Sprintf("/proc/%d/ns/%s", st.Pid, nsFile[t])})
		}
	}
	cmd, err := r.startInit(&cfg, o.Process, o.ConsoleSocket)
	if err != nil {
		return 0, err
	}
	// ps, kill --all and delete find the process (and its session) there.
	if err := recordExec(st.dir, cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		return 0, fmt.Errorf("exec: %w", err)
	}
	if o.PidFile != "" {
		if err := writeAtomic(o.PidFile, []byte(strconv.Itoa(cmd.Process.Pid))); err != nil {
			cmd.Process.Kill()
			return 0, fmt.Errorf("pid file: %w", err)
		}
	}
	if o.Detach {
		return 0, nil
	}
	return Wait(cmd), nil
}

// cgroups makes the container's cgroups (cgroup.go) and returns them with the volumes that
// show them inside. A host that refuses them is said once, and the container runs
// without, as under runc's rootless mode.
func (r *Runtime) cgroups(id string, spec *Spec) ([]string, []volume, error) {
	if spec.Linux == nil {
		return nil, nil, nil
	}
	if res := spec.Linux.Resources; spec.Linux.CgroupsPath == "" && (res == nil || res.Memory == nil && res.CPU == nil && res.Pids == nil) {
		// Neither a cgroup nor a limit asked for: none is made (runc makes one named by
		// the id under its own; golos-oci leaves a bare bundle's process where it runs).
		return nil, nil, nil
	}
	cg, err := cgroupPath(spec.Linux.CgroupsPath, id, r.SystemdCgroup)
	if err != nil {
		return nil, nil, err
	}
	dest := ""
	for _, m := range spec.Mounts {
		if m.Type == "cgroup" || m.Type == "cgroup2" {
			dest = path.Clean(m.Destination)
		}
	}
	dirs, vols, err := cgroupSetup(cg, spec.Linux.Resources, dest)
	var no *errNoCgroups
	if errors.As(err, &no) {
		msg := fmt.Sprintf("cgroups: %v: the container runs without resource limits", err)
		r.note(msg)
		if r.Warn != nil {
			r.Warn(msg)
		}
		return nil, nil, nil
	}
	return dirs, vols, err
}

func (r *Runtime) note(s string) {
	if r.Note != nil {
		r.Note(s)
	}
}
