// Package tlsmove rewrites a linked Go binary so that the Go runtime keeps its
// thread-local storage on GS instead of FS, leaving FS to the application
// that golos runs (see docs/design.md, "The segment-base problem, and
// the decision").
//
// The Go runtime on linux/amd64 reaches its TLS in exactly three ways
// ($GOROOT/src/runtime, Go 1.26.8):
//
//   - every access to g is a %fs:-8 memory operand (go_tls.h: g(r) is
//     0(r)(TLS*1), which the linker turns into %fs:-8 for a static ELF);
//   - runtime·settls (sys_linux_amd64.s:649) calls
//     arch_prctl(ARCH_SET_FS, &m.tls+8) for the main thread;
//   - runtime·clone (sys_linux_amd64.s:574) passes CLONE_SETTLS with
//     %r8 = &m.tls+8 so that each new thread starts with its FS base set.
//
// Rewrite changes the 0x64 prefix of each %fs:-8 access into 0x65 (GS),
// makes settls pass ARCH_SET_GS, drops CLONE_SETTLS from clone, and makes
// the new thread call arch_prctl(ARCH_SET_GS, %r8) itself from a small stub
// placed in int3 padding, before it first touches TLS. It refuses any binary
// in which these patterns are not exactly as measured on Go 1.26.8.
//
// Measured on Go 1.26.8 (CGO_ENABLED=0, -T 0x7e0000001000): a hello-world
// style program has 452 FS instructions, the test sample 472, all of them
// "mov %fs:-8,reg" or "mov reg/imm,%fs:-8", each with 0x64 as its first byte.
//
// Every executable byte is decoded, function by function (debug/elf
// symbols) and through the int3 padding between functions, so that no FS
// access can hide between instructions. x86asm v0.33.0 alone does not keep
// sync on Go 1.26.8 binaries (it mis-sizes vzeroupper, and does not know
// ADCX/ADOX); decode.go says how that is handled. The test suite checks
// that the instruction boundaries found here equal GNU objdump's; on the go
// command, compile, link and vet (6.2 million instructions) they do, except
// inside crypto/internal/boring/sig.StandardCrypto, a marker made of bytes
// that are not code.
package tlsmove

