package kernel

import (
	"bytes"
	"strings"
	"testing"
)

// TestParseShebang: "#!" lines split as Linux's load_script splits them.
func TestParseShebang(t *testing.T) {
	long := "#!/" + strings.Repeat("x", 300)
	for _, c := range []struct {
		in          string
		script, ok  bool
		interp, arg string
		hasArg      bool
	}{
		{in: "", script: false},
		{in: "#", script: false},
		{in: "\x7fELF", script: false},
		{in: "#!/bin/sh\n", script: true, ok: true, interp: "/bin/sh"},
		{in: "#!/bin/sh", script: true, ok: true, interp: "/bin/sh"},
		{in: "#! /bin/cat -n\nline\n", script: true, ok: true, interp: "/bin/cat", arg: "-n", hasArg: true},
		{in: "#!/bin/sh\t-e  \t\n", script: true, ok: true, interp: "/bin/sh", arg: "-e", hasArg: true},
		{in: "#!/usr/bin/env -S a  b\n", script: true, ok: true, interp: "/usr/bin/env", arg: "-S a  b", hasArg: true},
		{in: "#!/bin/sh\r\n", script: true, ok: true, interp: "/bin/sh\r"}, // Linux's "bad interpreter"
		{in: "#!/bin/sh -e\x00junk\n", script: true, ok: true, interp: "/bin/sh", arg: "-e", hasArg: true},
		{in: "#!/bin/sh \x00x\n", script: true, ok: true, interp: "/bin/sh", arg: "", hasArg: true},
		{in: "#!\n", script: true, ok: false},
		{in: "#!   \t\n", script: true, ok: false},
		{in: "#!", script: true, ok: true, interp: ""}, // NUL padding: Linux opens "" (ENOENT)
		{in: long, script: true, ok: false},
		{in: long[:200] + " arg", script: true, ok: true, interp: long[2:200], arg: "arg", hasArg: true},
		{in: "#!/bin/sh " + strings.Repeat("y", 300), script: true, ok: true, interp: "/bin/sh", arg: strings.Repeat("y", 256-11), hasArg: true},
	} {
		l, script, ok, why := parseShebang([]byte(c.in))
		if script != c.script || ok != c.ok || script && ok && (l.interp != c.interp || l.arg != c.arg || l.hasArg != c.hasArg) {
			t.Errorf("parseShebang(%q) = %+v, script %v, ok %v (%s); want interp %q arg %q (%v), script %v, ok %v",
				c.in, l, script, ok, why, c.interp, c.arg, c.hasArg, c.script, c.ok)
		}
	}
}

// FuzzParseShebang: any first bytes of a file give a verdict without a panic, and a
// parsed line holds only what Linux would pass: an interpreter path without blanks, NUL or
// newline, an argument without NUL or newline and without blanks before it, both taken
// from the first 256 bytes.
func FuzzParseShebang(f *testing.F) {
	for _, s := range []string{"#!/bin/sh\n", "#! /bin/cat -n\nx\n", "#!/bin/sh\t-e\r\n", "#!", "#!\n",
		"#!/usr/bin/env -S a b\n", "#!/bin/sh \x00x\n", "#!/" + strings.Repeat("x", 300), "\x7fELF\x02\x01\x01"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, head []byte) {
		l, script, ok, why := parseShebang(head)
		if script != bytes.HasPrefix(head, []byte("#!")) {
			t.Fatalf("script %v for %q", script, head)
		}
		if !ok {
			if script && why == "" {
				t.Fatalf("refused %q without a reason", head)
			}
			return
		}
		if strings.ContainsAny(l.interp, " \t\n\x00") || strings.ContainsAny(l.arg, "\n\x00") {
			t.Fatalf("parseShebang(%q) = %+v", head, l)
		}
		// Blanks at the argument's end stay when a NUL, not a newline, ends the line
		// (Linux trims them only before the newline or the buffer's end).
		if !l.hasArg && l.arg != "" || strings.TrimLeft(l.arg, " \t") != l.arg {
			t.Fatalf("parseShebang(%q) = %+v", head, l)
		}
		first := head[:min(len(head), binprmBufSize)]
		if !bytes.Contains(first, []byte(l.interp)) || !bytes.Contains(first, []byte(l.arg)) {
			t.Fatalf("parseShebang(%q) = %+v: not from the first %d bytes", head, l, binprmBufSize)
		}
		if len(l.interp)+len(l.arg) > binprmBufSize-2 {
			t.Fatalf("parseShebang(%q) = %+v: longer than the line", head, l)
		}
	})
}
