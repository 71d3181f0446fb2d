// Command golos-oci is golos as an OCI runtime: the command line runc, crun and runsc
// share, as podman (through conmon) and containerd's runc shim call it. Each container's
// process runs under golos (`golos run --root ROOTFS …`), the golos binary found beside
// golos-oci. See internal/oci and the README ("golos as an OCI runtime").
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golos/internal/oci"
)

const usage = `usage: golos-oci [global flags] COMMAND [flags] ID [...]

An OCI runtime (the runc command line) whose containers run under golos.

commands:
  create [--bundle DIR] [--pid-file F] [--console-socket S] ID
  start ID
  state ID
  kill [--all] ID [SIGNAL]
  delete [--force] ID
  run [--bundle DIR] [--pid-file F] [--console-socket S] [--detach] ID
  exec [--process FILE] [--pid-file F] [--console-socket S] [--detach] [--tty]
       [--cwd DIR] [--env K=V] [--user UID[:GID]] ID [ARGS...]
  ps [--format table|json] ID
  list [--format table|json] [--quiet]
  features
  --version

global flags: --root DIR (the state directory, default /run/golos-oci), --log FILE,
--log-format text|json; --systemd-cgroup (linux.cgroupsPath is slice:prefix:name, made
as systemd would place it, without systemd); --debug, --rootless B, --criu P are accepted
and ignored.
`

const version = "0.1.0"

func main() {
	os.Exit(golosOCI(os.Args[1:]))
}

// logger writes errors to stderr and, with --log, to the engine's log file in its format
// (logrus's text or json lines, as runc writes them: conmon and containerd's shim read the
// last error from there).
type logger struct {
	file   *os.File
	format string
}

func (l *logger) write(level, msg string) {
	if l.file == nil {
		return
	}
	now := time.Now().UTC().Format(time.RFC3339Nano)
	var line []byte
	if l.format == "json" {
		line, _ = json.Marshal(map[string]string{"level": level, "msg": msg, "time": now})
	} else {
		line = []byte(fmt.Sprintf("time=%q level=%s msg=%q", now, level, msg))
	}
	l.file.Write(append(line, '\n'))
}

func (l *logger) fail(format string, a ...any) int {
	msg := fmt.Sprintf(format, a...)
	fmt.Fprintf(os.Stderr, "golos-oci: %s\n", msg)
	l.write("error", msg)
	return 1
}

// flags is a command's flags as parsed: each flag's values, and the other arguments.
type flags struct {
	vals map[string][]string
	args []string
}

func (f *flags) has(name string) bool { return len(f.vals[name]) > 0 }

