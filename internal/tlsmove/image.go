package tlsmove

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// region is a run of executable bytes that is decoded as one instruction
// stream: either a function symbol's [Value, Value+Size) or a gap between
// function symbols (Go pads functions with int3 runs).
type region struct {
	name string // symbol name, or "" for a gap
	addr uint64 // virtual address of the first byte
	off  int    // file offset of the first byte
	size int
}

func (r region) String() string {
	if r.name == "" {
		return fmt.Sprintf("padding at %#x", r.addr)
	}
	return r.name
}

// where names an address inside r for messages: "0x7e00000814c4 runtime.clone.abi0+0x44".
func (r region) where(pc uint64) string {
	if r.name == "" {
		return fmt.Sprintf("%#x (between functions)", pc)
	}
	return fmt.Sprintf("%#x %s+%#x", pc, r.name, pc-r.addr)
}

// image is a parsed ELF file: its bytes and all of its executable bytes,
// split into function symbols and the gaps between them.
type image struct {
	data  []byte
	file  *elf.File
	funcs []region // sorted by address, non-overlapping
	gaps  []region // executable bytes not covered by any function symbol
}

// loadImage parses an x86-64 ELF file with a symbol table. It checks every
// offset and size against len(b), so later code may slice b[r.off:r.off+r.size]
// for every region without further checks.
func loadImage(b []byte) (*image, error) {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("tlsmove: not an ELF file: %w", err)
	}
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Machine != elf.EM_X86_64 {
		return nil, fmt.Errorf("tlsmove: not an x86-64 ELF file (class %v, data %v, machine %v)", f.Class, f.Data, f.Machine)
	}
	im := &image{data: b, file: f}

	type span struct {
		sec        *elf.Section
		start, end uint64 // virtual addresses
		off        uint64 // file offset of start
	}
	exec := map[elf.SectionIndex]span{}
	var spans []span
	for i, s := range f.Sections {
		if s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_EXECINSTR == 0 {
			continue
		}
		end := s.Addr + s.Size
		if end < s.Addr || s.Offset+s.Size < s.Offset || s.Offset+s.Size > uint64(len(b)) {
			return nil, fmt.Errorf("tlsmove: section %s [%#x, +%#x) lies outside the file (%d bytes)", s.Name, s.Offset, s.Size, len(b))
		}
		// The loader maps program headers, not sections: the section's bytes
		// must be exactly what the PT_LOAD segment puts at those addresses,
		// or patching the section would patch something else.
		if err := checkMapping(f, s); err != nil {
			return nil, err
		}
		sp := span{sec: s, start: s.Addr, end: end, off: s.Offset}
		exec[elf.SectionIndex(i)] = sp
		spans = append(spans, sp)
	}
	if len(spans) == 0 {
		return nil, errors.New("tlsmove: no executable section")
	}

	syms, err := f.Symbols()
	if err != nil {
		if errors.Is(err, elf.ErrNoSymbols) {
			return nil, errors.New("tlsmove: no symbol table (stripped binary?): functions cannot be found")
		}
		return nil, fmt.Errorf("tlsmove: reading symbols: %w", err)
	}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) != elf.STT_FUNC || s.Size == 0 {
			continue // runtime.text and runtime.etext are zero-sized markers
		}
		sp, ok := exec[s.Section]
		if !ok {
			return nil, fmt.Errorf("tlsmove: function %s is not in an executable section", s.Name)
		}
		end := s.Value + s.Size
		if s.Value < sp.start || end < s.Value || end > sp.end {
			return nil, fmt.Errorf("tlsmove: function %s [%#x, %#x) lies outside section %s", s.Name, s.Value, end, sp.sec.Name)
		}
		im.funcs = append(im.funcs, region{
			name: s.Name,
			addr: s.Value,
			off:  int(sp.off + (s.Value - sp.start)),
			size: int(s.Size),
		})
	}
	if len(im.funcs) == 0 {
		return nil, errors.New("tlsmove: no function symbols")
	}
	sort.Slice(im.funcs, func(i, j int) bool { return im.funcs[i].addr < im.funcs[j].addr })
	for i := 1; i < len(im.funcs); i++ {
		p, q := im.funcs[i-1], im.funcs[i]
		if p.addr+uint64(p.size) > q.addr {
			return nil, fmt.Errorf("tlsmove: function symbols %s and %s overlap", p.name, q.name)
		}
	}

	// Gaps: every executable byte that no function symbol covers.
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	k := 0
	for _, sp := range spans {
		pc := sp.start
		for ; k < len(im.funcs) && im.funcs[k].addr < sp.end; k++ {
			fn := im.funcs[k]
			if fn.addr > pc {
				im.gaps = append(im.gaps, region{addr: pc, off: int(sp.off + (pc - sp.start)), size: int(fn.addr - pc)})
			}
			pc = fn.addr + uint64(fn.size)
		}
		if pc < sp.end {
			im.gaps = append(im.gaps, region{addr: pc, off: int(sp.off + (pc - sp.start)), size: int(sp.end - pc)})
		}
	}
	return im, nil
}

// checkMapping verifies that a PT_LOAD segment maps section s's file bytes
// at s.Addr.
func checkMapping(f *elf.File, s *elf.Section) error {
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || s.Addr < p.Vaddr || s.Addr-p.Vaddr >= p.Filesz {
			continue
		}
		d := s.Addr - p.Vaddr
		if p.Filesz-d < s.Size || p.Off+d != s.Offset {
			return fmt.Errorf("tlsmove: section %s (addr %#x, offset %#x) disagrees with PT_LOAD (vaddr %#x, offset %#x, filesz %#x)",
				s.Name, s.Addr, s.Offset, p.Vaddr, p.Off, p.Filesz)
		}
		if p.Flags&elf.PF_X == 0 {
			return fmt.Errorf("tlsmove: section %s is mapped by a non-executable PT_LOAD", s.Name)
		}
		return nil
	}
	return fmt.Errorf("tlsmove: no PT_LOAD maps executable section %s at %#x", s.Name, s.Addr)
}

// lookup returns the function symbol with the first of names that exists.
// It must be unique: patching one of two functions with the same name would
// leave the other one in use.
func (im *image) lookup(names ...string) (region, error) {
	for _, n := range names {
		var found []region
		for _, fn := range im.funcs {
			if fn.name == n {
				found = append(found, fn)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0], nil
		default:
			return region{}, fmt.Errorf("tlsmove: %d function symbols named %s", len(found), n)
		}
	}
	return region{}, fmt.Errorf("tlsmove: function %s not found", strings.Join(names, " or "))
}

// regions returns all functions and gaps; together they cover every
// executable byte exactly once.
func (im *image) regions() []region {
	all := make([]region, 0, len(im.funcs)+len(im.gaps))
	all = append(all, im.funcs...)
	return append(all, im.gaps...)
}

// placed is one decoded instruction and where it sits.
type placed struct {
	insn
	pc  uint64
	off int // file offset
}

// decodeRegion decodes r from its first byte to its last, keeping
// instruction sync: an instruction that cannot be decoded is an error, never
// skipped byte by byte.
func (im *image) decodeRegion(r region) ([]placed, error) {
	code := im.data[r.off : r.off+r.size]
	var out []placed
	for i := 0; i < len(code); {
		in, err := decodeInsn(code[i:])
		pc := r.addr + uint64(i)
		if err != nil {
			return nil, fmt.Errorf("tlsmove: %s: cannot decode % x: %w", r.where(pc), code[i:min(i+15, len(code))], err)
		}
		out = append(out, placed{insn: in, pc: pc, off: r.off + i})
		i += in.len
	}
	return out, nil
}
