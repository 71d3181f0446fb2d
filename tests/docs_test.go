package tests

import (
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// usageFlags returns every flag golos --help names (--root, -e, --debug=syscalls, …).
func usageFlags(t *testing.T) []string {
	t.Helper()
	r := runGolos(t, badInputTimeout, "--help")
	if r.code != 0 {
		t.Fatalf("golos --help: %s\nstderr:\n%s", r, clip(r.stderr))
	}
	re := regexp.MustCompile(`(?:^|[\s,(|\[])(--?[a-z][a-z0-9-]*(?:=syscalls)?)`)
	seen := map[string]bool{}
	for _, m := range re.FindAllStringSubmatch(string(r.stdout), -1) {
		seen[m[1]] = true
	}
	var flags []string
	for f := range seen {
		flags = append(flags, f)
	}
	sort.Strings(flags)
	// The list must be golos's real flags: a usage text the pattern no longer reads would
	// let the man page and the completion drift unnoticed.
	for _, want := range []string{"--root", "--volume", "-e", "--env", "--env-file", "-w", "--workdir",
		"--read-only", "--clear-env", "--debug=syscalls", "--version", "--help"} {
		if !seen[want] {
			t.Fatalf("golos --help names no %s (flags read from it: %q)", want, flags)
		}
	}
	return flags
}

// hasFlag reports whether text names flag as a word of its own.
func hasFlag(text, flag string) bool {
	re := regexp.MustCompile(`(?:^|[^a-z0-9-])` + regexp.QuoteMeta(flag) + `(?:[^a-z0-9-]|$)`)
	return re.MatchString(text)
}

// TestDocsFlags: every flag of golos's usage text is in the man page and the bash
// completion, so that they cannot drift apart.
func TestDocsFlags(t *testing.T) {
	flags := usageFlags(t)
	man, err := os.ReadFile("../docs/golos.1")
	if err != nil {
		t.Fatal(err)
	}
	manText := strings.ReplaceAll(string(man), `\-`, "-") // roff's minus signs
	comp, err := os.ReadFile("../docs/golos.bash-completion")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range flags {
		if !hasFlag(manText, f) {
			t.Errorf("docs/golos.1 does not mention %s", f)
		}
		if f != "--version" && !hasFlag(string(comp), f) { // --version: only as a command
			t.Errorf("docs/golos.bash-completion does not complete %s", f)
		}
	}
	if !hasFlag(string(comp), "--version") {
		t.Errorf("docs/golos.bash-completion does not complete --version")
	}
}

// TestBashCompletion: the completion offers run, golos run's flags, and commands then
// files after run.
func TestBashCompletion(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	// compopt works only inside a real completion; outside, it is recorded.
	script := `compopt() { echo "compopt $*"; }
source ../docs/golos.bash-completion
c() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMPREPLY=(); _golos; echo "${COMPREPLY[*]}"; }
c golos ''
c golos run --rea
c golos run --env-fi
c golos run --root /u
c golos run -w=/ /bin/ech
c golos run -e A=1 /bin/echo /et
`
	out, err := exec.Command("bash", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	want := []string{
		"run --version --help",
		"--read-only",
		"--env-file",
		"/usr",
		"compopt -o default", "/bin/echo", // commands, then the default (files)
		"compopt -o default", "", // the program's arguments: bash's default (files)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("completions:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
