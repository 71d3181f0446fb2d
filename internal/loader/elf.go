// Package loader maps a Linux x86-64 ELF executable (and, for a dynamic one, its
// interpreter) into golos's address space where Linux would put it, and builds the initial
// stack Linux gives a new process (System V x86-64 psABI, section 3.4.1).
package loader

import (
	"encoding/binary"
	"fmt"
	"io"

	"golang.org/x/sys/unix"
)

// Segment is one PT_LOAD program header, checked.
type Segment struct {
	Vaddr, Memsz   uint64
	Offset, Filesz uint64
	Flags          ProgFlag
}

// File is what golos needs of an ELF header and its program headers.
type File struct {
	Type     Type
	Entry    uint64
	Phoff    uint64
	Phnum    int
	Segments []Segment
	Interp   string // PT_INTERP, or ""
	// Dynamic is PT_DYNAMIC's file offset and size, or zeros when the file has none.
	Dynamic [2]uint64
	// Notes are the PT_NOTE segments' file offsets and sizes.
	Notes [][2]uint64
	// Phdr is the PT_PHDR address (unrelocated), or 0 when the file has none.
	Phdr uint64
	// ExecStack: a PT_GNU_STACK with PF_X asks for an executable stack (GCC's nested
	// functions put trampolines there). Without PT_GNU_STACK an x86-64 stack is not
	// executable (arch/x86/include/asm/elf.h, elf_read_implies_exec: 32-bit only).
	ExecStack bool
}

// userEnd is the end of the x86-64 user address space with 4-level paging (TASK_SIZE_MAX).
const userEnd = 0x7ffffffff000

const pageSize = 4096

// A formatError is a file that is no executable Linux could run: execve(2) fails with
// ENOEXEC ("exec format error") for it, or, for segments that cannot be mapped, kills the
// process after the point of no return. golos refuses it before running anything, and
// its caller reports it as ENOEXEC (exit status 126, as docker run's), not as a failure of
// golos's own (125). Files Linux would run but golos cannot (a 32-bit x86 ELF) are not
// formatErrors.
type formatError string

func (e formatError) Error() string { return "exec format error (" + string(e) + ")" }

// Is makes errors.Is(err, unix.ENOEXEC) true.
func (e formatError) Is(target error) bool { return target == unix.ENOEXEC }

func badFormat(format string, a ...any) error { return formatError(fmt.Sprintf(format, a...)) }

