package tlsmove

import (
	"errors"
	"fmt"

	"golang.org/x/arch/x86/x86asm"
)

// insn is one decoded x86-64 instruction.
//
// Lengths come from golang.org/x/arch/x86/x86asm, except for the opcode maps
// where x86asm v0.33.0 was measured to be wrong or silent on a Go 1.26.8
// binary (see extLength). Only instructions with known == true are ever
// patched, and only their legacy prefix bytes.
type insn struct {
	inst  x86asm.Inst // meaningful only if known
	known bool        // x86asm decoded it, with the same length as ours where we have one
	len   int
	raw   []byte // the instruction's bytes (aliases the image)

	nprefix  int // legacy prefix bytes at raw[:nprefix]
	fsPrefix int // index in raw of the last 0x64 (FS) prefix byte, or -1
	gsPrefix int // index in raw of the last 0x65 (GS) prefix byte, or -1
	nseg     int // number of segment-override prefix bytes (26 2E 36 3E 64 65)
}

// text is the instruction in GNU (AT&T) syntax, as objdump prints it.
func (in insn) text(pc uint64) string {
	if !in.known {
		return fmt.Sprintf("(% x: not decoded by x86asm)", in.raw)
	}
	return x86asm.GNUSyntax(in.inst, pc, nil)
}

// decodeInsn decodes the instruction at the start of b. The policy:
//
//   - one-byte and 0F opcode maps (all general-purpose code, and every
//     FS access Go emits): x86asm decodes them; if it cannot, decodeInsn
//     fails, and so do Rewrite and Check: sync would be lost;
//   - VEX, EVEX, 0F 38 and 0F 3A maps: extLength gives the length. If
//     x86asm also decodes the instruction, both lengths must agree (except
//     for x86asm's known vzeroupper bug); if x86asm cannot, the instruction
//     is skipped by length and marked unknown. An unknown instruction is
//     never patched; if it carries an FS prefix, Rewrite refuses and Check
//     reports it.
func decodeInsn(b []byte) (insn, error) {
	in := insn{fsPrefix: -1, gsPrefix: -1}
	// Legacy prefixes (Intel SDM vol. 2, 2.1.1). An instruction is at most
	// 15 bytes; more prefixes than that cannot start a valid instruction.
prefixes:
	for ; in.nprefix < len(b) && in.nprefix < 15; in.nprefix++ {
		switch b[in.nprefix] {
		case 0x64:
			in.fsPrefix = in.nprefix
			in.nseg++
		case 0x65:
			in.gsPrefix = in.nprefix
			in.nseg++
		case 0x26, 0x2e, 0x36, 0x3e:
			in.nseg++
		case 0x66, 0x67, 0xf0, 0xf2, 0xf3:
		default:
			break prefixes
		}
	}
	n, ext, err := extLength(b, in.nprefix)
	if ext && err != nil {
		return in, err
	}
	inst, xerr := x86asm.Decode(b, 64)
	xok := xerr == nil && inst.Op != 0 // v0.33.0 returns Op 0 without an error for ADCX/ADOX
	switch {
	case !ext && !xok:
		if xerr == nil {
			xerr = errors.New("unknown opcode")
		}
		return in, fmt.Errorf("x86asm: %w", xerr)
	case !ext:
		in.inst, in.known, in.len = inst, true, inst.Len
	case xok && (inst.Op == x86asm.VZEROUPPER || inst.Op == x86asm.VZEROALL):
		// x86asm v0.33.0 consumes a ModRM byte after VEX 0F 77, which
		// has none: on Go 1.26.8 it lost sync after every vzeroupper
		// (memeqbody, cmpbody, indexbytebody, scanSpanPackedAVX512, ...).
		// Its opcode is right; its length is not.
		inst.Len = n
		in.inst, in.known, in.len = inst, true, n
	case xok && inst.Len != n:
		// Two decoders disagree: we do not know where the next
		// instruction starts, so nothing after it can be trusted.
		return in, fmt.Errorf("x86asm decodes %d bytes (%v), VEX/0F38/0F3A length decoder %d", inst.Len, inst.Op, n)
	default:
		in.inst, in.known, in.len = inst, xok, n
	}
	in.raw = b[:in.len]
	return in, nil
}

var errTruncated = errors.New("truncated instruction")

