package main

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report prints the facts of the run, the table, every error in full and the notes that
// say what each number is. md selects Markdown.
func report(w io.Writer, s *suite, md bool) {
	runReport(w, s, md, "## ")
	writeList(w, md, "## ", "Notes:", notes(s))
}

// runReport prints what belongs to this run on this machine: its facts, the table and
// the errors. heading is the Markdown heading's prefix ("## ", "### ").
func runReport(w io.Writer, s *suite, md bool, heading string) {
	header := []string{"workload", "unit", "runs", "native", "golos", "gVisor", "golos/native", "gVisor/native", "target (golos)"}
	var rows [][]string
	for _, wl := range s.work {
		res := s.results[wl.id]
		unit := "ms"
		switch wl.unit {
		case "ns":
			unit = "ns/call"
		case "us":
			unit = "µs/req"
		}
		rows = append(rows, []string{wl.name, unit, fmt.Sprint(s.runs[wl.id]),
			cell(res[native]), cell(res[golos]), cell(res[gvisor]),
			ratio(res[golos], res[native]), ratio(res[gvisor], res[native]), targets(s, wl)})
	}
	writeList(w, md, heading, "Run:", facts(s, md))
	if md {
		fmt.Fprintf(w, "%sResults\n\n", heading)
		writeMarkdown(w, header, rows)
	} else {
		writeText(w, header, rows)
	}
	fmt.Fprintln(w)
	if errs := errorList(s); len(errs) > 0 {
		writeList(w, md, heading, "Errors, in full:", errs)
	}
	var notRun []string
	for _, wl := range s.work {
		if why := s.skipped[wl.id]; why != "" {
			notRun = append(notRun, wl.name+": not run: "+why)
		}
	}
	if len(notRun) > 0 {
		writeList(w, md, heading, "Rows not run:", notRun)
	}
}

// writeList prints a titled list, as Markdown under a heading or as indented text.
func writeList(w io.Writer, md bool, heading, title string, items []string) {
	if md {
		fmt.Fprintf(w, "%s%s\n\n", heading, strings.TrimSuffix(title, ":"))
	} else {
		fmt.Fprintln(w, title)
	}
	for _, it := range items {
		if md {
			fmt.Fprintln(w, "- "+it)
		} else {
			fmt.Fprintln(w, "  "+it)
		}
	}
	fmt.Fprintln(w)
}

func facts(s *suite, md bool) []string {
	code := func(t string) string {
		if md {
			return "`" + t + "`"
		}
		return t
	}
	g, v := s.sides[golos], s.sides[gvisor]
	golosText := "built from this tree by cmd/golos-build, run as " + code("golos run PROG ARGS")
	if len(s.cfg.golos) > 0 {
		golosText = code(strings.Join(g.prefix, " ") + " PROG ARGS")
	}
	if g.version != "" {
		golosText += " (" + g.version + ")"
	}
	gvisorText := code(strings.Join(v.prefix, " ")+" PROG ARGS") + ", " + v.version
	switch {
	case v.skip:
		gvisorText = "not run (-gvisor=false)"
	case v.err != nil:
		gvisorText = code(strings.Join(v.prefix, " ")) + " does not work here: " + v.err.Error()
	}
	return []string{
		"date: " + s.when.UTC().Format("2006-01-02 15:04 MST"),
		"machine: " + s.machine.describe(),
		fmt.Sprintf("load average (1 min): %s at the start, %s at the end; other work on the machine shows in the numbers", s.load, loadAverage()),
		"commit: " + commitInfo(),
		"command: " + code(s.cfg.command) + fmt.Sprintf(" (took %s)", s.elapsed.Round(time.Second)),
		"golos: " + golosText,
		"gVisor: " + gvisorText,
		"compilers: " + strings.TrimSpace(strings.SplitN(commandOutput("gcc", "--version"), "\n", 2)[0]) + "; Go " + runtime.Version(),
	}
}

