package syspatch

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/arch/x86/x86asm"
)

// objdumpSites counts "mov $imm,%eax" immediately followed by "syscall" in objdump's
// disassembly of a binary's executable code: an independent count of the sites.
func objdumpSites(t *testing.T, path string) map[uint64]uint32 {
	t.Helper()
	out, err := exec.Command("objdump", "-d", "--no-show-raw-insn", path).Output()
	if err != nil {
		t.Fatalf("objdump (binutils; the README's test command installs it): %v", err)
	}
	line := regexp.MustCompile(`(?m)^\s*([0-9a-f]+):\s+(\S+)\s*(.*)$`)
	sites := map[uint64]uint32{}
	var prevAddr uint64
	var prevNr int64 = -1
	for _, m := range line.FindAllStringSubmatch(string(out), -1) {
		addr, _ := strconv.ParseUint(m[1], 16, 64)
		switch {
		case m[2] == "syscall" && prevNr >= 0 && addr == prevAddr+5:
			sites[prevAddr] = uint32(prevNr)
			prevNr = -1
		case m[2] == "mov":
			prevNr = -1
			if mm := regexp.MustCompile(`^\$0x([0-9a-f]+),%eax$`).FindStringSubmatch(m[3]); mm != nil {
				v, _ := strconv.ParseUint(mm[1], 16, 32)
				prevAddr, prevNr = addr, int64(v)
			}
		default:
			prevNr = -1
		}
	}
	return sites
}

// objdumpInsns maps the address of every instruction objdump decodes in a binary's
// executable code to its mnemonic.
func objdumpInsns(t *testing.T, path string) map[uint64]string {
	t.Helper()
	out, err := exec.Command("objdump", "-d", "--no-show-raw-insn", path).Output()
	if err != nil {
		t.Fatalf("objdump: %v", err)
	}
	line := regexp.MustCompile(`(?m)^\s*([0-9a-f]+):\s+(\S+)`)
	insns := map[uint64]string{}
	for _, m := range line.FindAllStringSubmatch(string(out), -1) {
		addr, _ := strconv.ParseUint(m[1], 16, 64)
		insns[addr] = m[2]
	}
	return insns
}

func findInFile(t *testing.T, path string) map[uint64]Site {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[uint64]Site{}
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 {
			continue
		}
		code := make([]byte, p.Filesz)
		if _, err := p.ReadAt(code, 0); err != nil {
			t.Fatal(err)
		}
		for _, s := range Find(code, p.Vaddr) {
			got[s.Addr] = s
		}
	}
	return got
}

