package loader

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// seedELF is a minimal valid x86-64 executable: the ELF header, one program header and
// one PT_LOAD of the whole file at 0x400000.
func seedELF(typ elf.Type, machine elf.Machine) []byte {
	b := make([]byte, 64+56+16)
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), 1
	le := binary.LittleEndian
	le.PutUint16(b[16:], uint16(typ))
	le.PutUint16(b[18:], uint16(machine))
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], 0x400000+120) // entry
	le.PutUint64(b[32:], 64)           // phoff
	le.PutUint16(b[52:], 64)
	le.PutUint16(b[54:], 56)
	le.PutUint16(b[56:], 1)
	ph := b[64:]
	le.PutUint32(ph[0:], uint32(elf.PT_LOAD))
	le.PutUint32(ph[4:], uint32(elf.PF_R|elf.PF_X))
	le.PutUint64(ph[16:], 0x400000)
	le.PutUint64(ph[32:], uint64(len(b)))
	le.PutUint64(ph[40:], uint64(len(b)))
	return b
}

// fuzzSeeds are the seed corpus: the first 4 KiB of real executables (their headers and
// program headers) and the hostile files of tests/badinput_test.go, crafted here on the
// small seed.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	for _, p := range []string{"/bin/true", "/bin/sh", "/bin/busybox", "/lib64/ld-linux-x86-64.so.2"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		seeds = append(seeds, b[:min(len(b), 4096)])
	}
	good := seedELF(elf.ET_EXEC, elf.EM_X86_64)
	patch := func(off int, v uint64, size int) []byte {
		b := bytes.Clone(good)
		switch size {
		case 1:
			b[off] = byte(v)
		case 2:
			binary.LittleEndian.PutUint16(b[off:], uint16(v))
		case 4:
			binary.LittleEndian.PutUint32(b[off:], uint32(v))
		default:
			binary.LittleEndian.PutUint64(b[off:], v)
		}
		return b
	}
	seeds = append(seeds, good, seedELF(elf.ET_DYN, elf.EM_X86_64), seedELF(elf.ET_EXEC, elf.EM_AARCH64),
		nil, []byte("\x7fELF"), good[:100], []byte("#!/bin/sh\n"),
		patch(elf.EI_CLASS, uint64(elf.ELFCLASS32), 1),
		patch(elf.EI_DATA, uint64(elf.ELFDATA2MSB), 1),
		patch(64+40, 1<<47, 8),              // huge p_memsz
		patch(64+40, 0xfffffffffffff000, 8), // p_vaddr + p_memsz wraps
		patch(64+32, 1<<20, 8),              // p_filesz above p_memsz
		patch(32, 1<<40, 8),                 // program headers beyond the file
		patch(56, 0xffff, 2),                // e_phnum huge
		patch(54, 32, 2),                    // e_phentsize
		patch(64+8, 0xfffffffffffff000, 8),  // p_offset wraps
		patch(64+16, 0x7ffffffff000, 8),     // p_vaddr at the end of the user space
	)
	return seeds
}

// FuzzParse: Parse never panics, and what it accepts is what the mapping code relies
// on: at least one PT_LOAD, each with a file range that does not wrap (it may run past
// the end of the file, as Linux allows) and inside the user address space,
// p_filesz <= p_memsz, in increasing order without overlap, the program headers inside
// the file, the interpreter's path short. What it refuses, it refuses with an error.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		size := uint64(len(data))
		file, err := Parse(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if file != nil {
				t.Fatalf("Parse returned a file and %v", err)
			}
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			var fe formatError
			if errors.As(err, &fe) && !errors.Is(err, unix.ENOEXEC) {
				t.Fatalf("format error %v is not ENOEXEC", err)
			}
			return
		}
		if file.Type != ET_EXEC && file.Type != ET_DYN {
			t.Fatalf("accepted type %v", file.Type)
		}
		if file.Phnum <= 0 || file.Phoff > size || file.Phoff+uint64(file.Phnum)*56 > size {
			t.Fatalf("program headers [%#x, %d×56) outside the file's %d bytes", file.Phoff, file.Phnum, size)
		}
		if len(file.Segments) == 0 {
			t.Fatal("accepted without a PT_LOAD")
		}
		var prevEnd uint64
		for i, s := range file.Segments {
			if s.Memsz == 0 || s.Filesz > s.Memsz {
				t.Fatalf("segment %d: filesz %#x memsz %#x", i, s.Filesz, s.Memsz)
			}
			if s.Offset+s.Filesz < s.Offset {
				t.Fatalf("segment %d: file bytes [%#x, +%#x) wrap", i, s.Offset, s.Filesz)
			}
			if s.Vaddr >= userEnd || s.Vaddr+s.Memsz < s.Vaddr || s.Vaddr+s.Memsz > userEnd {
				t.Fatalf("segment %d: [%#x, +%#x) outside the user address space", i, s.Vaddr, s.Memsz)
			}
			if s.Vaddr%pageSize != s.Offset%pageSize {
				t.Fatalf("segment %d: vaddr %#x and offset %#x differ modulo the page size", i, s.Vaddr, s.Offset)
			}
			if i > 0 && s.Vaddr < prevEnd {
				t.Fatalf("segment %d at %#x overlaps the one before (ends %#x)", i, s.Vaddr, prevEnd)
			}
			prevEnd = s.Vaddr + s.Memsz
		}
		if len(file.Interp) >= 4096 {
			t.Fatalf("interpreter path of %d bytes", len(file.Interp))
		}
		lo, hi := file.span()
		if lo > hi || hi > userEnd || lo%pageSize != 0 || hi%pageSize != 0 {
			t.Fatalf("span [%#x, %#x)", lo, hi)
		}
		for _, r := range file.code(0) {
			if r[0] >= r[1] || r[0] < lo || r[1] > hi {
				t.Fatalf("code range %#x outside the span [%#x, %#x)", r, lo, hi)
			}
		}
		file.phdrAddr()
	})
}
