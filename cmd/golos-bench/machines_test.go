package main

import (
	"os"
	"strings"
	"testing"
)

const cpuinfoEPYC = `processor	: 0
vendor_id	: AuthenticAMD
model name	: AMD EPYC
flags		: fpu vme pcid sse4_1 fsgsbase tsc_adjust
bugs		: sysret_ss_attrs

processor	: 1
model name	: AMD EPYC
flags		: fpu vme
`

func TestSetCPU(t *testing.T) {
	var m machine
	m.setCPU(cpuinfoEPYC, "Not affected\n")
	if m.Model != "AMD EPYC" || m.FSGSBase != "yes" || m.PCID != "yes" || m.PTI != "no" {
		t.Errorf("EPYC: %+v", m)
	}
	m = machine{}
	m.setCPU("model name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu pti\n", "")
	if m.FSGSBase != "no" || m.PCID != "no" || m.PTI != "yes" {
		t.Errorf("pti flag: %+v", m)
	}
	m = machine{}
	m.setCPU("model name\t: X\nflags\t\t: fpu pcid\n", "Mitigation: PTI\n")
	if m.PTI != "yes" || m.PCID != "yes" {
		t.Errorf("PTI from the meltdown file: %+v", m)
	}
	m = machine{Model: "unknown CPU"}
	m.setCPU("", "")
	if m.Model != "unknown CPU" || m.FSGSBase != "" || m.PTI != "" || m.PCID != "" {
		t.Errorf("no cpuinfo: %+v", m)
	}
	if got, want := (machine{Model: "AMD EPYC", FSGSBase: "yes", PCID: "yes", PTI: "no"}).title(),
		"AMD EPYC (fsgsbase, pcid, no PTI)"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
}

func TestSameKind(t *testing.T) {
	epyc := machine{Model: "AMD EPYC", FSGSBase: "yes", PTI: "no", PCID: "yes", Kernel: "6.18.1", Cores: 2}
	for _, c := range []struct {
		o    machine
		same bool
	}{
		{machine{Model: "AMD EPYC", FSGSBase: "yes", PTI: "no", PCID: "yes", Kernel: "6.19", Cores: 8}, true},
		{machine{Model: "AMD EPYC", FSGSBase: "no", PTI: "yes", PCID: "yes"}, false},
		{machine{Model: "AMD EPYC", FSGSBase: "yes", PTI: "no", PCID: "no"}, false},
		{machine{Model: "AMD EPYC", FSGSBase: "yes", PTI: "no"}, true}, // pcid not recorded
		{machine{Model: "Intel(R) Xeon(R) Processor", FSGSBase: "yes", PTI: "no", PCID: "yes"}, false},
	} {
		if got := epyc.sameKind(c.o); got != c.same || c.o.sameKind(epyc) != c.same {
			t.Errorf("sameKind(%+v) = %v, want %v", c.o, got, c.same)
		}
	}
}