// Find agrees with objdump on the C library and on a static program: every site it
// reports is instructions objdump decodes, ending at a syscall; every "mov $nr,%eax;
// syscall" it reports is one objdump shows, and it misses almost none; and some sites are
// several instructions long (as glibc's read is).
func TestFindAgreesWithObjdump(t *testing.T) {
	static := t.TempDir() + "/prog"
	src := t.TempDir() + "/prog.c"
	os.WriteFile(src, []byte("#include <stdio.h>\n#include <unistd.h>\nint main(){printf(\"%d\\n\", getppid() > 0); return 0;}\n"), 0o644)
	if out, err := exec.Command("gcc", "-O2", "-static", "-o", static, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	for _, path := range []string{"/lib/x86_64-linux-gnu/libc.so.6", static} {
		want := objdumpSites(t, path)
		got := findInFile(t, path)
		insns := objdumpInsns(t, path)
		movs, seqs := 0, 0
		for a, s := range got {
			// Every site is instructions objdump decodes, ending at a syscall.
			pc := s.Addr
			for off := 0; off < len(s.Insn); {
				in, err := x86asm.Decode(s.Insn[off:], 64)
				if _, ok := insns[pc]; err != nil || !ok {
					t.Errorf("%s: site %#x: an instruction at %#x that objdump does not decode", path, a, pc)
					break
				}
				off += in.Len
				pc += uint64(in.Len)
			}
			if pc != s.Syscall || insns[s.Syscall] != "syscall" {
				t.Errorf("%s: site %#x does not end at objdump's syscall (%#x: %q)", path, a, s.Syscall, insns[s.Syscall])
			}
			if n, _ := x86asm.Decode(s.Insn, 64); n.Len < len(s.Insn) {
				seqs++
			}
			if s.Nr() < 0 {
				continue
			}
			movs++
			if w, ok := want[a]; !ok || int64(w) != s.Nr() {
				t.Errorf("%s: Find reports a site at %#x (nr %d) that objdump does not show", path, a, s.Nr())
			}
		}
		if len(want) < 20 || movs < len(want)*95/100 {
			t.Errorf("%s: Find found %d mov sites, objdump %d", path, movs, len(want))
		}
		if seqs == 0 {
			t.Errorf("%s: Find found no site of several instructions (glibc's read is one)", path)
		}
	}
}

// A site a branch jumps into, or bytes that only look like a site inside another
// instruction, are left alone; a branch that only a decoding out of step sees is not one.
func TestFindRefuses(t *testing.T) {
	site := []byte{0xb8, 0x27, 0, 0, 0, 0x0f, 0x05}
	// jne +1 lands on the mov's second byte.
	code := append([]byte{0x90, 0x90, 0x90, 0x75, 0x01}, site...)
	if s := Find(code, 0x1000); len(s) != 0 {
		t.Errorf("a site with a jump into it was accepted: %v", s)
	}
	// A jmp before the syscall is not an instruction a stub can run.
	code = append([]byte{0x90, 0x90, 0x90, 0x90}, 0xe9, 1, 0, 0, 0, 0x0f, 0x05)
	if s := Find(code, 0x1000); len(s) != 0 {
		t.Errorf("a jmp was taken for a site's instruction: %v", s)
	}
	// Nor is an FS-relative load (FS is the application's; golos moves no such access).
	code = append([]byte{0x90, 0x90, 0x90, 0x90}, 0x64, 0x48, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0, 0x0f, 0x05)
	if s := Find(code, 0x1000); len(s) != 0 {
		t.Errorf("an FS-relative load was taken for a site's instruction: %v", s)
	}
	// "xor %eax,%eax; syscall" after one-byte instructions: nothing holds the jmp.
	code = []byte{0x90, 0x90, 0x90, 0x90, 0x90, 0x90, 0x31, 0xc0, 0x0f, 0x05}
	if s := Find(code, 0x1000); len(s) != 0 {
		t.Errorf("a site without a 5-byte first instruction was accepted: %v", s)
	}
	// glibc's read: "cmpb $0x0,x(%rip); je +0x17; xor %eax,%eax; syscall" is one site of
	// three instructions; a jump to the je or the xor is fine (they stay), one into the
	// cmpb's bytes is not.
	read := []byte{0x80, 0x3d, 0x31, 0x33, 0x0e, 0x00, 0x00, 0x74, 0x17, 0x31, 0xc0, 0x0f, 0x05}
	code = append([]byte{0x90, 0x90, 0x90, 0x90}, read...)
	if s := Find(code, 0x1000); len(s) != 1 || s[0].Addr != 0x1004 || len(s[0].Insn) != 11 || s[0].Syscall != 0x100f {
		t.Errorf("Find = %v, want read's site of 11 bytes at 0x1004", s)
	}
	code = append([]byte{0x90, 0x90, 0x75, 0x07}, read...) // jne → the xor at 0x100d
	if s := Find(code, 0x1000); len(s) != 1 || s[0].Addr != 0x1004 {
		t.Errorf("Find = %v, want read's site at 0x1004 with a jump to its xor", s)
	}
	code = append([]byte{0x90, 0x90, 0x75, 0x02}, read...) // jne → inside the cmpb
	if s := Find(code, 0x1000); len(s) != 0 {
		t.Errorf("a site with a jump into its first instruction was accepted: %v", s)
	}
	// movabs $imm64,%rcx holding the site's bytes: not an instruction boundary.
	code = append(make([]byte, 40), 0x48, 0xb9, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0x90)
	for i := range 40 {
		code[i] = 0x90
	}
	if s := Find(code, 0x1000); len(s) != 0 {
		t.Errorf("bytes inside a movabs immediate were taken for a site: %v", s)
	}
	// glibc's sigaction: "mov $0x8,%r10d; mov $0xd,%eax; syscall" after movups stores. The
	// decoding started 7 bytes into the window reads a "js" whose target lies inside the
	// mov; it is out of step there, so that branch is no instruction of the program and
	// the site is taken.
	code = []byte{0x64, 0x24, 0x58, 0x0f, 0x11, 0x6c, 0x24, 0x68, 0x0f, 0x11, 0x74, 0x24, 0x78,
		0x0f, 0x11, 0xbc, 0x24, 0x88, 0x00, 0x00, 0x00, 0x41, 0xba, 0x08, 0x00, 0x00, 0x00,
		0xb8, 0x0d, 0x00, 0x00, 0x00, 0x0f, 0x05}
	if s := Find(code, 0x1000); len(s) != 1 || s[0].Addr != 0x101b || s[0].Nr() != 13 {
		t.Errorf("Find = %v, want sigaction's site at 0x101b", s)
	}
	// glibc's start_thread: its set_robust_list site's mov lies 34 bytes after the start
	// of a "movl $0xfffffffe,%fs:0x924", so the window begins inside that instruction,
	// where the first starts' decodings meet its immediate and fail; later starts reach
	// the syscall.
	code = []byte{0xa8, 0x80, 0x0f, 0x85, 0xde, 0x01, 0x00, 0x00, // test $0x80,%al; jne
		0x64, 0xc7, 0x04, 0x25, 0x24, 0x09, 0x00, 0x00, 0xfe, 0xff, 0xff, 0xff, // movl $0xfffffffe,%fs:0x924
		0x48, 0x8b, 0x44, 0x24, 0x08, // mov 0x8(%rsp),%rax
		0xbe, 0x18, 0x00, 0x00, 0x00, // mov $0x18,%esi
		0x48, 0x8d, 0xb8, 0xe0, 0x02, 0x00, 0x00, // lea 0x2e0(%rax),%rdi
		0xb8, 0x11, 0x01, 0x00, 0x00, 0x0f, 0x05} // mov $0x111,%eax; syscall
	if s := Find(code, 0x1000); len(s) != 1 || s[0].Addr != 0x1025 || s[0].Nr() != 0x111 {
		t.Errorf("Find = %v, want start_thread's set_robust_list site at 0x1025", s)
	}
	// glibc's start_thread ends a thread with "mov $0x3c,%edx; xchg %ax,%ax; xor %edi,%edi;
	// mov %edx,%eax; syscall" after a "jg rel32" whose displacement (96 00 00 00) decodes,
	// from a start out of step, as instructions that skip the mov and meet the stream at
	// the xchg: that decoding must not hide the mov, which the starts from 64 bytes back
	// (the bytes glibc 2.36 has there) all reach in step. With 32 bytes, every thread's
	// exit trapped.
	code = []byte{0xfd, 0xff, 0xff, 0x48, 0x8b, 0x44, 0x24, 0x08, 0x48, 0x8b, 0xb8, 0x40, 0x06, 0x00,
		0x00, 0xff, 0x90, 0x38, 0x06, 0x00, 0x00, 0xe9, 0x28, 0xfe, 0xff, 0xff, 0x48, 0x8b, 0x4c, 0x24,
		0x08, 0x31, 0xf6, 0x31, 0xc0, 0x48, 0x89, 0xb1, 0x20, 0x06, 0x00, 0x00, 0x87, 0x81, 0x18, 0x06,
		0x00, 0x00, 0x83, 0xe8, 0x01, 0x0f, 0x8f, 0x96, 0x00, 0x00, 0x00, // sub $1,%eax; jg
		0xba, 0x3c, 0x00, 0x00, 0x00, 0x66, 0x90, 0x31, 0xff, 0x89, 0xd0, 0x0f, 0x05}
	if s := Find(code, 0x1000); len(s) != 1 || s[0].Addr != 0x1039 || len(s[0].Insn) != 11 || s[0].Syscall != 0x1044 {
		t.Errorf("Find = %v, want start_thread's exit site at 0x1039", s)
	}
	// The plain site is found, and glibc's syscall(3) ending: mov 0x8(%rsp),%r9; syscall.
	code = append([]byte{0x90, 0x90, 0x90, 0x90}, site...)
	if s := Find(code, 0x1000); len(s) != 1 || s[0].Addr != 0x1004 || s[0].Nr() != 0x27 || s[0].Syscall != 0x1009 {
		t.Errorf("Find = %v, want the site at 0x1004 with nr 39", s)
	}
	code = append([]byte{0x90, 0x90, 0x90, 0x90}, 0x4c, 0x8b, 0x4c, 0x24, 0x08, 0x0f, 0x05)
	if s := Find(code, 0x1000); len(s) != 1 || s[0].Addr != 0x1004 || s[0].Nr() != -1 || len(s[0].Insn) != 5 {
		t.Errorf("Find = %v, want syscall(3)'s site at 0x1004", s)
	}
}

// The stubs decode as the instructions the package documents, aimed where they must go:
// the site's own instructions relocated (a RIP-relative operand and a conditional
// branch reach what they reached at the site), then the way into golos and back.
func TestStubsDecode(t *testing.T) {
	const page, entryPC = 0x7f0000000000, 0x7e0000002000
	read := uint64(page + 0x200000)
	rip := uint64(page - 0x300000)
	sites := []struct {
		site    Site
		ops     []string
		targets []uint64 // of the site's instructions that address or branch
	}{
		{Site{Addr: page + 0x100000, Insn: []byte{0xb8, 39, 0, 0, 0}, Syscall: page + 0x100005},
			[]string{"MOV"}, nil},
		{Site{Addr: page - 0x100000, Insn: []byte{0x4c, 0x8b, 0x4c, 0x24, 0x08}, Syscall: page - 0x100000 + 5},
			[]string{"MOV"}, nil},
		// glibc's read: cmpb $0x0,0xe3331(%rip); je +0x17; xor %eax,%eax
		{Site{Addr: read, Insn: []byte{0x80, 0x3d, 0x31, 0x33, 0x0e, 0x00, 0x00, 0x74, 0x17, 0x31, 0xc0}, Syscall: read + 11},
			[]string{"CMP", "JE", "XOR"}, []uint64{read + 7 + 0xe3331, read + 9 + 0x17}},
		// mov 0x10(%rip),%r9
		{Site{Addr: rip, Insn: []byte{0x4c, 0x8b, 0x0d, 0x10, 0, 0, 0}, Syscall: rip + 7},
			[]string{"MOV"}, []uint64{rip + 7 + 0x10}},
	}
	for i, c := range sites {
		s := c.site
		b, jmp, err := Stub(page, i, s)
		if err != nil {
			t.Fatal(err)
		}
		stub := uint64(page) + uint64(StubOffset(i))
		code := b
		pc := stub
		var ops []string
		var targets []uint64
		slow := uint64(0)
		for len(code) > 0 && code[0] != 0xcc {
			in, err := x86asm.Decode(code, 64)
			if err != nil {
				t.Fatalf("stub %d does not decode: %v", i, err)
			}
			ops = append(ops, in.Op.String())
			next := pc + uint64(in.Len)
			for _, a := range in.Args {
				switch a := a.(type) {
				case x86asm.Rel:
					targets = append(targets, next+uint64(int64(a)))
				case x86asm.Mem:
					if a.Base == x86asm.RIP {
						targets = append(targets, next+uint64(a.Disp))
					}
				}
			}
			if in.Op == x86asm.SYSCALL {
				slow = pc
			}
			code = code[in.Len:]
			pc = next
		}
		want := append(append([]string(nil), c.ops...), "LEA", "JMP", "SYSCALL", "JMP")
		if strings.Join(ops, " ") != strings.Join(want, " ") {
			t.Fatalf("stub %d: %v, want %v", i, ops, want)
		}
		wantTargets := append(append([]uint64(nil), c.targets...), slow, page, s.Syscall+2)
		if fmt.Sprintf("%#x", targets) != fmt.Sprintf("%#x", wantTargets) {
			t.Errorf("stub %d targets %#x, want %#x (the site's, then lea→slow, jmp *header, jmp→after)", i, targets, wantTargets)
		}
		jin, err := x86asm.Decode(jmp, 64)
		if err != nil || jin.Op != x86asm.JMP || s.Addr+5+uint64(int64(jin.Args[0].(x86asm.Rel))) != stub {
			t.Errorf("site %d's jump %x does not reach its stub", i, jmp)
		}
	}
	if got := uint64(Header(entryPC)[0]) | uint64(Header(entryPC)[5])<<40; got != entryPC&0xff0000000000|entryPC&0xff {
		t.Errorf("header does not hold %#x", uint64(entryPC))
	}
	if _, _, err := Stub(page, 0, Site{Addr: page + 3<<30, Insn: []byte{0xb8, 1, 0, 0, 0}, Syscall: page + 3<<30 + 5}); err == nil {
		t.Error("a site 3 GiB away was accepted")
	}
}

// BenchmarkBefore checks one syscall site of the C library, as golos does for each site
// the first time it traps.
func BenchmarkBefore(b *testing.B) {
	f, err := elf.Open("/lib/x86_64-linux-gnu/libc.so.6")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var code []byte
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD && p.Flags&elf.PF_X != 0 {
			code = make([]byte, p.Filesz)
			if _, err := p.ReadAt(code, 0); err != nil {
				b.Fatal(err)
			}
			break
		}
	}
	var scs []int
	for off := Window; off+2 <= len(code); off++ {
		if code[off] == 0x0f && code[off+1] == 0x05 {
			scs = append(scs, off)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		sc := scs[i%len(scs)]
		Before(code[sc-Window:sc+2], Window, 0)
	}
}
