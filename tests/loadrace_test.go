package tests

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// craftDataELF makes a static ELF64 executable with two PT_LOADs: the headers and code
// (read, execute) in the first page, and a writable segment at file offset 0x1000 mapped
// at craftBase+0x1000 with filesz and memsz; the file is cut to size bytes, its bytes from
// 0x1000 on being 0x07. The code exits with 42 plus the byte at probe, or with 42 when
// probe is 0. The segment's file range may run past the end of the file.
func craftDataELF(filesz, memsz, size, probe uint64) []byte {
	const hdrs = 64 + 2*56
	code := []byte{0xbf, 0, 0, 0, 0} // mov $0, %edi
	if probe != 0 {
		code = []byte{0x0f, 0xb6, 0x3c, 0x25, 0, 0, 0, 0} // movzbl probe, %edi
		binary.LittleEndian.PutUint32(code[4:], uint32(probe))
	}
	code = append(code,
		0x83, 0xc7, 42, // add $42, %edi
		0xb8, 60, 0, 0, 0, // mov $60, %eax (exit)
		0x0f, 0x05) // syscall
	h := elf.Header64{
		Type: uint16(elf.ET_EXEC), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Entry: craftBase + hdrs, Phoff: 64, Ehsize: 64, Phentsize: 56, Phnum: 2, Shentsize: 64,
	}
	copy(h.Ident[:], elf.ELFMAG)
	h.Ident[elf.EI_CLASS] = byte(elf.ELFCLASS64)
	h.Ident[elf.EI_DATA] = byte(elf.ELFDATA2LSB)
	h.Ident[elf.EI_VERSION] = byte(elf.EV_CURRENT)
	text := elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X),
		Vaddr: craftBase, Paddr: craftBase, Filesz: hdrs + uint64(len(code)),
		Memsz: hdrs + uint64(len(code)), Align: 0x1000,
	}
	data := elf.Prog64{
		Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_W), Off: 0x1000,
		Vaddr: craftBase + 0x1000, Paddr: craftBase + 0x1000, Filesz: filesz, Memsz: memsz, Align: 0x1000,
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, h)
	binary.Write(&b, binary.LittleEndian, text)
	binary.Write(&b, binary.LittleEndian, data)
	b.Write(code)
	b.Write(make([]byte, 0x1000-b.Len()))
	b.Write(bytes.Repeat([]byte{7}, 0x3000))
	return b.Bytes()[:size]
}

// TestTruncatedSegments: ELF files whose writable segment's file bytes run past the end
// of the file, as a program cut short (or cut while it is loaded) has. Linux maps such a
// segment (only touching a page wholly past the end faults, with SIGBUS) and zeroes the
// rest of the page where the bss starts (padzero(), fs/binfmt_elf.c); when that page is
// past the end of the file, padzero fails and execve kills the process with SIGSEGV.
// golos must do the same and never take the SIGBUS itself.
func TestTruncatedSegments(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	const data = craftBase + 0x1000
	for _, c := range []struct {
		name                string
		filesz, memsz, size uint64
		probe               uint64
		wantCode            int
		wantSignal          syscall.Signal
	}{
		// The file ends inside the page where the bss begins: the page is the file's,
		// zero past the end, and the bss from fileEnd on is zeroed (not 7).
		{"bss-page-partly-in-file", 0x1800, 0x3000, 0x2400, data + 0x1900, 42, 0},
		{"bss-page-in-file", 0x1800, 0x3000, 0x3000, data + 0x1900, 42, 0},
		// The last file pages are past the end, and there is no bss: it runs, and only
		// touching them faults (SIGBUS), in the program.
		{"no-bss-untouched", 0x1800, 0x1800, 0x1100, 0, 42, 0},
		{"no-bss-touched", 0x1800, 0x1800, 0x1100, data + 0x1700, 0, syscall.SIGBUS},
		// A byte of the first data page, which is in the file.
		{"no-bss-first-page", 0x1800, 0x1800, 0x1100, data + 0x80, 42 + 7, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := write(c.name, craftDataELF(c.filesz, c.memsz, c.size, c.probe))
			nat, _ := runBoth(t, p)
			if nat.signal != c.wantSignal || c.wantSignal == 0 && nat.code != c.wantCode {
				t.Errorf("test file misbehaves natively: %s, want status %d, signal %d", nat, c.wantCode, c.wantSignal)
			}
		})
	}
	t.Run("bss-page-past-end", func(t *testing.T) {
		p := write("bss-past-end", craftDataELF(0x1800, 0x3000, 0x1100, data+0x1900))
		if nat := runNative(&runOpts{dir: dir}, p); nat.signal != syscall.SIGSEGV {
			t.Errorf("test file misbehaves natively: %s, want death by SIGSEGV (execve failing past its point of no return)", nat)
		}
		// golos run refuses it before running anything (the formatError policy of
		// internal/loader: 126 and one line), where the shell would report SIGSEGV.
		refused(t, p, 126, "past the end of the file")
	})
}

// TestExecBusy: execve of a file that is open for writing fails with ETXTBSY (execve(2),
// fs/exec.c: deny_write_access), for a program and a script, and succeeds again once the
// writer is closed; an execve that cannot finish loading kills the process with SIGSEGV.
// The same from a program under golos, and for `golos run` of a file another process
// holds open for writing.
func TestExecBusy(t *testing.T) {
	// Each run gets files of its own: one run's writer would make another's busy.
	files := func(t *testing.T) (tiny, script, pastEnd string) {
		dir := t.TempDir()
		tiny = filepath.Join(dir, "tiny")
		script = filepath.Join(dir, "script")
		pastEnd = filepath.Join(dir, "bss-past-end")
		for p, b := range map[string][]byte{
			tiny:    craftDataELF(0x1800, 0x3000, 0x3000, 0),
			script:  []byte("#!/bin/sh\nexit 3\n"),
			pastEnd: craftDataELF(0x1800, 0x3000, 0x1100, 0),
		} {
			if err := os.WriteFile(p, b, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		return tiny, script, pastEnd
	}
	forFlavours(t, "exec_busy", func(t *testing.T, p string) {
		tiny, script, pastEnd := files(t)
		nat, _ := runBoth(t, p, tiny, script, pastEnd)
		wantNative(t, nat, 0,
			tiny+": exit 42\n"+tiny+" (open for writing): execve ETXTBSY\n"+tiny+" (closed again): exit 42\n",
			script+": exit 3\n"+script+" (open for writing): execve ETXTBSY\n"+script+" (closed again): exit 3\n",
			pastEnd+": killed by signal 11\n"+pastEnd+" (open for writing): execve ETXTBSY\n")
	})
	t.Run("golos-run", func(t *testing.T) {
		tiny, script, _ := files(t)
		for _, p := range []string{tiny, script} {
			w, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			o := &runOpts{dir: filepath.Dir(p), timeout: badInputTimeout, busyWanted: true}
			nat := runNative(o, p)
			if !errors.Is(nat.err, syscall.ETXTBSY) {
				t.Errorf("native start of %s open for writing: %s, want ETXTBSY", p, nat)
			}
			r := runGolosOpts(o, "run", p)
			w.Close()
			if r.err != nil || r.signal != 0 || r.code != 126 || crashed(r.stderr) {
				t.Errorf("golos run %s open for writing: %s, want exit status 126 (as a shell's for ETXTBSY)", p, r)
			}
			oneLine(t, "golos run "+p, r.stderr)
			if !bytes.Contains(r.stderr, []byte(p+": text file busy")) {
				t.Errorf("golos run %s: stderr %q does not say it is busy", p, r.stderr)
			}
		}
	})
}