// Parse reads and checks an ELF header and its program headers. Every error names what
// is wrong in words a user can act on; the caller adds the path.
func Parse(r io.ReaderAt, size int64) (*File, error) {
	var hdr [64]byte
	n, _ := r.ReadAt(hdr[:], 0)
	if n < 4 || string(hdr[:4]) != elfMag {
		return nil, badFormat("not an ELF executable and no #! line")
	}
	if n < 20 {
		return nil, badFormat("truncated ELF: the file has %d bytes, the header alone needs 64", size)
	}
	switch hdr[eiClass] {
	case elfClass64:
	case elfClass32:
		if n >= 20 && hdr[eiData] == elfData2LSB && binary.LittleEndian.Uint16(hdr[18:]) == emI386 {
			// Linux runs these (IA-32 emulation): golos's limitation, not the file's.
			return nil, fmt.Errorf("32-bit ELF (i386); golos runs x86-64 executables")
		}
		return nil, badFormat("32-bit ELF (%s); golos runs x86-64 executables", describeMachine(hdr[:n]))
	default:
		return nil, badFormat("ELF of unknown class %d", hdr[eiClass])
	}
	if hdr[eiData] != elfData2LSB {
		return nil, badFormat("big-endian ELF (%s); golos runs x86-64 executables", describeMachine(hdr[:n]))
	}
	if m := binary.LittleEndian.Uint16(hdr[18:]); m != emX86_64 {
		return nil, badFormat("ELF for %s; golos runs x86-64 executables", describeMachine(hdr[:n]))
	}
	if n < 64 {
		return nil, badFormat("truncated ELF: the file has %d bytes, the header alone needs 64", size)
	}
	le := binary.LittleEndian
	f := &File{
		Type:  Type(le.Uint16(hdr[16:])),
		Entry: le.Uint64(hdr[24:]),
		Phoff: le.Uint64(hdr[32:]),
		Phnum: int(le.Uint16(hdr[56:])),
	}
	if f.Type != ET_EXEC && f.Type != ET_DYN {
		return nil, badFormat("ELF of type %v, not an executable", f.Type)
	}
	if phentsize := le.Uint16(hdr[54:]); phentsize != 56 {
		return nil, badFormat("bad ELF: program header size %d, want 56", phentsize)
	}
	if f.Phnum == 0 {
		return nil, badFormat("bad ELF: no program headers")
	}
	phEnd := f.Phoff + uint64(f.Phnum)*56
	if f.Phoff > uint64(size) || phEnd > uint64(size) {
		return nil, badFormat("truncated ELF: program headers end at %#x, beyond the file's %d bytes", phEnd, size)
	}
	ph := make([]byte, phEnd-f.Phoff)
	if _, err := r.ReadAt(ph, int64(f.Phoff)); err != nil {
		return nil, fmt.Errorf("read program headers: %w", err)
	}
	for i := 0; i < f.Phnum; i++ {
		p := ph[i*56 : (i+1)*56]
		typ := ProgType(le.Uint32(p[0:]))
		flags := ProgFlag(le.Uint32(p[4:]))
		off, vaddr := le.Uint64(p[8:]), le.Uint64(p[16:])
		filesz, memsz := le.Uint64(p[32:]), le.Uint64(p[40:])
		switch typ {
		case PT_LOAD:
			if memsz == 0 {
				continue
			}
			if filesz > memsz {
				return nil, badFormat("bad ELF: segment %d has p_filesz %#x larger than p_memsz %#x", i, filesz, memsz)
			}
			// File bytes past the end of the file are no error to Linux: they are
			// mapped, and only touching them faults (SIGBUS), in the loader's bss
			// zeroing (mapSegment) or in the program. Only a range that wraps is.
			if off+filesz < off {
				return nil, badFormat("bad ELF: segment %d: p_offset %#x + p_filesz %#x overflows", i, off, filesz)
			}
			if vaddr >= userEnd || memsz > userEnd-vaddr {
				return nil, badFormat("bad ELF: segment %d [%#x, +%#x) does not fit in the user address space", i, vaddr, memsz)
			}
			if vaddr%pageSize != off%pageSize {
				return nil, badFormat("bad ELF: segment %d: p_vaddr %#x and p_offset %#x differ modulo the page size", i, vaddr, off)
			}
			if k := len(f.Segments); k > 0 {
				prev := f.Segments[k-1]
				if vaddr < prev.Vaddr+prev.Memsz {
					return nil, badFormat("bad ELF: segment %d at %#x overlaps or precedes the segment before it (ends %#x)", i, vaddr, prev.Vaddr+prev.Memsz)
				}
			}
			f.Segments = append(f.Segments, Segment{Vaddr: vaddr, Memsz: memsz, Offset: off, Filesz: filesz, Flags: flags})
		case PT_INTERP:
			if filesz == 0 || filesz > 4096 || off+filesz > uint64(size) || off+filesz < off {
				return nil, badFormat("bad ELF: PT_INTERP of %d bytes at %#x", filesz, off)
			}
			buf := make([]byte, filesz)
			if _, err := r.ReadAt(buf, int64(off)); err != nil {
				return nil, fmt.Errorf("read PT_INTERP: %w", err)
			}
			if buf[filesz-1] != 0 {
				return nil, badFormat("bad ELF: PT_INTERP is not NUL-terminated")
			}
			f.Interp = string(buf[:filesz-1])
		case PT_DYNAMIC:
			f.Dynamic = [2]uint64{off, filesz}
		case PT_NOTE:
			f.Notes = append(f.Notes, [2]uint64{off, filesz})
		case PT_PHDR:
			f.Phdr = vaddr
		case PT_GNU_STACK:
			f.ExecStack = flags&PF_X != 0
		}
	}
	if len(f.Segments) == 0 {
		return nil, badFormat("bad ELF: no loadable segment")
	}
	return f, nil
}

// describeMachine names the machine of an ELF header for an error message.
func describeMachine(hdr []byte) string {
	if len(hdr) < 20 {
		return "unknown machine"
	}
	var m uint16
	if hdr[eiData] == elfData2MSB {
		m = binary.BigEndian.Uint16(hdr[18:])
	} else {
		m = binary.LittleEndian.Uint16(hdr[18:])
	}
	switch m {
	case emI386:
		return "i386"
	case emX86_64:
		return "x86-64"
	case emARM:
		return "ARM"
	case emAARCH64:
		return "AArch64"
	case emRISCV:
		return "RISC-V"
	}
	return fmt.Sprintf("machine %d", m)
}

// span returns the page-aligned range the segments cover, before relocation.
func (f *File) span() (lo, hi uint64) {
	lo = f.Segments[0].Vaddr &^ (pageSize - 1)
	last := f.Segments[len(f.Segments)-1]
	hi = (last.Vaddr + last.Memsz + pageSize - 1) &^ (pageSize - 1)
	return lo, hi
}

// phdrAddr is the unrelocated address of the program headers in memory: PT_PHDR, or the
// loaded segment whose file range holds them (as the kernel computes AT_PHDR).
func (f *File) phdrAddr() uint64 {
	if f.Phdr != 0 {
		return f.Phdr
	}
	for _, s := range f.Segments {
		if f.Phoff >= s.Offset && f.Phoff < s.Offset+s.Filesz {
			return s.Vaddr + f.Phoff - s.Offset
		}
	}
	return 0
}

// code returns the executable segments' file-backed ranges, relocated by bias.
func (f *File) code(bias uint64) [][2]uint64 {
	var out [][2]uint64
	for _, s := range f.Segments {
		if s.Flags&PF_X != 0 && s.Filesz > 0 {
			out = append(out, [2]uint64{s.Vaddr + bias, s.Vaddr + s.Filesz + bias})
		}
	}
	return out
}
