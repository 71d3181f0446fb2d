package tests

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// badInputTimeout: golos must refuse bad input quickly.
const badInputTimeout = 10 * time.Second

// golosRangeStart is the start of golos's own part of the address space: its text is
// linked at 0x7e0000001000 (internal/build.TextAddress), its ELF header page just below.
const golosRangeStart = 0x7e0000000000

// refused runs `golos run path` and checks that golos refused it: exit status want,
// nothing on stdout, exactly one line on stderr (naming mention, when not empty), no Go
// crash, and all within badInputTimeout.
func refused(t *testing.T, path string, want int, mention string) {
	t.Helper()
	r := runGolos(t, badInputTimeout, "run", path)
	switch {
	case r.err != nil:
		t.Fatalf("golos %s", r)
	case r.timedOut:
		t.Fatalf("golos run %s did not finish within %v", path, badInputTimeout)
	}
	if r.signal != 0 {
		t.Errorf("golos was killed by signal %d (%v)", int(r.signal), r.signal)
	}
	if crashed(r.stderr) {
		t.Errorf("golos crashed (panic or goroutine dump on stderr)")
	}
	if r.code != want {
		t.Errorf("golos run %s: exit status %d, want %d", path, r.code, want)
	}
	oneLine(t, "golos run "+path, r.stderr)
	if mention != "" && !bytes.Contains(r.stderr, []byte(mention)) {
		t.Errorf("stderr does not mention %q", mention)
	}
	if len(r.stdout) > 0 {
		t.Errorf("golos wrote to stdout: %q", clip(r.stdout))
	}
	if t.Failed() {
		t.Logf("stderr:\n%s", clip(r.stderr))
	}
}

