package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
)

// A machine is what a run records about the computer it ran on. Two runs are on the
// same kind of machine when the CPU model and the flags that move golos's figures agree:
//
//   - fsgsbase: with it, golos switches an application's own GS with wrgsbase; without
//     it, with arch_prctl, two more syscalls per crossing;
//   - pti (kernel page-table isolation): every syscall and signal, native or not, pays a
//     page-table switch (about 1 µs a syscall on a machine without pcid);
//   - pcid: lets the kernel keep the TLB across that switch.
//
// The kernel release, core count and memory are recorded but do not make a new kind. A
// flag that an old run did not record is "" and agrees with either value.
type machine struct {
	Model    string `json:"model"`
	FSGSBase string `json:"fsgsbase"` // "yes", "no", or "" when not recorded
	PTI      string `json:"pti"`
	PCID     string `json:"pcid"`
	Kernel   string `json:"kernel"`
	Cores    int    `json:"cores"`
	Memory   string `json:"memory,omitempty"`
	Date     string `json:"date"` // of the run, "2006-01-02 15:04 UTC"
	// Note says how a flag the run did not record is known, if it is.
	Note string `json:"note,omitempty"`
}

// thisMachine reads the machine golos-bench runs on from /proc and /sys.
func thisMachine() machine {
	m := machine{Model: "unknown CPU", Kernel: "unknown", Cores: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	cpuinfo, _ := os.ReadFile("/proc/cpuinfo")
	meltdown, _ := os.ReadFile("/sys/devices/system/cpu/vulnerabilities/meltdown")
	m.setCPU(string(cpuinfo), string(meltdown))
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kib float64
		if _, err := fmt.Sscanf(procField(string(b), "MemTotal", ""), "%f kB", &kib); err == nil {
			m.Memory = fmt.Sprintf("%.0f GiB", kib/(1<<20))
		}
	}
	return m
}

// setCPU takes the model and flags from /proc/cpuinfo's first CPU. PTI shows as the flag
// "pti" when the kernel turned it on; the meltdown vulnerability file says so too.
func (m *machine) setCPU(cpuinfo, meltdown string) {
	m.Model = procField(cpuinfo, "model name", m.Model)
	flags := strings.Fields(procField(cpuinfo, "flags", ""))
	if len(flags) == 0 {
		return // not recorded
	}
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	m.FSGSBase = yes(slices.Contains(flags, "fsgsbase"))
	m.PCID = yes(slices.Contains(flags, "pcid"))
	m.PTI = yes(slices.Contains(flags, "pti") || strings.Contains(meltdown, "PTI"))
}

// sameKind reports whether a run on m replaces the section of o.
func (m machine) sameKind(o machine) bool {
	agree := func(a, b string) bool { return a == b || a == "" || b == "" }
	return m.Model == o.Model && agree(m.FSGSBase, o.FSGSBase) && agree(m.PTI, o.PTI) && agree(m.PCID, o.PCID)
}

// flagText names the flags: "fsgsbase, pcid, no PTI".
func (m machine) flagText() string {
	var out []string
	for _, f := range []struct{ name, v string }{{"fsgsbase", m.FSGSBase}, {"pcid", m.PCID}, {"PTI", m.PTI}} {
		switch f.v {
		case "yes":
			out = append(out, f.name)
		case "no":
			out = append(out, "no "+f.name)
		default:
			out = append(out, f.name+" not recorded")
		}
	}
	return strings.Join(out, ", ")
}

// title is the machine kind as a heading: "AMD EPYC (fsgsbase, pcid, no PTI)".
func (m machine) title() string { return m.Model + " (" + m.flagText() + ")" }

// describe is the machine in one line, for the run's facts and the chart.
func (m machine) describe() string {
	s := fmt.Sprintf("%s; Linux %s, %d CPUs", m.title(), m.Kernel, m.Cores)
	if m.Memory != "" {
		s += ", " + m.Memory
	}
	return s
}

// A section is one machine's part of the report: the facts of its last run, its table
// and its errors, as Markdown. In the file it lies between a start marker, which holds
// the machine as JSON, and an end marker, so that a later run can find and keep it.
type section struct {
	m    machine
	body string // the Markdown between the markers, without them
}

const (
	sectionStart = "<!-- golos-bench machine "
	sectionEnd   = "<!-- golos-bench end -->"
)

func (s section) String() string {
	j, _ := json.Marshal(s.m)
	// "--" may not appear inside an HTML comment.
	js := strings.ReplaceAll(string(j), "--", `-\u002d`)
	return sectionStart + js + " -->\n" + strings.Trim(s.body, "\n") + "\n" + sectionEnd + "\n"
}

