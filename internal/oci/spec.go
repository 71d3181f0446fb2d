// Package oci is golos as an OCI runtime (cmd/golos-oci): it reads a bundle's config.json
// (the runtime-spec, https://github.com/opencontainers/runtime-spec/blob/main/config.md),
// keeps each container's state in a directory of the state root, and runs the container's
// process as `golos run --root ROOTFS …`, with the lifecycle runc has: create stops before
// the program's first instruction, start releases it (runtime.md, "Lifecycle").
package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Spec is the part of config.json golos-oci uses. Other properties are ignored, as the
// runtime-spec asks ("Runtimes ... MUST NOT generate an error if they encounter an unknown
// property. Instead they MUST ignore unknown properties", config.md): an engine's config
// has resources, seccomp, masked paths and more that golos has no use for.
type Spec struct {
	OCIVersion  string            `json:"ociVersion"`
	Process     *Process          `json:"process"`
	Root        *Root             `json:"root"`
	Hostname    string            `json:"hostname"`
	Mounts      []Mount           `json:"mounts"`
	Hooks       *Hooks            `json:"hooks"`
	Annotations map[string]string `json:"annotations"`
	Linux       *Linux            `json:"linux"`
}

// Process is config.md's "process".
type Process struct {
	Terminal        bool          `json:"terminal"`
	ConsoleSize     *Box          `json:"consoleSize"`
	User            User          `json:"user"`
	Args            []string      `json:"args"`
	Env             []string      `json:"env"`
	Cwd             string        `json:"cwd"`
	Rlimits         []Rlimit      `json:"rlimits"`
	NoNewPrivileges bool          `json:"noNewPrivileges"`
	Capabilities    *Capabilities `json:"capabilities"`
}

// Box is a terminal's size.
type Box struct {
	Height uint16 `json:"height"`
	Width  uint16 `json:"width"`
}

// User is the process's identity.
type User struct {
	UID            uint32   `json:"uid"`
	GID            uint32   `json:"gid"`
	Umask          *uint32  `json:"umask"`
	AdditionalGids []uint32 `json:"additionalGids"`
}

// Rlimit is one of process.rlimits.
type Rlimit struct {
	Type string `json:"type"`
	Hard uint64 `json:"hard"`
	Soft uint64 `json:"soft"`
}

// Root is the container's root file system.
type Root struct {
	Path     string `json:"path"`
	Readonly bool   `json:"readonly"`
}

// Mount is one of config.md's "mounts".
type Mount struct {
	Destination string   `json:"destination"`
	Type        string   `json:"type"`
	Source      string   `json:"source"`
	Options     []string `json:"options"`
}

// Hook is one of config.md's "hooks" entries.
type Hook struct {
	Path    string   `json:"path"`
	Args    []string `json:"args"`
	Env     []string `json:"env"`
	Timeout *int     `json:"timeout"`
}

// Hooks are the hooks by the point of the lifecycle they run at.
type Hooks struct {
	Prestart        []Hook `json:"prestart"`
	CreateRuntime   []Hook `json:"createRuntime"`
	CreateContainer []Hook `json:"createContainer"`
	StartContainer  []Hook `json:"startContainer"`
	Poststart       []Hook `json:"poststart"`
	Poststop        []Hook `json:"poststop"`
}

// Linux is the part of config-linux.md golos-oci uses.
type Linux struct {
	Namespaces  []Namespace `json:"namespaces"`
	Seccomp     *Seccomp    `json:"seccomp"`
	Resources   *Resources  `json:"resources"`
	CgroupsPath string      `json:"cgroupsPath"`
}

// Namespace is one of linux.namespaces: a new one of Type, or the one at Path.
type Namespace struct {
	Type string `json:"type"`
	Path string `json:"path"`
}

// LoadSpec reads and checks BUNDLE/config.json. The root's path is made absolute (relative
// to the bundle, config.md "root").
func LoadSpec(bundle string) (*Spec, error) {
	name := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", bundle, err)
	}
	var s Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := s.check(bundle); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &s, nil
}