// TestBadInput: files golos must refuse with one line on stderr (invariant 5 of
// docs/design.md): 126 with "exec format error" for a file Linux cannot execute either (execve
// fails with ENOEXEC, or, for segments that cannot be mapped, kills the process), as
// docker run reports ENOEXEC; 125 for one Linux runs and golos cannot; the shell's 127
// (not found) and 126 (not executable).
func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// A real static non-PIE binary to cut and patch.
	realBinary := func(t *testing.T) []byte {
		b, err := os.ReadFile(prog(t, "exitcode.glibc-static"))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	t.Run("not-elf-text", func(t *testing.T) {
		p := write("script", []byte("echo this is a shell script without #!\nexit 3\n"))
		refused(t, p, 126, p+": exec format error")
	})
	t.Run("not-elf-empty", func(t *testing.T) {
		p := write("empty", nil)
		refused(t, p, 126, p+": exec format error")
	})
	t.Run("not-elf-junk", func(t *testing.T) {
		b := make([]byte, 4096)
		for i := range b {
			b[i] = byte(i*131 + i>>8)
		}
		p := write("junk", b)
		refused(t, p, 126, p+": exec format error")
	})
	t.Run("elf-magic-only", func(t *testing.T) {
		refused(t, write("magic", []byte("\x7fELF")), 126, "exec format error")
	})
	t.Run("truncated-elf", func(t *testing.T) {
		refused(t, write("truncated", realBinary(t)[:100]), 126, "exec format error")
	})
	t.Run("elf32-i386", func(t *testing.T) {
		var b []byte
		progMu.Lock()
		p, ok := progs["exit0.i386"]
		progMu.Unlock()
		if ok {
			b, _ = os.ReadFile(p)
		}
		if b == nil {
			t.Logf("gcc -m32 did not build testdata/i386/exit0.c; using a crafted ELF32 file")
			b = craftELF32()
		}
		if f, err := elf.NewFile(bytes.NewReader(b)); err != nil || f.Class != elf.ELFCLASS32 || f.Machine != elf.EM_386 {
			t.Fatalf("not a valid i386 ELF file: %v", err)
		}
		// Linux runs it (IA-32 emulation): golos's own limitation.
		refused(t, write("elf32", b), 125, "32-bit")
	})
	t.Run("elf64-aarch64", func(t *testing.T) {
		// mov x0, #0; mov x8, #93 (exit); svc #0
		code := []byte{0x00, 0x00, 0x80, 0xd2, 0xa8, 0x0b, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4}
		refused(t, write("aarch64", craftELF64(elf.EM_AARCH64, code)), 126, "exec format error")
	})
	t.Run("huge-memsz", func(t *testing.T) {
		// The last PT_LOAD (data and bss) grows to 128 TiB: more than the whole user
		// address space.
		b := patchProg(t, realBinary(t), lastLoad, func(ph []byte) {
			binary.LittleEndian.PutUint64(ph[40:], 1<<47)
		})
		refused(t, write("huge-memsz", b), 126, "exec format error")
	})
	t.Run("memsz-wraps", func(t *testing.T) {
		// p_vaddr + p_memsz overflows 64 bits.
		b := patchProg(t, realBinary(t), lastLoad, func(ph []byte) {
			binary.LittleEndian.PutUint64(ph[40:], 0xfffffffffffff000)
		})
		refused(t, write("memsz-wraps", b), 126, "exec format error")
	})
	t.Run("filesz-above-memsz", func(t *testing.T) {
		b := patchProg(t, realBinary(t), largestLoad, func(ph []byte) {
			memsz := binary.LittleEndian.Uint64(ph[40:])
			binary.LittleEndian.PutUint64(ph[32:], memsz+0x100000)
		})
		refused(t, write("filesz-above-memsz", b), 126, "exec format error")
	})
	t.Run("phdrs-beyond-file", func(t *testing.T) {
		b := realBinary(t)
		binary.LittleEndian.PutUint64(b[32:], uint64(len(b))+0x1000) // e_phoff
		refused(t, write("phoff", b), 126, "exec format error")
	})
	t.Run("load-in-golos-range", func(t *testing.T) {
		// The last PT_LOAD (data and bss) moves onto golos's own text, its address kept
		// congruent to its file offset modulo the alignment, the segments still in order:
		// a valid ELF Linux would map, golos cannot (125, not the file's fault).
		b := patchProg(t, realBinary(t), lastLoad, func(ph []byte) {
			vaddr := binary.LittleEndian.Uint64(ph[16:])
			align := binary.LittleEndian.Uint64(ph[48:])
			if align == 0 {
				align = 1
			}
			v := uint64(golosRangeStart) + vaddr%align
			binary.LittleEndian.PutUint64(ph[16:], v) // p_vaddr
			binary.LittleEndian.PutUint64(ph[24:], v) // p_paddr
		})
		refused(t, write("golos-range", b), 125, "golos")
	})
	t.Run("segments-out-of-order", func(t *testing.T) {
		// The first PT_LOAD moves above the others: the ELF specification wants them
		// sorted by address.
		b := patchProg(t, realBinary(t), firstLoad, func(ph []byte) {
			vaddr := binary.LittleEndian.Uint64(ph[16:])
			align := binary.LittleEndian.Uint64(ph[48:])
			if align == 0 {
				align = 1
			}
			v := uint64(0x10000000000) + vaddr%align
			binary.LittleEndian.PutUint64(ph[16:], v) // p_vaddr
			binary.LittleEndian.PutUint64(ph[24:], v) // p_paddr
		})
		refused(t, write("out-of-order", b), 126, "exec format error")
	})
	t.Run("not-found-path", func(t *testing.T) {
		p := filepath.Join(dir, "no-such-program")
		refused(t, p, 127, p)
	})
	t.Run("not-found-in-PATH", func(t *testing.T) {
		refused(t, "golos-test-no-such-program", 127, "golos-test-no-such-program")
	})
	t.Run("not-executable", func(t *testing.T) {
		p := filepath.Join(dir, "no-x-bit")
		copyFile(t, prog(t, "exitcode.glibc-static"), p, 0o644)
		refused(t, p, 126, p)
	})
}

// TestTinyELF runs a tiny static executable made here, without libc or sections: it
// writes a line and exits with status 42. It also shows that craftELF64, which makes the
// AArch64 file of TestBadInput, writes a valid ELF file.
func TestTinyELF(t *testing.T) {
	msg := "hello from a tiny ELF\n"
	code := []byte{
		0xb8, 1, 0, 0, 0, // mov $1, %eax (write)
		0xbf, 1, 0, 0, 0, // mov $1, %edi
		0x48, 0x8d, 0x35, 19, 0, 0, 0, // lea msg(%rip), %rsi
		0xba, byte(len(msg)), 0, 0, 0, // mov $len, %edx
		0x0f, 0x05, // syscall
		0xb8, 60, 0, 0, 0, // mov $60, %eax (exit)
		0xbf, 42, 0, 0, 0, // mov $42, %edi
		0x0f, 0x05, // syscall
	}
	p := filepath.Join(t.TempDir(), "tiny")
	if err := os.WriteFile(p, craftELF64(elf.EM_X86_64, append(code, msg...)), 0o755); err != nil {
		t.Fatal(err)
	}
	nat, _ := runBoth(t, p)
	wantNative(t, nat, 42, msg)
}