import (
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// Report says what Rewrite changed.
type Report struct {
	FSInstructions int    // %fs:-8 accesses turned into %gs:-8
	Settls         uint64 // address of settls's "mov $0x1002,%rdi", now 0x1001
	CloneOr        uint64 // address of clone's "or $0x80000,%rdi", now a nop
	CloneGettid    uint64 // address of the child's "mov $0xba,%eax; syscall", now a jmp to Stub
	Stub           uint64 // address of the stub that sets the new thread's GS base
}

// verifiedGo matches the Go versions whose runtime assembly this package
// was checked against: Go 1.26.x. sys_linux_amd64.s did not change between
// 1.26 patch releases; a new minor release must be measured again.
var verifiedGo = regexp.MustCompile(`^go1\.26(\.[0-9]+)?$`)

// Rewrite returns a copy of the linked Go binary elfBytes with the runtime's
// TLS moved to GS. It never modifies elfBytes. Any deviation from the
// expected binary is an error, and then nothing is returned.
func Rewrite(elfBytes []byte) (out []byte, rep *Report, err error) {
	// debug/elf and x86asm are not promised to be panic-free on hostile
	// input; a panic there is a refusal like any other.
	defer func() {
		if r := recover(); r != nil {
			out, rep, err = nil, nil, fmt.Errorf("tlsmove: malformed input: %v", r)
		}
	}()
	return rewrite(elfBytes)
}

// RewriteFile rewrites the binary in, writing the result to out atomically
// (a temporary file in out's directory renamed over out) with mode 0755.
// On error out is left untouched.
func RewriteFile(in, out string) (*Report, error) {
	b, err := os.ReadFile(in)
	if err != nil {
		return nil, fmt.Errorf("tlsmove: %w", err)
	}
	nb, rep, err := Rewrite(b)
	if err != nil {
		return nil, fmt.Errorf("%w (input %s)", err, in)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tlsmove-*")
	if err != nil {
		return nil, fmt.Errorf("tlsmove: %w", err)
	}
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(nb); err != nil {
		return nil, fmt.Errorf("tlsmove: writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		return nil, fmt.Errorf("tlsmove: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("tlsmove: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("tlsmove: %w", err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return nil, fmt.Errorf("tlsmove: %w", err)
	}
	ok = true
	return rep, nil
}

func rewrite(in []byte) ([]byte, *Report, error) {
	im, err := loadImage(in)
	if err != nil {
		return nil, nil, err
	}
	if err := suitable(im); err != nil {
		return nil, nil, err
	}
	out := bytes.Clone(in)
	rep := &Report{}

	// 1. FS-relative accesses: decode every executable byte.
	var fsOffs []int
	for _, r := range im.regions() {
		insns, err := im.decodeRegion(r)
		if err != nil {
			return nil, nil, err
		}
		for _, in := range insns {
			off, err := fsRewrite(r, in)
			if err != nil {
				return nil, nil, err
			}
			if off >= 0 {
				fsOffs = append(fsOffs, off)
			}
		}
	}
	if len(fsOffs) == 0 {
		return nil, nil, errors.New("tlsmove: no FS-relative instructions found: not a Go binary, or already rewritten")
	}
	for _, off := range fsOffs {
		out[off] = 0x65 // GS segment override (SDM 2.1.1)
	}
	rep.FSInstructions = len(fsOffs)

	// 2. settls: ARCH_SET_FS -> ARCH_SET_GS.
	if rep.Settls, err = patchSettls(im, out); err != nil {
		return nil, nil, err
	}
	// 3. clone: no CLONE_SETTLS; the child sets GS itself.
	if err := patchClone(im, out, rep); err != nil {
		return nil, nil, err
	}

	// The result must pass the same check the invariant test applies.
	if err := checkBytes(out); err != nil {
		return nil, nil, fmt.Errorf("tlsmove: rewritten binary fails Check (bug): %w", err)
	}
	return out, rep, nil
}

// suitable refuses binaries whose TLS does not work as measured: the wrong
// Go version, a dynamically linked or PIE binary (its TLS comes from ld.so
// through the GOT, docs/design.md), or one with a PT_TLS segment (someone else
// lays out TLS, e.g. cgo's libc).
func suitable(im *image) error {
	f := im.file
	if f.Type != elf.ET_EXEC {
		return fmt.Errorf("tlsmove: ELF type %v: want a static, non-PIE executable (ET_EXEC)", f.Type)
	}
	for _, p := range f.Progs {
		switch p.Type {
		case elf.PT_INTERP, elf.PT_DYNAMIC:
			return fmt.Errorf("tlsmove: binary has %v: dynamically linked (cgo?); want CGO_ENABLED=0", p.Type)
		case elf.PT_TLS:
			return errors.New("tlsmove: binary has PT_TLS: its TLS is not the Go runtime's alone (cgo?)")
		}
	}
	bi, err := buildinfo.Read(bytes.NewReader(im.data))
	if err != nil {
		return fmt.Errorf("tlsmove: no Go build info: %w", err)
	}
	// GoVersion may carry experiments: "go1.26.8 X:nodwarf5".
	v, _, _ := bytes.Cut([]byte(bi.GoVersion), []byte(" "))
	if !verifiedGo.Match(v) {
		return fmt.Errorf("tlsmove: Go version %s not verified (runtime patterns measured on go1.26.x)", bi.GoVersion)
	}
	for _, s := range bi.Settings {
		if s.Key == "CGO_ENABLED" && s.Value != "0" {
			return fmt.Errorf("tlsmove: built with CGO_ENABLED=%s; want 0", s.Value)
		}
	}
	return nil
}

// fsRewrite returns the file offset of the 0x64 prefix byte to turn into
// 0x65 if in is an FS-relative access of the one form the Go linker emits
// for g (movq %fs:-8, movq to %fs:-8: absolute disp32, no base, no index),
// or -1 if in does not involve FS. Anything else touching FS is an error:
// Rewrite could not move it.
//
// GS is allowed outside the Go runtime: golos's own entry assembly
// (internal/entry) is written for the rewritten binary and already reaches
// the runtime's TLS block through GS. Inside the runtime, a GS access would
// mean the runtime uses GS for something else, or that the binary has been
// rewritten already.
func fsRewrite(r region, in placed) (int, error) {
	if (in.gsPrefix >= 0 || usesSeg(in.insn, x86asm.GS)) && inRuntime(r.name) {
		return -1, fmt.Errorf("tlsmove: %s: the Go runtime already uses GS (%s): binary already rewritten?", r.where(in.pc), in.text(in.pc))
	}
	if why := fsOffence(in.insn); why != "" {
		m, ok := fsMem(in.insn)
		if !ok || in.fsPrefix < 0 || in.nseg != 1 || m.Base != 0 || m.Index != 0 || m.Disp != -8 {
			return -1, fmt.Errorf("tlsmove: %s: unexpected FS use %q (only %%fs:-8 accesses are expected): %s", r.where(in.pc), in.text(in.pc), why)
		}
		return in.off + in.fsPrefix, nil
	}
	return -1, nil
}

// inRuntime reports whether the function named name belongs to the Go
// runtime proper.
func inRuntime(name string) bool {
	return strings.HasPrefix(name, "runtime.") || strings.HasPrefix(name, "internal/runtime/")
}

// fsMem returns in's memory operand if x86asm decoded one with segment FS.
func fsMem(in insn) (x86asm.Mem, bool) {
	if !in.known {
		return x86asm.Mem{}, false
	}
	for _, a := range in.inst.Args {
		if m, ok := a.(x86asm.Mem); ok && m.Segment == x86asm.FS {
			return m, true
		}
	}
	return x86asm.Mem{}, false
}

// usesSeg reports whether in has seg as a memory segment or as a register
// operand (mov to/from a segment register, push/pop).
func usesSeg(in insn, seg x86asm.Reg) bool {
	if !in.known {
		return false
	}
	for _, a := range in.inst.Args {
		switch a := a.(type) {
		case x86asm.Mem:
			if a.Segment == seg {
				return true
			}
		case x86asm.Reg:
			if a == seg {
				return true
			}
		}
	}
	return false
}

// fsOffence says why in involves FS, or "" if it does not. It looks at the
// raw prefix bytes as well as at x86asm's operands, because x86asm's VEX and
// EVEX decoder does not report segment overrides.
func fsOffence(in insn) string {
	if in.known {
		if in.inst.Op == x86asm.WRFSBASE {
			return "writes the FS base"
		}
		for _, a := range in.inst.Args {
			switch a := a.(type) {
			case x86asm.Mem:
				if a.Segment == x86asm.FS {
					return "FS-relative memory access"
				}
			case x86asm.Reg:
				if a == x86asm.FS {
					return "FS segment register operand"
				}
			}
		}
	}
	if in.fsPrefix >= 0 {
		return "FS segment prefix"
	}
	return ""
}
