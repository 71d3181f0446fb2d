package loader

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"

	"golos/internal/entry"
)

// elfETDynBase is Linux's ELF_ET_DYN_BASE on x86-64 (2/3 of TASK_SIZE, page-aligned):
// where a PIE with an interpreter is loaded, before randomisation (fs/binfmt_elf.c).
const elfETDynBase = 0x555555554000

// mmapRndPages bounds Linux's arch_mmap_rnd() on x86-64: 28 bits of pages.
const mmapRndPages = 1 << 28

// Image is an executable (and its interpreter) mapped into memory.
type Image struct {
	Entry    uint64 // the first instruction: the interpreter's entry, else the executable's
	ExeEntry uint64 // the executable's entry (AT_ENTRY)
	Phdr     uint64 // the executable's program headers in memory (AT_PHDR)
	Phnum    uint64 // AT_PHNUM
	Base     uint64 // the interpreter's load address (AT_BASE), 0 without one
	BrkStart uint64 // where the program break starts
	Interp   string // the interpreter's path, or ""
	Mapped   [][2]uint64
	Code     [][2]uint64 // the executable segments
	// GoRuntime: the executable is a Go program (goProgram), whose runtime starts
	// threads before its main runs.
	GoRuntime bool
	// ExecStack: the executable's PT_GNU_STACK asks for an executable stack (the
	// interpreter's does not count: fs/binfmt_elf.c, load_elf_binary reads only the
	// executable's).
	ExecStack bool
	// Layout is where the executable's code and data lie, as Linux records them.
	Layout Layout
}

// Layout is where an executable's code and data lie as Linux records them in its
// mm_struct (fs/binfmt_elf.c, load_elf_binary): the code from the lowest executable
// segment's start to the highest one's end in the file, the data from the highest
// segment's start to the highest end in the file of any segment, each plus the load
// bias. /proc/PID/stat shows them (startcode, endcode, start_data, end_data: proc_pid_stat(5))
// and status's VmExe and statm's text count the code's pages.
type Layout struct {
	StartCode, EndCode, StartData, EndData uint64
}

// layout is f's Layout when it is loaded with bias.
func (f *File) layout(bias uint64) Layout {
	l := Layout{StartCode: ^uint64(0)}
	for _, s := range f.Segments {
		if s.Flags&PF_X != 0 {
			l.StartCode = min(l.StartCode, s.Vaddr)
			l.EndCode = max(l.EndCode, s.Vaddr+s.Filesz)
		}
		l.StartData = max(l.StartData, s.Vaddr)
		l.EndData = max(l.EndData, s.Vaddr+s.Filesz)
	}
	l.StartCode += bias // without an executable segment, ~0UL plus the bias, as Linux's
	l.EndCode += bias
	l.StartData += bias
	l.EndData += bias
	return l
}

// Opener opens a file for reading and returns its descriptor: the kernel's view of
// paths (inside a confined root, if there is one).
type Opener func(path string) (int, error)

// HostOpener opens host paths as they are. O_NONBLOCK: a FIFO named as the program or
// its interpreter must not make golos wait for a writer (the loader then refuses it).
func HostOpener(path string) (int, error) {
	return unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
}