const craftBase = 0x400000

// craftELF64 makes a minimal static little-endian ELF64 executable for machine: the ELF
// header, one PT_LOAD program header mapping the whole file at craftBase, then code,
// which is the entry point.
func craftELF64(machine elf.Machine, code []byte) []byte {
	const hdrs = 64 + 56
	var b bytes.Buffer
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(machine), Version: uint32(elf.EV_CURRENT),
		Entry: craftBase + hdrs, Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 1, Shentsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	ph := elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Off: 0,
		Vaddr: craftBase, Paddr: craftBase, Filesz: hdrs + uint64(len(code)),
		Memsz: hdrs + uint64(len(code)), Align: 0x1000,
	}
	binary.Write(&b, binary.LittleEndian, h)
	binary.Write(&b, binary.LittleEndian, ph)
	b.Write(code)
	return b.Bytes()
}

// craftELF32 makes a minimal static i386 executable that exits 0.
func craftELF32() []byte {
	const hdrs = 52 + 32
	code := []byte{0xb8, 1, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x80} // mov $1,%eax; xor %ebx,%ebx; int $0x80
	var b bytes.Buffer
	h := elf.Header32{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_386), Version: uint32(elf.EV_CURRENT),
		Entry: craftBase + hdrs, Phoff: 52, Ehsize: 52, Phentsize: 32, Phnum: 1, Shentsize: 40,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS32)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	ph := elf.Prog32{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Vaddr: craftBase, Paddr: craftBase,
		Filesz: hdrs + uint32(len(code)), Memsz: hdrs + uint32(len(code)), Align: 0x1000,
	}
	binary.Write(&b, binary.LittleEndian, h)
	binary.Write(&b, binary.LittleEndian, ph)
	b.Write(code)
	return b.Bytes()
}

// A loadPicker chooses one PT_LOAD among an ELF file's program headers.
type loadPicker func(progs []*elf.Prog) int

func firstLoad(progs []*elf.Prog) int {
	for k, p := range progs {
		if p.Type == elf.PT_LOAD {
			return k
		}
	}
	return -1
}

func lastLoad(progs []*elf.Prog) int {
	i := -1
	for k, p := range progs {
		if p.Type == elf.PT_LOAD {
			i = k
		}
	}
	return i
}

func largestLoad(progs []*elf.Prog) int {
	i := -1
	for k, p := range progs {
		if p.Type == elf.PT_LOAD && (i < 0 || p.Memsz > progs[i].Memsz) {
			i = k
		}
	}
	return i
}

// patchProg returns b with the 56-byte program header chosen by pick changed by patch
// (offsets: 16 p_vaddr, 24 p_paddr, 32 p_filesz, 40 p_memsz, 48 p_align).
func patchProg(t *testing.T, b []byte, pick loadPicker, patch func(ph []byte)) []byte {
	t.Helper()
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	i := pick(f.Progs)
	if i < 0 {
		t.Fatal("no PT_LOAD to patch")
	}
	phoff := binary.LittleEndian.Uint64(b[32:])
	phentsize := uint64(binary.LittleEndian.Uint16(b[54:]))
	off := phoff + uint64(i)*phentsize
	patch(b[off : off+56])
	return b
}

