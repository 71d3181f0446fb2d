package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The state of a container, as `state` prints it (runtime.md, "State"), and what the
// other commands need to find it: the container's directory under the state root holds
// state.json, the exec FIFO while the container is created and not yet started, and the
// directories made for its tmpfs mounts.
type State struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Status      string            `json:"status"`
	Pid         int               `json:"pid,omitempty"`
	Bundle      string            `json:"bundle"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Created     time.Time         `json:"created"`
	// StartTime is the init process's start time (proc(5), /proc/PID/stat field 22), so
	// that a pid reused by another process is not taken for the container.
	StartTime uint64 `json:"golosStartTime,omitempty"`
	// Golos is the golos command line the container's process runs (exec reuses its
	// root and volumes).
	Golos []string `json:"golosArgs,omitempty"`
	// RootPath is the container's root directory on the host.
	RootPath string `json:"golosRoot,omitempty"`
	// PidNS: the container has a pid namespace of its own, which exec joins.
	PidNS bool `json:"golosPidNS,omitempty"`
	// Cgroups are the container's cgroup directories, one per hierarchy (cgroup.go).
	Cgroups []string `json:"golosCgroups,omitempty"`

	dir string // the container's directory
}

const (
	stateFile = "state.json"
	execFIFO  = "exec.fifo"
	execPids  = "exec.pids" // "PID STARTTIME" of each process exec started
	// specVersion is the runtime-spec version golos-oci follows.
	specVersion = "1.0.2"
)

var idPattern = regexp.MustCompile(`^[\w+\-.]+$`)

// Dir is a container's directory under the state root.
func Dir(root, id string) (string, error) {
	if !idPattern.MatchString(id) || id == "." || id == ".." {
		return "", fmt.Errorf("invalid container id %q", id)
	}
	return filepath.Join(root, id), nil
}

// Load reads the state of container id, with its status as of now.
func Load(root, id string) (*State, error) {
	dir, err := Dir(root, id)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %s does not exist", id)
		}
		return nil, fmt.Errorf("container %s: %w", id, err)
	}
	var s State
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("container %s: %s: %w", id, stateFile, err)
	}
	s.Status = s.status(dir)
	s.dir = dir
	return &s, nil
}

// status is "created" while the init process waits on the exec FIFO, "running" once it
// has gone on, "stopped" once it is gone (or a zombie its parent has not reaped yet).
func (s *State) status(dir string) string {
	if !s.alive() {
		return "stopped"
	}
	if _, err := os.Lstat(filepath.Join(dir, execFIFO)); err == nil {
		return "created"
	}
	return "running"
}

func (s *State) alive() bool {
	if s.Pid <= 0 {
		return false
	}
	st, start, err := procStat(s.Pid)
	return err == nil && start == s.StartTime && st != 'Z' && st != 'X'
}

// save writes the state atomically.
func (s *State) save(dir string) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return writeAtomic(filepath.Join(dir, stateFile), data)
}

// JSON is the state as `state` prints it.
func (s *State) JSON() []byte {
	out := *s
	out.StartTime, out.Golos, out.RootPath, out.PidNS = 0, nil, "", false
	if out.Status == "stopped" {
		out.Pid = 0
	}
	data, _ := json.MarshalIndent(&out, "", "  ")
	return data
}

func writeAtomic(name string, data []byte) error {
	tmp := name + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// procStat returns a process's state letter and start time from /proc/PID/stat (proc(5):
// fields 3 and 22; the command name, field 2, is in parentheses and may hold anything).
func procStat(pid int) (byte, uint64, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, err
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	start, err := strconv.ParseUint(f[19], 10, 64)
	return f[0][0], start, err
}

// sessionOf is a process's session id (proc(5), /proc/PID/stat field 6).
func sessionOf(pid int) int {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 4 {
		return -1
	}
	n, _ := strconv.Atoi(f[3])
	return n
}

// Pids are the container's processes: the init process and the processes exec started
// (recorded in execPids), each with the others of its session (each starts one,
// setsid(2); golos's forks stay in it unless the program starts sessions of its own).
func (s *State) Pids() []int {
	if !s.alive() {
		return nil
	}
	return s.sessionPids()
}

// sessionPids is Pids whether or not the init process is still there: the processes
// left in its session and the exec'd ones' (by pid, and by start time, which a reused
// pid does not share).
func (s *State) sessionPids() []int {
	leaders := map[int]bool{}
	if s.alive() {
		leaders[s.Pid] = true
	}
	data, _ := os.ReadFile(filepath.Join(s.dir, execPids))
	for _, line := range strings.Split(string(data), "\n") {
		var pid int
		var start uint64
		if _, err := fmt.Sscan(line, &pid, &start); err != nil {
			continue
		}
		if st, t, err := procStat(pid); err == nil && t == start && st != 'Z' && st != 'X' {
			leaders[pid] = true
		}
	}
	// Linux reuses a pid only once no process, group or session has it (its struct pid
	// is released): while another process holds the init process's pid, the container's
	// session is gone.
	sid := s.Pid
	if _, start, err := procStat(s.Pid); err == nil && start != s.StartTime || s.Pid <= 0 {
		sid = -1
	}
	var pids []int
	if s.alive() {
		pids = append(pids, s.Pid)
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == s.Pid && s.alive() {
			continue
		}
		// A session left by a dead init process still has its id.
		if leaders[pid] || leaders[sessionOf(pid)] || sid > 0 && sessionOf(pid) == sid {
			pids = append(pids, pid)
		}
	}
	return pids
}

// recordExec adds a process exec started to the container's execPids.
func recordExec(dir string, pid int) error {
	_, start, err := procStat(pid)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, execPids), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = fmt.Fprintf(f, "%d %d\n", pid, start)
	return err
}

// ParseSignal reads a signal as kill(1) takes it: a number, or a name with or without
// SIG (KILL, SIGKILL).
func ParseSignal(v string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 || n > 64 {
			return 0, fmt.Errorf("invalid signal %q", v)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(v)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal %q", v)
}