func notes(s *suite) []string {
	return []string{
		"Every value is a median. Each side runs once untimed (cold caches), then the timed runs alternate between the sides (native, golos, gVisor, native, …) so that drift in the machine's load hits all alike. golos/native and gVisor/native are ratios of medians: lower is better, below 1 is faster than native.",
		"start to exit (ms): wall time around Go's exec.Cmd.Run (fork, exec, the whole run, wait); the output is checked. Under gVisor this includes creating and tearing down the sandbox, which `runsc do` does for every program.",
		"The other rows are timed by the program itself, so the start of golos or gVisor is not in them: ns/call loops time N calls with clock_gettime(CLOCK_MONOTONIC) after N/10 untimed ones; ms jobs time the job. Every program checks its own results and fails loudly (an ERROR cell) rather than report a number for broken work.",
		"C workloads (bench/*.c) are static glibc binaries built with gcc -O2, except the dynamic hello (gcc's default: dynamic PIE, through ld-linux). The Go programs are bench/goprog and bench/gohello (CGO_ENABLED=0). python3 is /usr/bin/python3, so that the row times Python itself rather than a pyenv shim, a shell script that execs Python (golos runs that too, the execve in a new golos process, but the row would then time two starts).",
		"static hello's targets are ratios that hold on any machine: golos is itself a CGO_ENABLED=0 Go program, so its start to exit with a static C hello is judged against a native Go hello's (≤ 1.3×), and against gVisor's (≥ 20× faster); a target whose side did not run says so and is not judged.",
		"getppid with the program's own GS: gs_getppid sets its GS base with arch_prctl(ARCH_SET_GS), then makes the getppid row's calls, checking %gs:8 after each. While a thread of the process has its own GS, golos's rewritten sites hand the call to Syscall User Dispatch, so each call is a trapped syscall plus golos's GS switches: with wrgsbase where the CPU has FSGSBASE (the default row, judged against golos's --no-rewrite getppid, itself trapped), with arch_prctl, two more syscalls a crossing, under --no-fsgsbase or without FSGSBASE (judged against the SUD floor).",
		"getppid: libc's syscall(SYS_getppid), which golos passes through to the host. golos rewrites that site (in libc's syscall(3)) into a jump into golos, so the row is judged by the target for rewritten sites; the --no-rewrite row runs the same program with every site left to Syscall User Dispatch. arch_prctl: ARCH_SET_FS to FS's own value through an inline syscall instruction; golos rewrites that site as one of several instructions (the one before the syscall is too short to hold the jump) and, FS being the application's alone, makes the call straight from its entry code. golos run --stats shows how many calls went through rewritten sites.",
		"Syscall User Dispatch floor: natively, a getppid trapped by SUD whose SIGSYS handler makes the real call; no SUD-based interceptor can be faster. clock_gettime: libc's, which reads the clock in the vDSO (no syscall) when the process has one.",
		"first touch: mmap of fresh anonymous memory, one byte written per 4 KiB page (transparent huge pages: " + thpMode() + "). threads: pthread_create + pthread_join, one thread at a time. futex: two threads take turns on one word with FUTEX_WAIT/FUTEX_WAKE (private); a round trip is two wake-ups. SHA-256: plain C (FIPS 180-4, checked against test vectors) over data generated with xorshift64.",
		"Processes. bash -c: `for i in $(seq 200); do /bin/true; done`: 201 forks (200 for /bin/true, one for $(seq 200)), each followed by an execve, and their waits. fork + _exit + waitpid (bench/fork64.c): malloc of 64 MiB, every page written, then rounds of fork, a child that calls _exit(0) at once, and waitpid, timed after N/10 + 1 untimed ones; the value is one round. Natively a fork copies the page tables and shares the pages copy-on-write; under golos the child is a new golos process, sent the parent's state and its private pages. make: `make -s -B -j2` of a project golos-bench writes into its work directory (five C files and a header, gcc -O2 -c each, then a link), so gcc, cc1, as and collect2/ld run under golos too, each execve a new golos. python3 subprocess.run([\"true\"]): Python's start and one vfork + execve of true (found through PATH) and its wait.",
		fmt.Sprintf("Servers (µs/req): the server runs natively or under golos (one golos process per server process: nginx's worker is a fork), listening on 127.0.0.1 only, and its benchmark client runs natively in the same run, so the client's cost is in both sides alike; the value is the client's time per request (its total time over its requests), so that lower is better as elsewhere, and a throughput of 0.95× native is 1.053× here. Each run starts a fresh server on a free port in a new directory and stops it with SIGTERM afterwards. redis: redis-server without persistence, redis-benchmark -q -t set,get -n %d (50 connections). nginx: one worker, access log off, a %d-byte static page, ab -n %d -c %d, every response checked (200, the page's length). memcached: -t 2, memcslap --test=set then --test=get, %d threads × %d each. Server and client share the machine's cores with each other and with whatever else runs, so these rows are noisier than the others and take 9 runs a side (a run of 5 moved redis's ratio by ±5%%); a tool that is not installed skips its row, named under \"Rows not run\".",
			redisRequests, len(nginxPage), abRequests, abConcurrency, memcslapConc, memcslapRuns),
		"sendmsg: bench/sendmsg.c, one thread, a sendmsg of 64 bytes without control data on one end and the recvmsg that reads it on the other, per round, on an AF_UNIX datagram socket pair or two UDP sockets on 127.0.0.1. golos makes a sendmsg without control data from its entry code, as read and write; only a message with control data (SCM_RIGHTS may name golos's own descriptors) goes to golos's Go code.",
		"tar: GNU tar sees that the archive is /dev/null and does not read file contents, so this is a tree walk (newfstatat on each entry, getdents64, openat of directories): about 25,000 syscalls over /usr/include here.",
		"gVisor: rootless `runsc do` with the platform of -platform (default ptrace, which works here). Debian 12's runsc (release 20221219) has no systrap platform (\"unknown platform: systrap\"); its kvm platform did not start /bin/true within 20 s on the nested KVM of the machine of the first run.",
		"podman rows: the whole `podman --runtime R run --rm --network=none` of an image holding only the static hello (podman import), with runc and with golos-oci, both in the native column (golos-bench runs podman itself; golos runs inside golos-oci's container), one row after the other rather than interleaved; the target is the golos-oci row's median over the runc row's. podman, conmon and the image's storage dominate both. runsc behind podman is not measured: the gVisor column is `runsc do`.",
		"clock_gettime under gVisor: the first calls in a new sandbox are far slower than later ones (here 200,000 calls averaged about 3.4 µs each, 2,000,000 calls about 36 ns), so that cell depends on the iteration count.",
	}
}

