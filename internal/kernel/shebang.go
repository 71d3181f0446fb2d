package kernel

import "bytes"

// binprmBufSize is how much of a file Linux reads to recognise its format
// (BINPRM_BUF_SIZE): a "#!" line is parsed within it.
const binprmBufSize = 256

// A shebangLine is a parsed "#!" line.
type shebangLine struct {
	interp string // the interpreter's path; "" when the line has a NUL right after the blanks
	arg    string // the optional argument
	hasArg bool   // whether there is an argument, possibly empty (a NUL after a blank)
}

// parseShebang parses the first bytes of a file as Linux's load_script
// (fs/binfmt_script.c) does: script is false when head does not start with "#!";
// ok is false for a "#!" line Linux refuses with ENOEXEC (no interpreter name, or one
// cut by the 256-byte limit), why says which. The interpreter ends at the first blank
// (space or tab) or NUL; the argument is the rest of the line, blanks around it trimmed,
// up to a NUL; a carriage return is no blank, as on Linux.
func parseShebang(head []byte) (l shebangLine, script, ok bool, why string) {
	var buf [binprmBufSize]byte // NUL-padded, as Linux's buffer is for a short file
	copy(buf[:], head)
	if len(head) < 2 || buf[0] != '#' || buf[1] != '!' {
		return l, false, false, ""
	}
	spacetab := func(c byte) bool { return c == ' ' || c == '\t' }
	// nextNonSpacetab and nextTerminator search buf[first..last], last included, as
	// Linux's helpers do; -1 when there is none.
	nextNonSpacetab := func(first, last int) int {
		for ; first <= last; first++ {
			if !spacetab(buf[first]) {
				return first
			}
		}
		return -1
	}
	nextTerminator := func(first, last int) int {
		for ; first <= last; first++ {
			if spacetab(buf[first]) || buf[first] == 0 {
				return first
			}
		}
		return -1
	}
	bufEnd := len(buf) - 1
	end := bytes.IndexByte(buf[:], '\n')
	if end < 0 {
		end = nextNonSpacetab(2, bufEnd)
		if end < 0 {
			return l, true, false, "the #! line is all blanks"
		}
		if nextTerminator(end, bufEnd) < 0 {
			return l, true, false, "the #! line's interpreter path is longer than 256 bytes"
		}
		end = bufEnd
	}
	for spacetab(buf[end-1]) { // buf[1] is '!': the loop stops there at the latest
		end--
	}
	name := nextNonSpacetab(2, end)
	if name < 0 || name == end {
		return l, true, false, "empty #! line"
	}
	arg := -1
	sep := nextTerminator(name, end)
	if sep >= 0 && buf[sep] != 0 {
		arg = nextNonSpacetab(sep, end)
	}
	buf[end] = 0
	if arg >= 0 {
		buf[sep] = 0
		l.arg, l.hasArg = cstring(buf[arg:]), true
	}
	l.interp = cstring(buf[name:])
	return l, true, true, ""
}

// cstring is b up to its first NUL.
func cstring(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}