// TestCLI checks golos's own command line.
func TestCLI(t *testing.T) {
	t.Run("version", func(t *testing.T) {
		r := runGolos(t, badInputTimeout, "--version")
		if r.code != 0 || r.signal != 0 || len(bytes.TrimSpace(r.stdout)) == 0 {
			t.Errorf("golos --version: %s, want status 0 and a version on stdout\nstdout:\n%sstderr:\n%s",
				r, clip(r.stdout), clip(r.stderr))
		}
	})
	t.Run("help", func(t *testing.T) {
		r := runGolos(t, badInputTimeout, "--help")
		out := string(r.stdout) + string(r.stderr)
		if r.code != 0 || r.signal != 0 || !strings.Contains(out, "run") {
			t.Errorf("golos --help: %s, want status 0 and a usage that mentions \"run\"\nstdout:\n%sstderr:\n%s",
				r, clip(r.stdout), clip(r.stderr))
		}
	})
	for _, c := range []struct {
		name string
		args []string
	}{
		{"run-without-program", []string{"run"}},
		{"run-quiet-without-program", []string{"run", "--quiet"}},
		{"run-unknown-option", []string{"run", "--no-such-option", "/bin/busybox", "true"}},
		{"unknown-command", []string{"no-such-command"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runGolos(t, badInputTimeout, c.args...)
			if r.code != 125 || r.signal != 0 || len(r.stderr) == 0 || crashed(r.stderr) {
				t.Errorf("golos %s: %s, want a usage error: status 125 and a message on stderr\nstderr:\n%s",
					strings.Join(c.args, " "), r, clip(r.stderr))
			}
		})
	}
	// An empty program name is no file, as for env(1) (execvp(3) of "": ENOENT), not a
	// directory of PATH's.
	t.Run("run-empty-program", func(t *testing.T) {
		nat := runNative(&runOpts{dir: t.TempDir()}, "env", "")
		r := runGolos(t, badInputTimeout, "run", "")
		if nat.code != 127 {
			t.Fatalf("env '' natively: %s, want status 127", nat)
		}
		if r.code != nat.code || r.signal != 0 || crashed(r.stderr) || !bytes.Contains(r.stderr, []byte("no such file or directory")) {
			t.Errorf("golos run '': %s, want status %d (as env '') and \"no such file or directory\" on stderr\nstderr:\n%s",
				r, nat.code, clip(r.stderr))
		}
		oneLine(t, "golos run ''", r.stderr)
	})
	// Options of `golos run` change neither the program's stdout nor its exit status.
	for _, flags := range [][]string{{"--quiet"}, {"--debug"}, {"--debug=syscalls"}} {
		t.Run("run"+strings.Join(flags, ""), func(t *testing.T) {
			t.Parallel()
			p := prog(t, "exitcode.glibc-static")
			nat, _ := runBothOpts(t, runOpts{golosFlags: flags}, p, "42", "exit")
			wantNative(t, nat, 42)
		})
	}
}

// TestExecErrors: a FIFO, a directory, a text file without "#!", a missing file and one
// without the execute bit, run by golos (refused at once, without opening a FIFO for
// reading, which would wait for a writer) and execve'd by a program under golos (the
// errno comes back to it, as on Linux, rather than ending it); so does it for scripts
// and ELF files whose interpreters are missing, unrunnable or too many levels deep.
func TestExecErrors(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Run("fifo-as-program", func(t *testing.T) {
		refused(t, fifo, 126, "not a regular file")
	})
	t.Run("fifo-as-interpreter", func(t *testing.T) {
		// A dynamic program whose PT_INTERP names a FIFO (a path of the same length as
		// glibc's ld.so, written over it).
		const ldso = "/lib64/ld-linux-x86-64.so.2"
		b, err := os.ReadFile("/bin/true")
		if err != nil || !bytes.Contains(b, []byte(ldso)) {
			t.Fatalf("/bin/true with PT_INTERP %s: %v", ldso, err)
		}
		path := fmt.Sprintf("/tmp/golos-fifo-%011d", os.Getpid())
		os.Remove(path)
		if err := syscall.Mkfifo(path, 0o755); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(path)
		prog := filepath.Join(dir, "interp-fifo")
		if err := os.WriteFile(prog, bytes.Replace(b, []byte(ldso), []byte(path), 1), 0o755); err != nil {
			t.Fatal(err)
		}
		refused(t, prog, 126, "not a regular file")
	})
	forFlavours(t, "exec_errors", func(t *testing.T, p string) {
		nat, _ := runBoth(t, p)
		wantNative(t, nat, 0, "execve ./fifo: EACCES\n", "execve ./dir: EACCES\n", "execve ./text: ENOEXEC\n",
			"execve ./missing: ENOENT\n", "execve ./noexec: EACCES\n",
			"execve ./interp-missing: ENOENT\n", "execve ./interp-noexec: EACCES\n", "execve ./interp-dir: EACCES\n",
			"execve ./level5: ENOENT\n", "execve ./level6: ELOOP\n", "execve ./empty: ENOEXEC\n",
			"execve ./truncated: ENOEXEC\n", "execve ./pt-interp-missing: ENOENT\n",
			"execve ./pt-interp-short: EIO\n", "execve ./pt-interp-garbage: ELIBBAD\n")
	})
}