func TestSectionRoundTrip(t *testing.T) {
	in := []section{
		{m: machine{Model: "AMD EPYC", FSGSBase: "no", PTI: "yes", PCID: "no", Kernel: "6.18", Cores: 2,
			Date: "2026-12-06 10:00 UTC", Note: "odd -- text <b>"}, body: "## AMD EPYC\n\n### Results\n\n| a |\n"},
		{m: machine{Model: "Intel(R) Xeon(R) Processor", FSGSBase: "yes", Date: "2026-11-26 11:08 UTC"}, body: "## Xeon"},
	}
	doc := "# title\n\nintro\n\n" + in[0].String() + "\ntext between\n\n" + in[1].String() + "\n## Notes\n"
	if strings.Count(doc, "--") != 2*strings.Count(doc, "<!--") {
		t.Errorf("a marker holds \"--\" inside its comment:\n%s", doc)
	}
	out, err := parseSections(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 {
		t.Fatalf("parsed %d sections, want 2:\n%s", len(out), doc)
	}
	for i := range in {
		if out[i].m != in[i].m || strings.Trim(out[i].body, "\n") != strings.Trim(in[i].body, "\n") {
			t.Errorf("section %d: got %+v %q\nwant %+v %q", i, out[i].m, out[i].body, in[i].m, in[i].body)
		}
	}
	for _, bad := range []string{
		sectionStart + "{not json -->\nbody\n" + sectionEnd + "\n",
		sectionStart + `{"model":"X"} -->` + "\nbody without an end\n",
		sectionStart + `{"model":"X"} -->` + "\n" + sectionStart + `{"model":"Y"} -->` + "\n" + sectionEnd + "\n",
	} {
		if _, err := parseSections(bad); err == nil {
			t.Errorf("parseSections(%q) gave no error", bad)
		}
	}
}

func TestMergeSections(t *testing.T) {
	xeon := section{m: machine{Model: "Xeon", FSGSBase: "yes", PTI: "no", Date: "2026-11-26 11:08 UTC"}, body: "xeon"}
	epycOld := section{m: machine{Model: "EPYC", FSGSBase: "yes", PTI: "no", PCID: "yes", Date: "2026-12-01 00:00 UTC"}, body: "epyc old"}
	epycNoFS := section{m: machine{Model: "EPYC", FSGSBase: "no", PTI: "yes", PCID: "no", Date: "2026-12-06 00:00 UTC"}, body: "epyc pti"}
	cur := section{m: machine{Model: "EPYC", FSGSBase: "yes", PTI: "no", PCID: "yes", Date: "2026-12-07 00:00 UTC"}, body: "epyc new"}
	got := mergeSections([]section{xeon, epycOld, epycNoFS}, cur)
	var bodies []string
	for _, s := range got {
		bodies = append(bodies, s.body)
	}
	if want := "epyc new,epyc pti,xeon"; strings.Join(bodies, ",") != want {
		t.Errorf("merged: %s, want %s", strings.Join(bodies, ","), want)
	}
}

func TestParseResults(t *testing.T) {
	body := "### Run\n\n- x\n\n| other | table |\n| --- | --- |\n| a | b |\n\n### Results\n\n" +
		"| workload | unit | golos/native | target (golos) |\n| --- | --- | ---: | --- |\n" +
		"| hello \\| world | ms | 4.06× | under 5 ms: met |\n| tar | ms | 1.30× | ≤ 1.2× native: MISSED (1.300×) |\n\n| x | y |\n"
	rows := parseResults(body)
	if len(rows) != 2 || rows[0] != (resultRow{"hello | world", "4.06×", "under 5 ms: met"}) || rows[1].ratio != "1.30×" {
		t.Errorf("parseResults = %q", rows)
	}
}

// TestDocumentKeepsOtherMachines writes a report over one that holds two machines'
// sections, one of them this run's kind: that one is replaced, the other kept as it was.
func TestDocumentKeepsOtherMachines(t *testing.T) {
	s := fakeSuite()
	other := section{m: machine{Model: "Other CPU", FSGSBase: "no", PTI: "yes", PCID: "no", Kernel: "6.1", Cores: 4,
		Date: "2026-11-01 00:00 UTC"}, body: "## Other CPU\n\n### Results\n\n| workload | golos/native | target (golos) |\n| --- | ---: | --- |\n| a <workload> & more | 9.99× | x: MISSED (9×) |\n| only there | 1.00× | – |"}
	mine := section{m: s.machine, body: "## Test CPU\n\nthe previous run on this kind"}
	mine.m.Date = "2026-10-01 00:00 UTC"
	old, err := parseSections("# golos performance\n\n" + mine.String() + "\n" + other.String())
	if err != nil {
		t.Fatal(err)
	}
	doc := document(s, old, "performance.svg", "## Where golos's time goes\n\nanalysis\n")
	secs, err := parseSections(doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) != 2 || secs[0].m != s.machine || secs[1].m != other.m || secs[1].body != other.body {
		t.Fatalf("sections after writing: %+v\n%s", secs, doc)
	}
	if strings.Contains(doc, "the previous run on this kind") {
		t.Error("the old section of this run's machine kind was kept")
	}
	for _, want := range []string{
		"| workload | Test CPU (fsgsbase, pcid, no PTI) | Other CPU (no fsgsbase, no pcid, PTI) |",
		"| a <workload> & more | 1.50× (a target missed) | 9.99× (a target missed) |",
		"| only there | – | 1.00× |",
		"### Results", "## Notes", "analysis\n",
		"The chart shows the newest run: Test CPU (fsgsbase, pcid, no PTI), 2026-11-26 00:00 UTC.",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the report lacks %q:\n%s", want, doc)
		}
	}
}

// TestCommittedReport: docs/performance.md, as committed, is a report the next -write can
// read: every machine's section parses and has its results table.
func TestCommittedReport(t *testing.T) {
	b, err := os.ReadFile("../../docs/performance.md")
	if err != nil {
		t.Skip(err)
	}
	secs, err := parseSections(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(secs) == 0 {
		t.Fatal("docs/performance.md has no machine section")
	}
	for _, s := range secs {
		if len(parseResults(s.body)) == 0 {
			t.Errorf("the section of %s has no results table", s.m.title())
		}
		if s.m.Date == "" || s.m.Kernel == "" || s.m.Cores == 0 {
			t.Errorf("the section of %s lacks facts: %+v", s.m.title(), s.m)
		}
	}
}
