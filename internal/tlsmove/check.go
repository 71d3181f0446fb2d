package tlsmove

import (
	"fmt"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// maxOffenders bounds the list in Check's error.
const maxOffenders = 10

// Check verifies invariant 1 of docs/design.md on a linked binary: no instruction
// in any function (or in the bytes between functions) addresses memory
// through FS, names the FS segment register, carries an FS prefix or writes
// the FS base (wrfsbase); runtime.settls does not pass ARCH_SET_FS (0x1002);
// runtime.clone does not pass CLONE_SETTLS. The error lists the first
// offenders with address, function and GNU-syntax disassembly.
//
// Check decodes with the same decoder as Rewrite; an instruction it cannot
// decode is an error, since it could hide an FS access.
func Check(elfBytes []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("tlsmove: malformed input: %v", r)
		}
	}()
	return checkBytes(elfBytes)
}

func checkBytes(b []byte) error {
	im, err := loadImage(b)
	if err != nil {
		return err
	}
	var bad []string
	counts := map[string]int{}
	var reasons []string // in order of first appearance
	report := func(r region, in placed, why string) {
		if counts[why] == 0 {
			reasons = append(reasons, why)
		}
		counts[why]++
		if len(bad) < maxOffenders {
			bad = append(bad, fmt.Sprintf("%s: %s (%s)", r.where(in.pc), in.text(in.pc), why))
		}
	}

	// How threads get their TLS first: there are only two such places,
	// and they would otherwise drown in the list of FS accesses.
	settls, err := im.lookup(settlsNames...)
	if err != nil {
		return fmt.Errorf("%w: cannot check how TLS is set up", err)
	}
	clone, err := im.lookup(cloneNames...)
	if err != nil {
		return fmt.Errorf("%w: cannot check how threads get TLS", err)
	}
	for _, c := range []struct {
		fn   region
		bad  func(insn) bool
		what string
	}{
		{settls, func(in insn) bool { return immInto(in, x86asm.MOV, 0x1002) }, "passes ARCH_SET_FS to arch_prctl"},
		{clone, func(in insn) bool { return immInto(in, x86asm.OR, 0x80000) }, "passes CLONE_SETTLS to clone"},
	} {
		insns, err := im.decodeRegion(c.fn)
		if err != nil {
			return err
		}
		for _, in := range insns {
			if c.bad(in.insn) {
				report(c.fn, in, c.what)
			}
		}
	}

	for _, r := range im.regions() {
		insns, err := im.decodeRegion(r)
		if err != nil {
			return err
		}
		for _, in := range insns {
			if why := fsOffence(in.insn); why != "" {
				report(r, in, why)
			}
		}
	}

	if len(reasons) == 0 {
		return nil
	}
	var sum []string
	total := 0
	for _, r := range reasons {
		sum = append(sum, fmt.Sprintf("%d %s", counts[r], r))
		total += counts[r]
	}
	msg := strings.Join(bad, "\n\t")
	if total > len(bad) {
		msg += fmt.Sprintf("\n\t... and %d more", total-len(bad))
	}
	return fmt.Errorf("tlsmove: the Go runtime still uses FS (%s):\n\t%s", strings.Join(sum, ", "), msg)
}

// immInto reports whether in is "op $imm,%rdi" or "op $imm,%edi".
func immInto(in insn, op x86asm.Op, imm int64) bool {
	if !in.known || in.inst.Op != op {
		return false
	}
	r, _ := in.inst.Args[0].(x86asm.Reg)
	v, ok := in.inst.Args[1].(x86asm.Imm)
	return ok && int64(v) == imm && (r == x86asm.RDI || r == x86asm.EDI)
}
