package kernel

import (
	"strconv"
	"strings"
)

// /proc/self/mountinfo and /proc/self/mounts with a root: Linux shows a process only the
// mounts its root reaches, at their paths inside it (fs/proc_namespace.c, show_mountinfo
// and show_vfsmnt: seq_path_root relative to the process's root, SEQ_SKIP for a mount
// point outside it). golos's root is a host directory, not a mount namespace, so the
// host's file lists the host's mounts at their host paths: each line is kept only when
// its mount point is inside the root or a volume (vfs.FS.Guest), with that point's path
// inside. A volume is no mount of its own here, so it has no line unless its host
// directory is a mount point.

// procMounts is the file named by file ("mountinfo" or "mounts") as the program sees it.
func (p *Process) procMounts(file string) []byte {
	raw, err := readHostFile("/proc/self/" + file)
	if err != nil {
		return nil
	}
	field := 1 // mounts: "SOURCE MOUNTPOINT FSTYPE OPTIONS 0 0" (fstab(5))
	if file == "mountinfo" {
		field = 4 // "ID PARENT MAJ:MIN ROOT MOUNTPOINT …" (proc_pid_mountinfo(5))
	}
	var out strings.Builder
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		f := strings.Split(strings.TrimSuffix(line, "\n"), " ")
		if len(f) <= field {
			continue
		}
		guest, ok := p.fsctx.root.Guest(unescapeMountPath(f[field]))
		if !ok {
			continue
		}
		f[field] = escapeMountPath(guest)
		out.WriteString(strings.Join(f, " ") + "\n")
	}
	return []byte(out.String())
}

// unescapeMountPath undoes the kernel's escapes of a path in the mount files: space, tab,
// newline and backslash as a backslash and three octal digits (fs/proc_namespace.c,
// mangle: seq_escape with " \t\n\\").
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapeMountPath escapes s as the kernel does (unescapeMountPath).
func escapeMountPath(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n', '\\':
			b.WriteString(`\` + strconv.FormatUint(uint64(c)+0o1000, 8)[1:])
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
