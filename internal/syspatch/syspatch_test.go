package syspatch

import (
	"debug/elf"
	"os"
	"os/exec"
	"regexp"
	"strconv"
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

// Find agrees with objdump on the C library and on a static program: every
// "mov $nr,%eax; syscall" it reports is one objdump shows, it misses almost none, and
// every other site is an instruction objdump decodes just before a syscall.
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
		movs := 0
		for a, s := range got {
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
	// Nor is a RIP-relative load.
	code = append([]byte{0x90, 0x90, 0x90, 0x90}, 0x48, 0x8b, 0x05, 1, 0, 0, 0, 0x0f, 0x05)
	if s := Find(code, 0x1000); len(s) != 0 {
		t.Errorf("a RIP-relative load was taken for a site's instruction: %v", s)
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

// The stubs decode as the instructions the package documents, aimed where they must go.
func TestStubsDecode(t *testing.T) {
	const page, entryPC = 0x7f0000000000, 0x7e0000002000
	sites := []Site{
		{Addr: page + 0x100000, Insn: []byte{0xb8, 39, 0, 0, 0}, Syscall: page + 0x100005},
		{Addr: page - 0x100000, Insn: []byte{0x4c, 0x8b, 0x4c, 0x24, 0x08}, Syscall: page - 0x100000 + 5},
	}
	for i, s := range sites {
		b, jmp, err := Stub(page, i, s)
		if err != nil {
			t.Fatal(err)
		}
		stub := uint64(page) + uint64(StubOffset(i))
		code := b
		pc := stub
		var ops []string
		var targets []uint64
		for len(code) > 0 && code[0] != 0xcc {
			in, err := x86asm.Decode(code, 64)
			if err != nil {
				t.Fatalf("stub %d does not decode: %v", i, err)
			}
			ops = append(ops, in.Op.String())
			next := pc + uint64(in.Len)
			if rel, ok := in.Args[0].(x86asm.Rel); ok {
				targets = append(targets, next+uint64(int64(rel)))
			}
			if m, ok := in.Args[0].(x86asm.Mem); ok && in.Op == x86asm.JMP {
				targets = append(targets, next+uint64(m.Disp))
			}
			if in.Op == x86asm.LEA {
				targets = append(targets, next+uint64(in.Args[1].(x86asm.Mem).Disp))
			}
			code = code[in.Len:]
			pc = next
		}
		want := []string{"MOV", "LEA", "JMP", "SYSCALL", "JMP"}
		if len(ops) != len(want) {
			t.Fatalf("stub %d: %v, want %v", i, ops, want)
		}
		for j := range want {
			if ops[j] != want[j] {
				t.Fatalf("stub %d: %v, want %v", i, ops, want)
			}
		}
		slow := stub + uint64(SlowOffset(len(s.Insn)))
		if targets[0] != slow || targets[1] != page || targets[2] != s.Syscall+2 {
			t.Errorf("stub %d targets %#x, want lea→%#x, jmp *%#x, jmp→%#x", i, targets, slow, uint64(page), s.Syscall+2)
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