func (s *Spec) check(bundle string) error {
	if s.Root == nil || s.Root.Path == "" {
		return errors.New("root.path is missing")
	}
	if !filepath.IsAbs(s.Root.Path) {
		s.Root.Path = filepath.Join(bundle, s.Root.Path)
	}
	if abs, err := filepath.Abs(s.Root.Path); err == nil {
		s.Root.Path = abs
	}
	if fi, err := os.Stat(s.Root.Path); err != nil {
		return fmt.Errorf("root.path: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("root.path %s: not a directory", s.Root.Path)
	}
	if s.Process == nil {
		return errors.New("process is missing")
	}
	if err := s.Process.check(); err != nil {
		return err
	}
	for _, m := range s.Mounts {
		if !path.IsAbs(m.Destination) {
			return fmt.Errorf("mount %q: the destination must be an absolute path", m.Destination)
		}
		if m.isBind() {
			if _, err := os.Stat(m.Source); err != nil {
				return fmt.Errorf("mount %s: source: %w", m.Destination, err)
			}
			continue
		}
		switch m.Type {
		case "proc", "sysfs", "tmpfs", "devpts", "mqueue", "cgroup", "cgroup2":
		default:
			return fmt.Errorf("mount %s: type %q is not supported (golos-oci knows bind, proc, sysfs, tmpfs, devpts, mqueue, cgroup)", m.Destination, m.Type)
		}
	}
	if s.Linux != nil {
		for _, ns := range s.Linux.Namespaces {
			switch ns.Type {
			case "network", "uts", "ipc", "mount", "pid", "cgroup", "user", "time":
			default:
				return fmt.Errorf("linux.namespaces: unknown type %q", ns.Type)
			}
			if ns.Path != "" {
				if _, err := os.Stat(ns.Path); err != nil {
					return fmt.Errorf("linux.namespaces %s: %w", ns.Type, err)
				}
			}
		}
		if s.Linux.Seccomp != nil {
			if _, err := s.Linux.Seccomp.Compile(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *Process) check() error {
	if len(p.Args) == 0 || p.Args[0] == "" {
		return errors.New("process.args is empty")
	}
	if p.Cwd != "" && !path.IsAbs(p.Cwd) {
		return fmt.Errorf("process.cwd %q: must be an absolute path", p.Cwd)
	}
	for _, r := range p.Rlimits {
		if _, ok := rlimitNames[r.Type]; !ok {
			return fmt.Errorf("process.rlimits: unknown type %q", r.Type)
		}
	}
	return nil
}

func (m *Mount) isBind() bool {
	return m.Type == "bind" || slices.Contains(m.Options, "bind") || slices.Contains(m.Options, "rbind")
}

func (m *Mount) readOnly() bool { return slices.Contains(m.Options, "ro") }

// volume is a golos --volume: host directory (or file) Host seen at Guest.
type volume struct {
	Host, Guest string
	ReadOnly    bool
	File        bool // Host is not a directory
}

func (v volume) flag() string {
	s := v.Host + ":" + v.Guest
	if v.ReadOnly {
		s += ":ro"
	}
	return s
}

// volumes maps the mounts to golos volumes. golos has no mount table of its own: each
// mount is a host directory grafted into the root. proc, sysfs, devpts and mqueue are the
// host's own (golos shows /proc/self and the process's own /proc/<pid> virtually);
// a tmpfs is a directory golos-oci makes under the container's state directory (dir),
// removed with it; a /dev tmpfs gets the device nodes runc creates (config-linux.md,
// "Default Devices"). A bind mount of a file (an engine's /etc/hosts, /etc/resolv.conf)
// is a volume of that file: golos opens the host file itself there, as the bind shows it.
func (s *Spec) volumes(dir string) (vols []volume, notes []string, err error) {
	sysfs := false
	for _, m := range s.Mounts {
		if m.Type == "sysfs" {
			sysfs = true
		}
	}
	for i, m := range s.Mounts {
		dest := path.Clean(m.Destination)
		ro := m.readOnly()
		switch {
		case m.isBind():
			fi, err := os.Stat(m.Source)
			if err != nil {
				return nil, nil, fmt.Errorf("mount %s: source: %w", dest, err)
			}
			src, err := filepath.Abs(m.Source)
			if err != nil {
				return nil, nil, fmt.Errorf("mount %s: %w", dest, err)
			}
			vols = append(vols, volume{src, dest, ro, !fi.IsDir()})
		case m.Type == "proc":
			vols = append(vols, volume{"/proc", dest, ro, false})
		case m.Type == "sysfs":
			vols = append(vols, volume{"/sys", dest, ro, false})
		case m.Type == "cgroup" || m.Type == "cgroup2":
			if sysfs && strings.HasPrefix(dest, "/sys/") {
				continue // the host's /sys already has it
			}
			vols = append(vols, volume{"/sys/fs/cgroup", dest, true, false})
		case m.Type == "devpts":
			vols = append(vols, volume{"/dev/pts", dest, ro, false})
		case m.Type == "mqueue" && isDir("/dev/mqueue"):
			vols = append(vols, volume{"/dev/mqueue", dest, ro, false})
		case m.Type == "tmpfs" || m.Type == "mqueue":
			// An mqueue file system the host has not mounted is an empty directory.
			d := filepath.Join(dir, "tmpfs", fmt.Sprint(i))
			if err := os.MkdirAll(d, 0o755); err != nil {
				return nil, nil, fmt.Errorf("mount %s: tmpfs: %w", dest, err)
			}
			if mode := optionMode(m.Options); mode != 0 {
				os.Chmod(d, mode)
			}
			if dest == "/dev" {
				if err := makeDev(d); err != nil {
					// Without the right to make device nodes, the host's /dev is seen instead.
					notes = append(notes, fmt.Sprintf("mount /dev: %v; the host's /dev is used", err))
					d = "/dev"
				}
			}
			vols = append(vols, volume{d, dest, ro, false})
		}
	}
	// A mount point inside another volume's directory made here must exist there: golos
	// shows a missing one only inside the root. A file's is an empty file, as runc makes.
	for _, v := range vols {
		for _, w := range vols {
			if strings.HasPrefix(w.Guest, v.Guest+"/") && strings.HasPrefix(v.Host, dir+"/") {
				mp := filepath.Join(v.Host, strings.TrimPrefix(w.Guest, v.Guest+"/"))
				if !w.File {
					os.MkdirAll(mp, 0o755)
				} else if os.MkdirAll(filepath.Dir(mp), 0o755) == nil {
					if f, err := os.OpenFile(mp, os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
						f.Close()
					}
				}
			}
		}
	}
	return vols, notes, nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// optionMode is a tmpfs's mode= option.
func optionMode(opts []string) os.FileMode {
	for _, o := range opts {
		if v, ok := strings.CutPrefix(o, "mode="); ok {
			var m uint32
			if _, err := fmt.Sscanf(v, "%o", &m); err == nil {
				return os.FileMode(m) & os.ModePerm
			}
		}
	}
	return 0
}