// extLength is a length decoder for the opcode maps whose instruction layout
// is regular enough to need no opcode table: VEX (C4/C5), EVEX (62), and the
// legacy three-byte maps 0F 38 and 0F 3A. It exists because x86asm v0.33.0,
// measured on Go 1.26.8 binaries:
//   - mis-sizes VEX 0F 77 (vzeroupper/vzeroall): see decodeInsn;
//   - returns Op 0 with a wrong length for legacy 0F 38 F6 (ADCX/ADOX,
//     used by math/big and crypto/internal/fips140/bigmod);
//   - is a new, partial AVX/EVEX decoder (Go 1.26's GC scanner uses
//     AVX-512), which may reject EVEX encodings it does not know.
//
// Where x86asm does decode such an instruction, decodeInsn requires both
// lengths to agree. Where it does not, this length is used only to skip the
// instruction; such an instruction is never patched.
//
// p is the number of legacy prefix bytes at b[:p]. ext reports whether the
// opcode is in one of these maps; if not, n and err are meaningless.
func extLength(b []byte, p int) (n int, ext bool, err error) {
	i := p
	if i < len(b) && b[i]&0xf0 == 0x40 { // REX
		i++
	}
	if i >= len(b) {
		return 0, false, nil
	}
	var (
		mmap int  // 1 = 0F, 2 = 0F38, 3 = 0F3A, 5/6 = EVEX maps of AVX512-FP16
		op   byte // opcode byte
		vex  bool // VEX or EVEX encoded
		evex bool
	)
	// In 64-bit mode C4, C5 and 62 are always VEX/EVEX (LES, LDS and
	// BOUND are invalid there), so no ModRM peeking is needed (SDM 2.3.1).
	switch b[i] {
	case 0xc5: // 2-byte VEX: C5 [R vvvv L pp], implied map 0F
		if i+2 >= len(b) {
			return 0, true, errTruncated
		}
		mmap, op, vex = 1, b[i+2], true
		i += 3
	case 0xc4: // 3-byte VEX: C4 [R X B mmmmm] [W vvvv L pp]
		if i+3 >= len(b) {
			return 0, true, errTruncated
		}
		mmap, op, vex = int(b[i+1]&0x1f), b[i+3], true
		if mmap < 1 || mmap > 3 {
			return 0, true, fmt.Errorf("VEX map %d is reserved", mmap)
		}
		i += 4
	case 0x62: // EVEX: 62 P0 P1 P2, map in P0[2:0] (SDM 2.7.1)
		if i+4 >= len(b) {
			return 0, true, errTruncated
		}
		mmap, op, vex, evex = int(b[i+1]&7), b[i+4], true, true
		if mmap != 1 && mmap != 2 && mmap != 3 && mmap != 5 && mmap != 6 {
			// Map 4 is APX's promoted legacy map, whose lengths
			// depend on the opcode; 0 and 7 are reserved.
			return 0, true, fmt.Errorf("EVEX map %d not supported by the length decoder", mmap)
		}
		i += 5
	case 0x0f:
		if i+2 >= len(b) || (b[i+1] != 0x38 && b[i+1] != 0x3a) {
			return 0, false, nil // one- and two-byte maps: x86asm's job
		}
		mmap, op = 2, b[i+2]
		if b[i+1] == 0x3a {
			mmap = 3
		}
		i += 3
	default:
		return 0, false, nil
	}

	// VEX 0F 77 (vzeroupper, vzeroall) is the only instruction in these
	// maps without a ModRM byte.
	if vex && !evex && mmap == 1 && op == 0x77 {
		return check15(i, len(b))
	}

	// ModRM, SIB and displacement, 64-bit (or 67h 32-bit) addressing:
	// both use the same layout (SDM 2.1.5, tables 2-2 and 2-3).
	if i >= len(b) {
		return 0, true, errTruncated
	}
	modrm := b[i]
	i++
	mod, rm := modrm>>6, modrm&7
	if mod != 3 && rm == 4 {
		if i >= len(b) {
			return 0, true, errTruncated
		}
		sib := b[i]
		i++
		if mod == 0 && sib&7 == 5 {
			i += 4 // no base: disp32
		}
	}
	switch {
	case mod == 0 && rm == 5:
		i += 4 // RIP-relative disp32
	case mod == 1:
		i++ // disp8 (EVEX scales it by N; the length is still 1)
	case mod == 2:
		i += 4
	}

	// Immediates: every instruction in map 0F3A has an imm8, none in maps
	// 0F38, 5 and 6 has one; in VEX/EVEX map 0F only these opcodes do
	// (pshufd/psrl*/psll*/psra* groups, cmpps, pinsrw, pextrw, shufps).
	switch {
	case mmap == 3:
		i++
	case vex && mmap == 1:
		switch op {
		case 0x70, 0x71, 0x72, 0x73, 0xc2, 0xc4, 0xc5, 0xc6:
			i++
		}
	}
	return check15(i, len(b))
}

func check15(n, avail int) (int, bool, error) {
	if n > avail {
		return 0, true, errTruncated
	}
	if n > 15 {
		return 0, true, fmt.Errorf("instruction longer than 15 bytes (%d)", n)
	}
	return n, true, nil
}