// errorList names every failure once: a side that cannot run at all, then each
// workload's own.
func errorList(s *suite) []string {
	var errs []string
	for _, sd := range s.sides {
		if sd.err != nil {
			errs = append(errs, fmt.Sprintf("%s, every workload: %v", sd.name, sd.err))
		}
	}
	for _, wl := range s.work {
		for i, r := range s.results[wl.id] {
			if r.err != nil && r.err != s.sides[i].err {
				errs = append(errs, fmt.Sprintf("%s, %s: %v", wl.name, sideNames[i], r.err))
			}
		}
	}
	return errs
}

func targets(s *suite, wl workload) string {
	var out []string
	for _, t := range wl.targets {
		if t.needs == "fsgsbase" && s.machine.FSGSBase == "no" {
			out = append(out, t.goal+": not judged (no fsgsbase here: the default way is arch_prctl's, judged in the --no-fsgsbase row)")
			continue
		}
		v, met, ok := t.judge(s.median)
		switch {
		case !ok:
			out = append(out, t.goal+": not judged ("+s.missing(t)+")")
		case met:
			out = append(out, t.goal+": met ("+v+")")
		default:
			out = append(out, t.goal+": MISSED ("+v+")")
		}
	}
	if len(out) == 0 {
		return "–"
	}
	return strings.Join(out, "; ")
}

func cell(r result) string {
	switch {
	case r.skipped:
		return "not run"
	case r.err != nil:
		return "ERROR: " + shorten(r.err.Error(), 40)
	}
	m, _ := r.median()
	return formatValue(m)
}

func ratio(r, base result) string {
	a, ok1 := r.median()
	b, ok2 := base.median()
	if !ok1 || !ok2 {
		return "–"
	}
	return formatRatio(a / b)
}