func (f *flags) get(name string) string {
	if v := f.vals[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// parse reads flags anywhere among args (as runc's command line library does), until
// "--" or, with stopAtArg, the first other argument. spec maps each flag's spellings to
// its name and whether it takes a value ("bundle=" for --bundle/-b with a value).
func parse(args []string, spec map[string]string, stopAtArg bool) (*flags, error) {
	f := &flags{vals: map[string][]string{}}
	for len(args) > 0 {
		a := args[0]
		args = args[1:]
		if a == "--" {
			f.args = append(f.args, args...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			f.args = append(f.args, a)
			if stopAtArg {
				f.args = append(f.args, args...)
				break
			}
			continue
		}
		name, v, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		key, ok := spec[name]
		if !ok {
			return nil, fmt.Errorf("unknown flag %s", a)
		}
		if k, takes := strings.CutSuffix(key, "="); takes {
			if !hasValue {
				if len(args) == 0 {
					return nil, fmt.Errorf("flag %s needs a value", a)
				}
				v, args = args[0], args[1:]
			}
			f.vals[k] = append(f.vals[k], v)
		} else {
			if hasValue && v != "true" && v != "false" {
				return nil, fmt.Errorf("flag %s takes no value", a)
			}
			if v != "false" {
				f.vals[key] = append(f.vals[key], "true")
			}
		}
	}
	return f, nil
}

var globalFlags = map[string]string{
	"root": "root=", "log": "log=", "log-format": "log-format=", "debug": "debug",
	"systemd-cgroup": "systemd-cgroup", "rootless": "rootless=", "criu": "criu=",
	"help": "help", "h": "help", "version": "version", "v": "version",
}

var createFlags = map[string]string{
	"bundle": "bundle=", "b": "bundle=", "pid-file": "pid-file=", "console-socket": "console-socket=",
	"no-pivot": "no-pivot", "no-new-keyring": "no-new-keyring", "preserve-fds": "preserve-fds=",
}

func golosOCI(args []string) int {
	if len(args) > 0 && args[0] == "init" {
		if err := oci.Init(); err != nil {
			return 1
		}
		return 0
	}
	// The global flags come before the command.
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		name, _, hasValue := strings.Cut(strings.TrimLeft(args[i], "-"), "=")
		if strings.HasSuffix(globalFlags[name], "=") && !hasValue {
			i++
		}
		i++
	}
	if i > len(args) {
		i = len(args)
	}
	log := &logger{}
	g, err := parse(args[:i], globalFlags, false)
	if err != nil {
		return log.fail("%v (try golos-oci --help)", err)
	}
	if g.get("log") != "" {
		log.file, err = os.OpenFile(g.get("log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return log.fail("--log: %v", err)
		}
		log.format = g.get("log-format")
	}
	if g.has("help") {
		fmt.Print(usage)
		return 0
	}
	if g.has("version") {
		fmt.Printf("golos-oci version %s\nspec: 1.0.2\ngo: %s\n", version, runtime.Version())
		return 0
	}
	args = args[i:]
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return 1
	}
	r := &oci.Runtime{Root: g.get("root"), Note: func(s string) { log.write("warning", s) },
		SystemdCgroup: g.has("systemd-cgroup"),
		Warn:          func(s string) { fmt.Fprintf(os.Stderr, "golos-oci: %s\n", s) }}
	if r.Root == "" {
		r.Root = "/run/golos-oci"
	}
	if r.Self, err = os.Executable(); err != nil {
		return log.fail("%v", err)
	}
	r.Golos = filepath.Join(filepath.Dir(r.Self), "golos")
	cmd, args := args[0], args[1:]
	switch cmd {
	case "create", "run":
		spec := createFlags
		if cmd == "run" {
			spec = map[string]string{"detach": "detach", "d": "detach", "keep": "keep"}
			for k, v := range createFlags {
				spec[k] = v
			}
		}
		f, err := parse(args, spec, false)
		if err != nil {
			return log.fail("%s: %v", cmd, err)
		}
		id, err := oneID(cmd, f.args)
		if err != nil {
			return log.fail("%v", err)
		}
		bundle := f.get("bundle")
		if bundle == "" {
			bundle = "."
		}
		c, err := r.Create(id, oci.CreateOpts{Bundle: bundle, PidFile: f.get("pid-file"), ConsoleSocket: f.get("console-socket")})
		if err != nil {
			return log.fail("create %s: %v", id, err)
		}
		if cmd == "create" {
			return 0
		}
		if err := r.Start(id); err != nil {
			r.Delete(id, true)
			return log.fail("run %s: %v", id, err)
		}
		if f.has("detach") {
			return 0
		}
		code := oci.Wait(c.Cmd)
		if !f.has("keep") {
			r.Delete(id, true)
		}
		return code
	case "start", "state", "ps":
		f, err := parse(args, map[string]string{"format": "format=", "f": "format="}, false)
		if err != nil {
			return log.fail("%s: %v", cmd, err)
		}
		id, err := oneID(cmd, f.args)
		if err != nil {
			return log.fail("%v", err)
		}
		switch cmd {
		case "start":
			if err := r.Start(id); err != nil {
				return log.fail("start %s: %v", id, err)
			}
		case "state":
			st, err := oci.Load(r.Root, id)
			if err != nil {
				return log.fail("state %s: %v", id, err)
			}
			os.Stdout.Write(append(st.JSON(), '\n'))
		case "ps":
			st, err := oci.Load(r.Root, id)
			if err != nil {
				return log.fail("ps %s: %v", id, err)
			}
			pids := st.Pids()
			if pids == nil {
				pids = []int{}
			}
			if f.get("format") == "json" {
				out, _ := json.Marshal(pids)
				fmt.Println(string(out))
			} else {
				fmt.Println("PID")
				for _, p := range pids {
					fmt.Println(p)
				}
			}
		}
		return 0
	case "kill":
		f, err := parse(args, map[string]string{"all": "all", "a": "all"}, false)
		if err != nil {
			return log.fail("kill: %v", err)
		}
		if len(f.args) < 1 || len(f.args) > 2 {
			return log.fail("kill: want ID [SIGNAL]")
		}
		sig := syscall.SIGTERM
		if len(f.args) == 2 {
			if sig, err = oci.ParseSignal(f.args[1]); err != nil {
				return log.fail("kill: %v", err)
			}
		}
		if err := r.Kill(f.args[0], sig, f.has("all")); err != nil {
			return log.fail("kill: %v", err)
		}
		return 0
	case "delete":
		f, err := parse(args, map[string]string{"force": "force", "f": "force"}, false)
		if err != nil {
			return log.fail("delete: %v", err)
		}
		id, err := oneID(cmd, f.args)
		if err != nil {
			return log.fail("%v", err)
		}
		if err := r.Delete(id, f.has("force")); err != nil {
			return log.fail("delete %s: %v", id, err)
		}
		return 0
	case "exec":
		return execCmd(r, log, args)
	case "list":
		f, err := parse(args, map[string]string{"format": "format=", "f": "format=", "quiet": "quiet", "q": "quiet"}, false)
		if err != nil {
			return log.fail("list: %v", err)
		}
		ents, _ := os.ReadDir(r.Root)
		var states []*oci.State
		for _, e := range ents {
			if st, err := oci.Load(r.Root, e.Name()); err == nil {
				states = append(states, st)
			}
		}
		sort.Slice(states, func(i, j int) bool { return states[i].ID < states[j].ID })
		switch {
		case f.get("format") == "json":
			out := []json.RawMessage{}
			for _, st := range states {
				out = append(out, st.JSON())
			}
			data, _ := json.Marshal(out)
			fmt.Println(string(data))
		case f.has("quiet"):
			for _, st := range states {
				fmt.Println(st.ID)
			}
		default:
			fmt.Println("ID\tPID\tSTATUS\tBUNDLE")
			for _, st := range states {
				fmt.Printf("%s\t%d\t%s\t%s\n", st.ID, st.Pid, st.Status, st.Bundle)
			}
		}
		return 0
	case "features":
		fmt.Println(features)
		return 0
	case "version", "--version":
		fmt.Printf("golos-oci version %s\nspec: 1.0.2\n", version)
		return 0
	}
	return log.fail("unknown command %q (try golos-oci --help)", cmd)
}

// features is the runtime's features document (features.md of the runtime-spec): the
// namespaces golos-oci honours, the mount options it reads, its hooks.
const features = `{"ociVersionMin":"1.0.0","ociVersionMax":"1.0.2",` +
	`"hooks":["prestart","createRuntime","createContainer","startContainer","poststart","poststop"],` +
	`"mountOptions":["bind","rbind","ro","rw","mode"],` +
	`"linux":{"namespaces":["network","uts","ipc","mount","pid"],"capabilities":[],` +
	`"cgroup":{"v1":true,"v2":true,"systemd":false,"systemdUser":false},` +
	`"seccomp":{"enabled":true,"actions":["SCMP_ACT_ALLOW","SCMP_ACT_ERRNO","SCMP_ACT_KILL",` +
	`"SCMP_ACT_KILL_PROCESS","SCMP_ACT_KILL_THREAD","SCMP_ACT_LOG","SCMP_ACT_TRACE","SCMP_ACT_TRAP"],` +
	`"operators":["SCMP_CMP_EQ","SCMP_CMP_GE","SCMP_CMP_GT","SCMP_CMP_LE","SCMP_CMP_LT",` +
	`"SCMP_CMP_MASKED_EQ","SCMP_CMP_NE"],"archs":["SCMP_ARCH_X86_64"]},` +
	`"apparmor":{"enabled":false},"selinux":{"enabled":false}},` +
	`"annotations":{"io.github.golos.runtime":"golos-oci"}}`

func oneID(cmd string, args []string) (string, error) {
	if len(args) != 1 {
		return "", fmt.Errorf("%s: want one container ID, got %d arguments", cmd, len(args))
	}
	return args[0], nil
}

// execCmd is `exec`: the process from --process, or the container's own process with
// the command line's arguments and changes (as runc exec builds it).
func execCmd(r *oci.Runtime, log *logger, args []string) int {
	f, err := parse(args, map[string]string{
		"process": "process=", "p": "process=", "pid-file": "pid-file=", "console-socket": "console-socket=",
		"detach": "detach", "d": "detach", "tty": "tty", "t": "tty", "cwd": "cwd=", "env": "env=", "e": "env=",
		"user": "user=", "u": "user=", "preserve-fds": "preserve-fds=", "no-new-privs": "no-new-privs",
		"cap": "cap=", "c": "cap=", "apparmor": "apparmor=", "process-label": "process-label=",
		"additional-gids": "additional-gids=", "g": "additional-gids=", "ignore-paused": "ignore-paused",
		"cgroup": "cgroup=",
	}, true)
	if err != nil {
		return log.fail("exec: %v", err)
	}
	if len(f.args) == 0 {
		return log.fail("exec: no container ID")
	}
	id := f.args[0]
	var p *oci.Process
	if file := f.get("process"); file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return log.fail("exec %s: %v", id, err)
		}
		p = &oci.Process{}
		if err := json.Unmarshal(data, p); err != nil {
			return log.fail("exec %s: %s: %v", id, file, err)
		}
	} else {
		if len(f.args) < 2 {
			return log.fail("exec %s: no command given (and no --process)", id)
		}
		if p, err = r.BaseProcess(id); err != nil {
			return log.fail("exec: %v", err)
		}
		p.Args = f.args[1:]
		p.Terminal = f.has("tty")
		p.Env = append(p.Env, f.vals["env"]...)
		if c := f.get("cwd"); c != "" {
			p.Cwd = c
		}
		if u := f.get("user"); u != "" {
			uid, gid, _ := strings.Cut(u, ":")
			n, err := strconv.ParseUint(uid, 10, 32)
			if err != nil {
				return log.fail("exec %s: --user %s: want UID[:GID]", id, u)
			}
			p.User.UID = uint32(n)
			if gid != "" {
				n, err := strconv.ParseUint(gid, 10, 32)
				if err != nil {
					return log.fail("exec %s: --user %s: want UID[:GID]", id, u)
				}
				p.User.GID = uint32(n)
			}
		}
		if f.has("no-new-privs") {
			p.NoNewPrivileges = true
		}
	}
	code, err := r.Exec(id, oci.ExecOpts{Process: p, PidFile: f.get("pid-file"),
		ConsoleSocket: f.get("console-socket"), Detach: f.has("detach")})
	if err != nil {
		return log.fail("exec %s: %v", id, err)
	}
	return code
}
