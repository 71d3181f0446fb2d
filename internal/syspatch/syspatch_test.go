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

func findInFile(t *testing.T, path string) map[uint64]uint32 {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := map[uint64]uint32{}
	for _, p := range f.Progs {
		if p.Type != elf.PT_LOAD || p.Flags&elf.PF_X == 0 {
			continue
		}
		code := make([]byte, p.Filesz)
		if _, err := p.ReadAt(code, 0); err != nil {
			t.Fatal(err)
		}
		for _, s := range Find(code, p.Vaddr) {
			got[s.Addr] = s.Nr
		}
	}
	return got
}

// Find agrees with objdump on the C library and on a static program: every site it
// reports is one objdump shows, and it misses almost none.
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
		for a, nr := range got {
			if w, ok := want[a]; !ok || w != nr {
				t.Errorf("%s: Find reports a site at %#x (nr %d) that objdump does not show", path, a, nr)
			}
		}
		if len(want) < 20 || len(got) < len(want)*95/100 {
			t.Errorf("%s: Find found %d sites, objdump %d", path, len(got), len(want))
		}
	}
}

// A site a branch jumps into, or bytes that only look like a site inside another
// instruction, are left alone.
func TestFindRefuses(t *testing.T) {
	site := []byte{0xb8, 0x27, 0, 0, 0, 0x0f, 0x05}
	// jne +1 lands on the mov's second byte.
	code := append([]byte{0x90, 0x90, 0x90, 0x75, 0x01}, site...)
	if s := Find(code, 0x1000); len(s) != 0 {
		t.Errorf("a site with a jump into it was accepted: %v", s)
	}
	// movabs $imm64,%rcx holding the site's bytes: not an instruction boundary.
	code = append(make([]byte, 40), 0x48, 0xb9, 0xb8, 0x27, 0, 0, 0, 0x0f, 0x05, 0x90)
	for i := range 40 {
		code[i] = 0x90
	}
	if s := Find(code, 0x1000); len(s) != 0 {
		t.Errorf("bytes inside a movabs immediate were taken for a site: %v", s)
	}
	// The plain site is found.
	code = append([]byte{0x90, 0x90, 0x90, 0x90}, site...)
	if s := Find(code, 0x1000); len(s) != 1 || s[0].Addr != 0x1004 || s[0].Nr != 0x27 {
		t.Errorf("Find = %v, want the site at 0x1004 with nr 39", s)
	}
}

// The stubs decode as the instructions the package documents, aimed where they must go.
func TestStubsDecode(t *testing.T) {
	const page, entryPC = 0x7f0000000000, 0x7e0000002000
	sites := []Site{{Addr: page + 0x100000, Nr: 39}, {Addr: page - 0x100000, Nr: 1}}
	buf, jmps, err := Stubs(page, sites, entryPC)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sites {
		stub := uint64(headerLen + i*stubLen)
		code := buf[stub : stub+25]
		var ops []string
		pc := uint64(page) + stub
		var targets []uint64
		for len(code) > 0 {
			in, err := x86asm.Decode(code, 64)
			if err != nil {
				t.Fatalf("stub %d does not decode: %v", i, err)
			}
			ops = append(ops, in.Op.String())
			next := pc + uint64(in.Len)
			switch a := in.Args[0].(type) {
			case x86asm.Rel:
				targets = append(targets, next+uint64(int64(a)))
			case x86asm.Mem:
				if in.Op == x86asm.JMP {
					targets = append(targets, next+uint64(a.Disp)) // rip-relative slot
				}
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
		slow := page + stub + 18
		if targets[0] != slow || targets[1] != page || targets[2] != s.Addr+7 {
			t.Errorf("stub %d targets %#x, want lea→%#x, jmp *%#x, jmp→%#x", i, targets, slow, uint64(page), s.Addr+7)
		}
		jin, err := x86asm.Decode(jmps[i][:], 64)
		if err != nil || jin.Op != x86asm.JMP || s.Addr+5+uint64(int64(jin.Args[0].(x86asm.Rel))) != page+stub {
			t.Errorf("site %d's jump %x does not reach its stub", i, jmps[i])
		}
	}
	if got := uint64(buf[0]) | uint64(buf[1])<<8 | uint64(buf[2])<<16 | uint64(buf[3])<<24 | uint64(buf[4])<<32 | uint64(buf[5])<<40; got != entryPC {
		t.Errorf("header holds %#x, want %#x", got, uint64(entryPC))
	}
	if _, _, err := Stubs(page, []Site{{Addr: page + 3<<30, Nr: 1}}, entryPC); err == nil {
		t.Error("a site 3 GiB away was accepted")
	}
}
