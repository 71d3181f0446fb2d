package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// A row compares one workload's native and golos results.
type row struct {
	name, unit    string
	native, golos result
	target        string
}

func report(w io.Writer, cfg config, rows []row) {
	fmt.Fprintf(w, "golos-bench %s — %s\n\n", time.Now().Format("2006-01-02"), hostInfo())

	header := []string{"workload", "unit", "native median", "native min", "golos median", "golos min", "golos/native", "target"}
	var cells [][]string
	var errs []string
	for _, r := range rows {
		nm, nmin := cell(r.native, r.unit)
		gm, gmin := cell(r.golos, r.unit)
		cells = append(cells, []string{r.name, r.unit, nm, nmin, gm, gmin, ratio(r.golos, r.native), r.target})
		for _, e := range []struct {
			side string
			err  error
		}{{"native", r.native.err}, {"golos", r.golos.err}} {
			if e.err != nil {
				errs = append(errs, fmt.Sprintf("%s, %s: %v", r.name, e.side, e.err))
			}
		}
	}
	if cfg.md {
		writeMarkdown(w, header, cells)
	} else {
		writeText(w, header, cells)
	}

	var notes []string
	if len(errs) > 0 {
		notes = append(notes, "Errors (in full):")
		notes = append(notes, dedup(errs)...)
		notes = append(notes, "")
	}
	notes = append(notes, legend(cfg)...)
	fmt.Fprintln(w)
	for _, n := range notes {
		if cfg.md && n != "" && !strings.HasSuffix(n, ":") {
			n = "- " + n
		}
		fmt.Fprintln(w, n)
	}
}

func legend(cfg config) []string {
	return []string{
		"Legend:",
		fmt.Sprintf("median and min over %d timed runs per side for start to exit, %d for the loops, after one untimed warm-up run; native and golos runs alternate.", cfg.startRuns, cfg.loopRuns),
		"start to exit: wall time around Go's exec.Cmd.Run (fork, exec, the whole run, wait) of a static glibc hello that prints \"hello 42\". ./golos run includes the script's sh and find(1); .build/golos run is the binary itself.",
		fmt.Sprintf("ns/call: each loop program times %d calls with clock_gettime(CLOCK_MONOTONIC) (vDSO), after %d untimed ones, and checks every result.", cfg.iters, cfg.iters/10+1),
		"getppid: libc syscall(SYS_getppid), which golos passes through to the host. arch_prctl: ARCH_SET_FS to FS's own value via a raw syscall instruction, which golos handles itself.",
		"SUD round trip: bare Syscall User Dispatch, natively: a trapped getppid whose SIGSYS handler makes the real call and sets RAX. No interceptor can be faster, so a trapped call's target is a multiple of it.",
		"golos/native: ratio of medians. An error cell means that side failed (non-zero exit, wrong output or check); that side's other runs were skipped.",
	}
}

func cell(r result, unit string) (median, min string) {
	switch {
	case r.skipped:
		return "not run", "-"
	case r.err != nil:
		return "ERROR: " + shorten(r.err.Error(), 48), "-"
	}
	m, _ := r.median()
	lo, _ := r.min()
	return format(m, unit), format(lo, unit)
}

func format(v float64, unit string) string {
	if unit == "ms" {
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func ratio(golos, native result) string {
	g, ok1 := golos.median()
	n, ok2 := native.median()
	if !ok1 || !ok2 {
		return "-"
	}
	return fmt.Sprintf("%.2f×", g/n)
}

func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func dedup(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

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

// hostInfo names the kernel and CPU, since every number here depends on both.
func hostInfo() string {
	kernel := "Linux"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel += " " + strings.TrimSpace(string(b))
	}
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("%s, %s, %d CPUs, %s", kernel, cpu, runtime.NumCPU(), runtime.Version())
}