// Load maps the executable at path (and its PT_INTERP interpreter) into memory, opening
// both through opener. What Linux would put in the mmap region (an interpreter, a
// static-pie) goes in area. It keeps no file open.
func Load(path string, opener Opener, area *Area) (*Image, error) {
	exe, f, err := open(path, opener)
	if err != nil {
		return nil, err
	}
	defer exe.Close()
	if f.Interp != "" && needsLib(exe, f, tsanLib) {
		return nil, errTSan{path} // needed.go
	}
	img := &Image{Interp: f.Interp, ExecStack: f.ExecStack, GoRuntime: goProgram(exe, f)}
	var bias uint64
	switch {
	case f.Type == ET_EXEC:
		bias, err = mapImage(exe, f, 0, true, nil)
	case f.Interp != "":
		bias, err = mapImage(exe, f, elfETDynBase+randomBelow(mmapRndPages)*pageSize, true, nil)
	default: // a loader or static-pie: the mmap region, as Linux does
		bias, err = mapImage(exe, f, 0, false, area)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	lo, hi := f.span()
	img.Mapped = append(img.Mapped, [2]uint64{lo + bias, hi + bias})
	img.Code = append(img.Code, f.code(bias)...)
	img.ExeEntry = f.Entry + bias
	img.Entry = img.ExeEntry
	img.Phdr = f.phdrAddr() + bias
	img.Phnum = uint64(f.Phnum)
	img.BrkStart = hi + bias
	img.Layout = f.layout(bias)
	switch {
	case f.Type == ET_DYN && f.Interp == "":
		// A static-pie or a loader run as the program gets its brk at ELF_ET_DYN_BASE,
		// away from the mmap region it was loaded in (fs/binfmt_elf.c, load_elf_binary).
		img.BrkStart = elfETDynBase + randomBelow(brkRandomPages)*pageSize
	case vaSpaceLevel() > 1 && randomizing():
		// Otherwise, with the break's randomization on (randomize_va_space 2), a page's
		// gap after the .bss and a random start above it (load_elf_binary).
		img.BrkStart = pageUp(img.BrkStart) + pageSize + randomBelow(brkRandomPages)*pageSize
	}
	if f.Interp != "" {
		ld, lf, err := open(f.Interp, opener)
		if err != nil {
			return nil, fmt.Errorf("interpreter: %w", err)
		}
		defer ld.Close()
		if lf.Interp != "" {
			return nil, fmt.Errorf("interpreter %s: has an interpreter itself", f.Interp)
		}
		lbias, err := mapImage(ld, lf, 0, lf.Type == ET_EXEC, area)
		if err != nil {
			return nil, fmt.Errorf("interpreter %s: %w", f.Interp, err)
		}
		llo, lhi := lf.span()
		img.Mapped = append(img.Mapped, [2]uint64{llo + lbias, lhi + lbias})
		img.Code = append(img.Code, lf.code(lbias)...)
		img.Base = llo + lbias
		img.Entry = lf.Entry + lbias
	}
	return img, nil
}

// Check makes the checks execve(2) makes before its point of no return, without mapping
// anything: path and its PT_INTERP interpreter, if any, open (ENOENT, EACCES) as regular
// files nobody writes to (ETXTBSY) with headers Load accepts (ENOEXEC); an interpreter
// that is no ELF executable for this machine is ELIBBAD, or EIO when it is too short for
// an ELF header (fs/binfmt_elf.c, load_elf_binary). A failure here lets execve return its errno to the program, where
// one in Load comes after the program is gone.
func Check(path string, opener Opener) error {
	exe, f, err := open(path, opener)
	if err != nil {
		return err
	}
	exe.Close()
	if f.Interp == "" {
		return nil
	}
	ld, _, err := open(f.Interp, opener)
	if errors.Is(err, unix.ENOEXEC) {
		// Linux reads the interpreter's ELF header first: a file too short for one
		// is EIO (elf_read's short read), one that has one but is no fit is ELIBBAD.
		errno := unix.ELIBBAD
		if fd, e := opener(f.Interp); e == nil {
			var st unix.Stat_t
			if unix.Fstat(fd, &st) == nil && st.Size < 64 {
				errno = unix.EIO
			}
			unix.Close(fd)
		}
		return fmt.Errorf("interpreter: %w%w", err, errnoOnly{errno})
	}
	if err != nil {
		return fmt.Errorf("interpreter: %w", err)
	}
	ld.Close()
	return nil
}

// errnoOnly puts an errno in an error's chain without adding to its text.
type errnoOnly struct{ errno unix.Errno }

func (errnoOnly) Error() string   { return "" }
func (e errnoOnly) Unwrap() error { return e.errno }

// rawFile is a file descriptor read with pread(2): no os.File, so that golos's runtime
// does not set up its poller (and its descriptors) for the program's files.
type rawFile int

func (r rawFile) ReadAt(p []byte, off int64) (int, error) {
	n, err := unix.Pread(int(r), p, off)
	if err == nil && n < len(p) {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

func (r rawFile) Close() error { return unix.Close(int(r)) }

func open(path string, opener Opener) (rawFile, *File, error) {
	fd, err := opener(path)
	if err != nil {
		return -1, nil, fmt.Errorf("%s: %w", path, err)
	}
	r := rawFile(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		r.Close()
		return -1, nil, fmt.Errorf("%s: %w", path, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		r.Close()
		return -1, nil, fmt.Errorf("%s: not a regular file: %w", path, unix.EACCES) // execve(2)
	}
	if err := checkNoWriters(fd); err != nil {
		r.Close()
		return -1, nil, fmt.Errorf("%s: %w", path, err)
	}
	f, err := Parse(r, st.Size)
	if err != nil {
		r.Close()
		return -1, nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, f, nil
}

// mapImage maps f's segments. With fixed, the image goes at its addresses plus bias and
// must not replace anything already mapped (golos's own memory above all); otherwise it
// goes in area and bias follows from the place. It returns the bias.
func mapImage(fd rawFile, f *File, bias uint64, fixed bool, area *Area) (uint64, error) {
	lo, hi := f.span()
	flags := unix.MAP_PRIVATE | unix.MAP_ANONYMOUS | unix.MAP_NORESERVE
	hint := uint64(0)
	if fixed {
		flags |= unix.MAP_FIXED_NOREPLACE
		hint = lo + bias
		if hint+(hi-lo) > userEnd || hint+(hi-lo) < hint {
			return 0, fmt.Errorf("segments at [%#x, %#x) do not fit in the user address space", hint, hint+hi-lo)
		}
	}
	// One reservation for the whole image, so that the segments land together and
	// nothing else can take the gaps between them while they are mapped.
	var base uint64
	var err error
	if fixed {
		base, err = mmap(hint, hi-lo, unix.PROT_NONE, flags, -1, 0)
	} else {
		base, err = area.mapIn(hi-lo, unix.PROT_NONE, flags)
	}
	if err != nil {
		if errors.Is(err, unix.EEXIST) {
			return 0, fmt.Errorf("segments at [%#x, %#x) overlap memory golos already uses", hint, hint+hi-lo)
		}
		return 0, fmt.Errorf("reserve [%#x, +%#x): %w", hint, hi-lo, err)
	}
	if !fixed {
		bias = base - lo
	}
	for i, s := range f.Segments {
		if err := mapSegment(fd, s, bias); err != nil {
			if errors.Is(err, unix.EFAULT) {
				// The page holding the end of the segment's file bytes and the start of
				// its bss lies past the end of the file (truncated, or cut short while
				// golos maps it): Linux's padzero() fails the same way, and execve
				// kills the process with SIGSEGV (fs/binfmt_elf.c, load_elf_binary).
				unix.Syscall(unix.SYS_MUNMAP, uintptr(base), uintptr(hi-lo), 0)
				return 0, badFormat("segment %d: its bss starts in a page past the end of the file (truncated, or changed while loading)", i)
			}
			unix.Syscall(unix.SYS_MUNMAP, uintptr(base), uintptr(hi-lo), 0)
			return 0, fmt.Errorf("map segment %d at %#x: %w", i, s.Vaddr+bias, err)
		}
	}
	return bias, nil
}

func mapSegment(fd rawFile, s Segment, bias uint64) error {
	prot := 0
	if s.Flags&PF_R != 0 {
		prot |= unix.PROT_READ
	}
	if s.Flags&PF_W != 0 {
		prot |= unix.PROT_WRITE
	}
	if s.Flags&PF_X != 0 {
		prot |= unix.PROT_EXEC
	}
	start := s.Vaddr + bias
	pageStart := start &^ (pageSize - 1)
	fileEnd, memEnd := start+s.Filesz, start+s.Memsz
	anonStart := pageStart
	if s.Filesz > 0 {
		fileMapEnd := pageUp(fileEnd)
		p := prot
		if s.Memsz > s.Filesz {
			p |= unix.PROT_WRITE // to zero the tail of the last file page
		}
		if _, err := mmap(pageStart, fileMapEnd-pageStart, p, unix.MAP_PRIVATE|unix.MAP_FIXED,
			int(fd), s.Offset&^(pageSize-1)); err != nil {
			return err
		}
		if s.Memsz > s.Filesz {
			// .bss begins inside the last file page: the rest of that page reads as
			// zero, up to the page's end as Linux's padzero() does (ld.so's minimal
			// malloc takes that space as zeroed memory). The page is the file's: when
			// the file ends before it (cut short, perhaps while golos maps it), touching
			// it raises SIGBUS, so it is written through entry's fault-safe copy, which
			// fails with EFAULT as padzero's clear_user does.
			if fileMapEnd > fileEnd && !entry.CopyOut(fileEnd, zeroPage[:fileMapEnd-fileEnd]) {
				return unix.EFAULT
			}
			if p != prot {
				if _, _, e := unix.Syscall(unix.SYS_MPROTECT, uintptr(pageStart), uintptr(fileMapEnd-pageStart), uintptr(prot)); e != 0 {
					return e
				}
			}
		}
		anonStart = fileMapEnd
	}
	if memEnd > anonStart {
		if _, err := mmap(anonStart, pageUp(memEnd)-anonStart, prot,
			unix.MAP_PRIVATE|unix.MAP_FIXED|unix.MAP_ANONYMOUS, -1, 0); err != nil {
			return err
		}
	}
	return nil
}

// zeroPage is the source of the bss zeroing: at most a page's worth.
var zeroPage [pageSize]byte

func pageUp(x uint64) uint64 { return (x + pageSize - 1) &^ (pageSize - 1) }

func mmap(addr, length uint64, prot, flags, fd int, off uint64) (uint64, error) {
	r, _, e := unix.Syscall6(unix.SYS_MMAP, uintptr(addr), uintptr(length), uintptr(prot),
		uintptr(flags), uintptr(fd), uintptr(off))
	if e != 0 {
		return 0, e
	}
	return uint64(r), nil
}

// randomBelow returns a random number below n (of pages, or bytes), as Linux's ASLR would
// add, or 0 where Linux randomizes nothing: in a
// process whose personality has ADDR_NO_RANDOMIZE (setarch -R, gdb), which an execve
// keeps, or with the sysctl kernel.randomize_va_space at 0 (fs/binfmt_elf.c sets
// PF_RANDOMIZE only when neither is so, and every offset of the layout depends on it).
// golos's own process has the program's personality (sysPersonality passes it to the
// host).
func randomBelow(n uint64) uint64 {
	if !randomizing() {
		return 0
	}
	var b [8]byte
	unix.Getrandom(b[:], 0) // not crypto/rand: its timer would start Go's poller and its descriptors
	return binary.LittleEndian.Uint64(b[:]) % n
}

// randomizeVASpace reports whether the sysctl kernel.randomize_va_space is other than 0
// (Documentation/admin-guide/sysctl/kernel.rst).
func randomizeVASpace() bool { return vaSpaceLevel() != 0 }

// vaSpaceLevel is the sysctl kernel.randomize_va_space: 0 (no randomization), 1 (the
// stack, the mmap base, the vDSO, a PIE) or 2 (the break too); 2 when it cannot be read,
// the kernel's default. It is read once, at the first load: a start's area, image,
// break and stack ask it in turn.
var vaSpaceLevel = sync.OnceValue(func() int {
	fd, err := unix.Open("/proc/sys/kernel/randomize_va_space", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 2
	}
	defer unix.Close(fd)
	var b [4]byte
	n, err := unix.Read(fd, b[:])
	if err != nil || n < 1 || b[0] < '0' || b[0] > '9' {
		return 2
	}
	return int(b[0] - '0')
})

// brkRandomPages is how many pages the break's start may move up by:
// arch/x86/kernel/process.c, arch_randomize_brk, randomize_page(mm->brk, SZ_1G) for a
// 64-bit program (32 MiB, SZ_32M, in kernels before 2024's change, which golos does not
// tell apart: it gives the more).
const brkRandomPages = 1 << 30 / pageSize

// randomizing reports whether the kernel would randomize a new program's layout: the
// process's personality has no ADDR_NO_RANDOMIZE and randomize_va_space is not 0
// (randomBelow).
func randomizing() bool {
	const queryPersona, addrNoRandomize = 0xffffffff, 0x0040000 // <linux/personality.h>
	if p, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, queryPersona, 0, 0); e == 0 && p&addrNoRandomize != 0 {
		return false
	}
	return randomizeVASpace()
}

// memAt is the memory at addr, which golos mapped itself outside the Go heap (the
// application's image and stack), as a slice.
func memAt(addr, n uint64) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(nil), uintptr(addr))), n)
}
