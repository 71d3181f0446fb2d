package loader

import "fmt"

// The ELF names the loader uses, as <elf.h> and the System V gABI spell them (e_type,
// p_type, p_flags, e_ident's indices and values, e_machine), defined here rather than
// taken from debug/elf: that package, which golos used for these constants alone, brought
// compress/flate, compress/zlib, debug/dwarf and internal/zstd into golos's binary, and
// their package initialisation into every start (0.03 ms, GODEBUG=inittrace=1).

// Type is an ELF file's type (e_type).
type Type uint16

// The file types golos runs.
const (
	ET_EXEC Type = 2 // an executable at fixed addresses
	ET_DYN  Type = 3 // a shared object: a position-independent executable, or ld.so
)

// ProgType is a program header's type (p_type).
type ProgType uint32

// The program header types the loader reads.
const (
	PT_LOAD    ProgType = 1
	PT_DYNAMIC ProgType = 2
	PT_INTERP  ProgType = 3
	PT_NOTE    ProgType = 4
	PT_PHDR    ProgType = 6
	// PT_GNU_STACK's p_flags say whether the stack must be executable (PF_X).
	PT_GNU_STACK ProgType = 0x6474e551
)

// ProgFlag is a program header's permissions (p_flags).
type ProgFlag uint32

// A segment's permissions.
const (
	PF_X ProgFlag = 0x1
	PF_W ProgFlag = 0x2
	PF_R ProgFlag = 0x4
)

// Prog64 is a 64-bit program header as it lies in memory (Elf64_Phdr).
type Prog64 struct {
	Type   uint32
	Flags  uint32
	Off    uint64
	Vaddr  uint64
	Paddr  uint64
	Filesz uint64
	Memsz  uint64
	Align  uint64
}

// e_ident: the magic, and the indices and values of its class and data encoding.
const (
	elfMag      = "\x7fELF"
	eiClass     = 4
	eiData      = 5
	elfClass32  = 1
	elfClass64  = 2
	elfData2LSB = 1 // little-endian
	elfData2MSB = 2 // big-endian
)

// The machines (e_machine) an error message names.
const (
	emI386    = 3
	emARM     = 40
	emX86_64  = 62
	emAARCH64 = 183
	emRISCV   = 243
)

// String names the type as <elf.h> does, for error messages.
func (t Type) String() string {
	switch t {
	case 0:
		return "ET_NONE"
	case 1:
		return "ET_REL"
	case ET_EXEC:
		return "ET_EXEC"
	case ET_DYN:
		return "ET_DYN"
	case 4:
		return "ET_CORE"
	}
	return fmt.Sprintf("%#x", uint16(t))
}