// formatValue keeps three significant digits, or all the integer digits.
func formatValue(v float64) string {
	switch {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func formatRatio(v float64) string { return formatValue(v) + "×" }

func writeText(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range append([][]string{header}, rows...) {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func writeMarkdown(w io.Writer, header []string, rows [][]string) {
	line := func(cells []string) {
		esc := make([]string, len(cells))
		for i, c := range cells {
			esc[i] = strings.ReplaceAll(c, "|", `\|`)
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(esc, " | "))
	}
	line(header)
	align := make([]string, len(header))
	for i := range align {
		align[i] = "---:" // numbers right-aligned
	}
	align[0], align[1], align[len(align)-1] = "---", "---", "---"
	line(align)
	for _, r := range rows {
		line(r)
	}
}

// writeFiles writes the report as Markdown to path and the chart beside it. The file
// keeps the last run on each kind of machine (see machine): the sections of other kinds
// that an earlier run wrote are carried over as they are, and this run's section takes
// the place of its own kind's. The chart shows this run.
func writeFiles(path string, s *suite) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var old []section
	if prev, err := os.ReadFile(path); err == nil {
		if old, err = parseSections(string(prev)); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if len(old) == 0 && bytes.Contains(prev, []byte("## Results")) {
			return fmt.Errorf("%s holds results outside any machine section (an older layout); put them in their machine's section by hand, or move the file away, so that writing it loses no run", path)
		}
	} else if !os.IsNotExist(err) {
		return err
	}
	// What stands in the way of the targets missed is written by hand beside the report,
	// from measurements, and carried into it.
	analysis, _ := os.ReadFile(filepath.Join(filepath.Dir(path), "performance-analysis.md"))
	doc := document(s, old, filepath.Base(svgPath(path)), string(analysis))
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		return err
	}
	return os.WriteFile(svgPath(path), []byte(chart(s)), 0o644)
}

// document is the whole Markdown report: this run's section merged with the old ones,
// the tables that put the machines side by side, the notes and the analysis.
func document(s *suite, old []section, svg, analysis string) string {
	var run bytes.Buffer
	fmt.Fprintf(&run, "## %s\n\n", s.machine.title())
	runReport(&run, s, true, "### ")
	secs := mergeSections(old, section{m: s.machine, body: run.String()})

	var b bytes.Buffer
	fmt.Fprintf(&b, "# golos performance\n\n")
	fmt.Fprintf(&b, "Written by `go run ./cmd/golos-bench -write`: each workload natively, under golos and under gVisor. "+
		"The file keeps the last run on each kind of machine the command has run on, a kind being the CPU model and the flags that move the figures "+
		"(fsgsbase: how golos switches an application's own GS; PTI: what every syscall costs, natively too; pcid: what PTI costs); "+
		"a new run replaces the section of its own kind and keeps the others. Run it again rather than edit this file.\n\n")
	fmt.Fprintf(&b, "![Time under golos and gVisor relative to native, per workload](%s)\n\n", svg)
	fmt.Fprintf(&b, "The chart shows the newest run: %s, %s.\n\n", s.machine.title(), s.machine.Date)
	fmt.Fprintf(&b, "## Machines\n\n%s\n", machinesTables(secs))
	for _, sec := range secs {
		fmt.Fprintf(&b, "%s\n", sec)
	}
	writeList(&b, true, "## ", "Notes:", notes(s))
	if analysis != "" {
		fmt.Fprintf(&b, "%s\n", strings.Trim(analysis, "\n"))
	}
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func svgPath(md string) string { return strings.TrimSuffix(md, ".md") + ".svg" }

// chart draws grouped horizontal bars: per workload, the golos/native and gVisor/native
// ratios on a log scale, each bar starting at 1× (native), so a bar to the left is
// faster than native. A failed side is named in red where its bar would be; a ratio
// target of the issue is a black tick across the golos bar.
func chart(s *suite) string {
	const (
		width, labelW, right = 980, 370, 80
		top, group, bar      = 92, 40, 13
		x0, x1               = labelW + 10, width - right
	)
	colors := map[int]string{golos: "#2b6cb0", gvisor: "#dd6b20"}
	var work []workload
	lo, hi := 1.0, 10.0
	for _, wl := range s.work {
		if wl.only != nil && !slices.Contains(wl.only, golos) {
			continue
		}
		work = append(work, wl)
		for _, i := range []int{golos, gvisor} {
			if r, ok := s.median(ref{wl.id, i}); ok {
				if n, ok := s.median(ref{wl.id, native}); ok {
					lo, hi = math.Min(lo, r/n), math.Max(hi, r/n)
				}
			}
		}
	}
	// The scale reaches a little past the extremes, leaving room for the value labels.
	lo, hi = math.Min(lo/2, 0.5), hi*2.5
	x := func(v float64) float64 {
		return x0 + (math.Log10(v)-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))*(x1-x0)
	}
	bottom := top + group*len(work)
	height := bottom + 60

	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	text := func(xx, y float64, anchor, attrs, t string) {
		p(`<text x="%.1f" y="%.1f" text-anchor="%s"%s>%s</text>`, xx, y, anchor, attrs, html.EscapeString(t))
	}
	p(`<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="DejaVu Sans, Verdana, sans-serif" font-size="13">`, width, height, width, height)
	p(`<rect width="100%%" height="100%%" fill="white"/>`)
	text(width/2, 24, "middle", ` font-size="16" font-weight="bold"`, "Time under golos and gVisor, relative to native (median; log scale; lower is better)")
	text(width/2, 44, "middle", ` fill="#555"`, s.when.UTC().Format("2006-01-02")+" · "+s.machine.describe())
	lx := float64(x0)
	for _, i := range []int{golos, gvisor} {
		p(`<rect x="%.1f" y="56" width="14" height="12" fill="%s"/>`, lx, colors[i])
		name := "golos"
		if i == gvisor {
			name = "gVisor (runsc, " + s.cfg.platform + ")"
		}
		text(lx+20, 67, "start", "", name)
		lx += 60 + 8*float64(len(name))
	}
	p(`<line x1="%.1f" y1="55" x2="%.1f" y2="69" stroke="black" stroke-width="2"/>`, lx+7, lx+7)
	text(lx+20, 67, "start", "", "golos target")

	for i, wl := range work {
		y := float64(top + group*i)
		if i%2 == 0 {
			p(`<rect x="0" y="%.1f" width="%d" height="%d" fill="#f3f4f6"/>`, y, width, group)
		}
		text(labelW, y+group/2+5, "end", "", wl.name)
	}
	for d := math.Pow(10, math.Floor(math.Log10(lo))); d <= hi; d *= 10 {
		for _, m := range []float64{1, 2, 5} {
			v := d * m
			if v < lo || v > hi {
				continue
			}
			stroke := "#d0d4da"
			if v == 1 {
				stroke = "#333"
			}
			p(`<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`, x(v), top-6, x(v), bottom, stroke)
			if m == 1 || v == 0.5 || math.Log10(hi/lo) <= 3 {
				text(x(v), float64(bottom+18), "middle", "", trimZeros(v)+"×")
			}
		}
	}
	text((x0+x1)/2, float64(bottom+42), "middle", ` fill="#555"`, "time ÷ native time (1× = native; bars to the left of it are faster than native)")

	for i, wl := range work {
		y := float64(top + group*i)
		tick := 0.0 // right end of the target ticks on the golos bar
		for _, t := range wl.targets {
			if t.num.side == golos && t.den == (ref{wl.id, native}) {
				tick = math.Max(tick, x(t.limit))
				p(`<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black" stroke-width="2"/>`, x(t.limit), y+3, x(t.limit), y+6+bar+3)
			}
		}
		for j, sd := range []int{golos, gvisor} {
			by := y + 6 + float64(j*(bar+2))
			ty := by + bar - 2
			r, n := s.results[wl.id][sd], s.results[wl.id][native]
			v, ok1 := r.median()
			nv, ok2 := n.median()
			switch {
			case ok1 && ok2:
				v /= nv
				a, c := math.Min(x(1), x(v)), math.Max(x(1), x(v))
				p(`<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s"/>`, a, by, math.Max(c-a, 1), bar, colors[sd])
				if sd == golos {
					c = math.Max(c, tick+1)
				}
				if v >= 1 {
					text(c+4, ty, "start", "", formatRatio(v))
				} else {
					text(a-4, ty, "end", "", formatRatio(v))
				}
			case r.skipped:
				text(x(1)+4, ty, "start", ` fill="#777"`, sideNames[sd]+": not run")
			default:
				err := r.err
				if err == nil {
					err = n.err
				}
				text(math.Max(x(1), tick)+4, ty, "start", ` fill="#c53030"`, sideNames[sd]+" failed: "+shorten(fmt.Sprint(err), 60))
			}
		}
	}
	p(`</svg>`)
	return b.String()
}

func trimZeros(v float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

func procField(text, key, def string) string {
	for _, l := range strings.Split(text, "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return def
}

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

func thpMode() string {
	b, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil {
		return "unknown"
	}
	if i, j := bytes.IndexByte(b, '['), bytes.IndexByte(b, ']'); 0 <= i && i < j {
		return string(b[i+1 : j])
	}
	return strings.TrimSpace(string(b))
}

// commitInfo is HEAD, and whether the working tree (which golos and the workloads were
// built from) differs from it.
func commitInfo() string {
	out, err := exec.Command("git", "log", "-1", "--format=%h (%cs) %s").Output()
	if err != nil {
		return "unknown (not a git checkout?)"
	}
	c := shorten(strings.TrimSpace(string(out)), 90)
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(st) > 0 {
		c += ", with uncommitted changes in the working tree"
	}
	return c
}