// parseSections finds the machine sections of a report written before. A start marker
// whose JSON does not parse, or that has no end, is an error: the file was edited by
// hand, and rewriting it would lose a run.
func parseSections(doc string) ([]section, error) {
	var out []section
	lines := strings.Split(doc, "\n")
	for i := 0; i < len(lines); i++ {
		rest, ok := strings.CutPrefix(lines[i], sectionStart)
		if !ok {
			continue
		}
		js, ok := strings.CutSuffix(strings.TrimSpace(rest), "-->")
		var s section
		if err := json.Unmarshal([]byte(js), &s.m); !ok || err != nil || s.m.Model == "" {
			return nil, fmt.Errorf("line %d: a machine marker that does not parse: %s", i+1, shorten(lines[i], 80))
		}
		j := i + 1
		for j < len(lines) && lines[j] != sectionEnd {
			if strings.HasPrefix(lines[j], sectionStart) {
				return nil, fmt.Errorf("line %d: a machine section without its end marker", i+1)
			}
			j++
		}
		if j == len(lines) {
			return nil, fmt.Errorf("line %d: a machine section without its end marker", i+1)
		}
		s.body = strings.Join(lines[i+1:j], "\n")
		out = append(out, s)
		i = j
	}
	return out, nil
}

// mergeSections puts the new run's section in place of the section of its kind of
// machine, if there is one, and keeps every other; the newest run comes first.
func mergeSections(old []section, cur section) []section {
	out := []section{cur}
	for _, s := range old {
		if !s.m.sameKind(cur.m) {
			out = append(out, s)
		}
	}
	slices.SortStableFunc(out[1:], func(a, b section) int { return strings.Compare(b.m.Date, a.m.Date) })
	return out
}

// resultRow is a row of a section's results table, as far as the comparison of
// machines needs it.
type resultRow struct {
	name, ratio, target string
}

// parseResults reads the results table of a section's body: the first Markdown table
// whose header has the columns "workload" and "golos/native".
func parseResults(body string) []resultRow {
	var rows []resultRow
	var col map[string]int // the current table's columns; nil outside a table
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, "|") {
			if len(rows) > 0 {
				break // the results table ended
			}
			col = nil
			continue
		}
		cells := splitRow(line)
		if col == nil {
			col = map[string]int{}
			for i, c := range cells {
				col[c] = i
			}
			continue
		}
		_, ok1 := col["workload"]
		_, ok2 := col["golos/native"]
		if !ok1 || !ok2 || strings.HasPrefix(cells[0], "---") {
			continue // another table, or the alignment row
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(cells) {
				return cells[i]
			}
			return ""
		}
		rows = append(rows, resultRow{name: get("workload"), ratio: get("golos/native"), target: get("target (golos)")})
	}
	return rows
}

// splitRow splits a Markdown table row into its cells, unescaping "\|".
func splitRow(line string) []string {
	line = strings.TrimSpace(line)
	line = strings.TrimPrefix(line, "|")
	if strings.HasSuffix(line, "|") && !strings.HasSuffix(line, `\|`) {
		line = line[:len(line)-1]
	}
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cur.WriteByte('|')
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// machinesTables are the two tables above the sections: the machines, and golos/native
// of every workload on each of them, side by side.
func machinesTables(secs []section) string {
	var b strings.Builder
	header := []string{"machine"}
	for _, s := range secs {
		header = append(header, s.m.title())
	}
	facts := [][]string{
		{"last run"}, {"kernel"}, {"CPUs"}, {"memory"},
	}
	for _, s := range secs {
		facts[0] = append(facts[0], s.m.Date)
		facts[1] = append(facts[1], "Linux "+s.m.Kernel)
		facts[2] = append(facts[2], fmt.Sprint(s.m.Cores))
		facts[3] = append(facts[3], orDash(s.m.Memory))
	}
	writeTable(&b, header, facts)
	var notes []string
	for _, s := range secs {
		if s.m.Note != "" {
			notes = append(notes, s.m.title()+": "+s.m.Note)
		}
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}

	// golos/native, by workload name in the order the sections list them.
	var names []string
	cells := map[string][]string{}
	for i, s := range secs {
		for _, r := range parseResults(s.body) {
			if cells[r.name] == nil {
				names = append(names, r.name)
				cells[r.name] = slices.Repeat([]string{"–"}, len(secs))
			}
			c := r.ratio
			if strings.Contains(r.target, "MISSED") {
				c += " (a target missed)"
			}
			cells[r.name][i] = c
		}
	}
	if len(names) == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "\n### golos/native on each machine\n\n")
	header[0] = "workload"
	var rows [][]string
	for _, n := range names {
		rows = append(rows, append([]string{n}, cells[n]...))
	}
	writeTable(&b, header, rows)
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// writeTable writes a Markdown table whose first column is text and the others values.
func writeTable(b *strings.Builder, header []string, rows [][]string) {
	line := func(cells []string) {
		esc := make([]string, len(cells))
		for i, c := range cells {
			esc[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		fmt.Fprintf(b, "| %s |\n", strings.Join(esc, " | "))
	}
	line(header)
	align := slices.Repeat([]string{"---:"}, len(header))
	align[0] = "---"
	line(align)
	for _, r := range rows {
		line(r)
	}
}
