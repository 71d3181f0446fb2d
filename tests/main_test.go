package tests

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golos/internal/build"
)

// installHint is what to do when a compiler or busybox is missing (the README's test
// command installs the same packages).
const installHint = "install the test toolchain: apt-get install -y gcc g++ musl-tools busybox-static"

// A flavour is one way of compiling and linking the C test programs.
type flavour struct {
	name  string   // suffix of the binary's name: tls.glibc-static
	cc    string   // compiler
	flags []string // before -o
}

var flavours = []flavour{
	{"glibc-static", "gcc", []string{"-O2", "-static"}},
	{"glibc-static-pie", "gcc", []string{"-O2", "-static-pie", "-fPIE"}},
	{"musl-static", "musl-gcc", []string{"-O2", "-static"}},
}

// extraBuilds are test programs built otherwise than in the flavours above: C++ (g++)
// and OpenMP (gcc -fopenmp; libgomp exists for glibc only), with a dynamic flavour too
// (the program runs through glibc's ld.so). A testdata/*.c file named here is not built in
// the flavours above.
var extraBuilds = []struct {
	src, name, cc string // source in testdata, NAME.FLAVOUR of the binary, compiler
	flags         []string
}{
	{"thr_omp.c", "thr_omp.glibc-static", "gcc", []string{"-O2", "-static", "-fopenmp"}},
	{"thr_omp.c", "thr_omp.glibc-dynamic", "gcc", []string{"-O2", "-fopenmp"}},
	{"thr_cxx.cc", "thr_cxx.glibc-static", "g++", []string{"-O2", "-static", "-pthread"}},
	{"thr_cxx.cc", "thr_cxx.glibc-static-pie", "g++", []string{"-O2", "-static-pie", "-fPIE", "-pthread"}},
	{"thr_cxx.cc", "thr_cxx.glibc-dynamic", "g++", []string{"-O2", "-pthread"}},
	// GCC's sanitizers (sanitizers_test.go): their runtimes (libasan, libubsan, libtsan) come with
	// gcc and g++, and link dynamically only.
	{"san_asan.c", "san_asan.asan", "gcc", []string{"-g", "-fsanitize=address", "-pthread"}},
	{"san_asan.cc", "san_asan_cxx.asan", "g++", []string{"-g", "-fsanitize=address"}},
	{"san_ubsan.c", "san_ubsan.ubsan", "gcc", []string{"-g", "-fsanitize=undefined"}},
	{"san_tsan.c", "san_tsan.tsan", "gcc", []string{"-g", "-fsanitize=thread", "-pthread"}},
}

var (
	workDir  string // temporary directory of this test run
	golosBin string // the golos binary under test
	golosErr error  // why golos could not be built

	progMu   sync.Mutex
	progs    = map[string]string{} // "tls.glibc-static" -> path of the built binary
	progErrs = map[string]error{}  // "tls.glibc-static" -> why it was not built
	missing  []string              // compilers and tools not installed

	buildTime time.Duration
)

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	var err error
	workDir, err = os.MkdirTemp("", "golos-tests-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tests:", err)
		return 1
	}
	defer os.RemoveAll(workDir)

	// Programs killed by SIGABRT or SIGSEGV must not leave core files behind: the soft
	// limit is the one the kernel applies (core(5)); the hard one is kept, so that a test
	// may start a program with a soft limit above 0 (TestSandboxRlimits) without
	// CAP_SYS_RESOURCE.
	var core syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_CORE, &core) != nil {
		core.Max = 0
	}
	_ = syscall.Setrlimit(syscall.RLIMIT_CORE, &syscall.Rlimit{Cur: 0, Max: core.Max})

	start := time.Now()
	buildAll()
	buildTime = time.Since(start)
	if testing.Verbose() {
		fmt.Printf("tests: built golos and %d test programs in %.1fs\n", len(progs), buildTime.Seconds())
	}
	code := m.Run()
	for _, f := range cleanups {
		f()
	}
	return code
}

// cleanups run when the tests are done: what tests made outside workDir (a podman image).
var cleanups []func()

var trackOnce sync.Once

// trackSources looks at every file of the repository, so that `go test` caches a result
// only as long as none of them changes: golos and the test programs are built by
// subprocesses, whose reads the test cache does not see. It must run inside a test (the
// test log that feeds the cache starts after TestMain), so prog and needGolos call it.
func trackSources() { trackOnce.Do(trackSourcesOnce) }

func trackSourcesOnce() {
	root, err := filepath.Abs("..")
	if err != nil {
		return
	}
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == ".build") {
			return filepath.SkipDir
		}
		if !d.IsDir() {
			os.Stat(p)
		}
		return nil
	})
	if p := os.Getenv("GOLOS_TEST_BINARY"); p != "" {
		os.Stat(p)
	}
}

// buildAll builds golos and every test program, at most max(2, NumCPU) jobs at a time.
func buildAll() {
	for _, tool := range []string{"gcc", "musl-gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, tool)
		}
	}
	if _, err := os.Stat("/bin/busybox"); err != nil {
		missing = append(missing, "/bin/busybox")
	}

	type job struct {
		name string
		run  func() // records its outcome
	}
	var jobs []job

	if p := os.Getenv("GOLOS_TEST_BINARY"); p != "" {
		golosBin, golosErr = filepath.Abs(p)
	} else {
		golosBin = filepath.Join(workDir, "golos")
		jobs = append(jobs, job{"golos", func() {
			root, err := filepath.Abs("..") // the tests run in their package directory
			if err == nil {
				err = build.Golos(root, golosBin)
			}
			golosErr = err
		}})
	}

	bin := filepath.Join(workDir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		golosErr = err
		return
	}
	srcs, _ := filepath.Glob(filepath.Join("testdata", "*.c"))
	sort.Strings(srcs)
	extra := map[string]bool{}
	for _, e := range extraBuilds {
		extra[e.src] = true
		out := filepath.Join(bin, e.name)
		args := append(append(append([]string{}, e.flags...), "-Wall", "-o", out), filepath.Join("testdata", e.src))
		jobs = append(jobs, job{e.name, func() { compile(e.cc, out, args...) }})
	}
	for _, src := range srcs {
		base := strings.TrimSuffix(filepath.Base(src), ".c")
		if extra[filepath.Base(src)] {
			continue
		}
		for _, f := range flavours {
			name := base + "." + f.name
			out := filepath.Join(bin, name)
			args := append(append(append([]string{}, f.flags...), "-Wall", "-o", out), src)
			jobs = append(jobs, job{name, func() { compile(f.cc, out, args...) }})
		}
	}
	for _, dir := range []string{"goprog", "thr_goprog", "proc_goprog"} {
		name := dir + ".go-static"
		jobs = append(jobs, job{name, func() {
			out := filepath.Join(bin, name)
			cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
			cmd.Dir = filepath.Join("testdata", dir)
			cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOWORK=off", "GOFLAGS=")
			if o, err := cmd.CombinedOutput(); err != nil {
				record(name, "", fmt.Errorf("go build in testdata/%s: %v\n%s", dir, err, o))
				return
			}
			record(name, out, nil)
		}})
	}
	jobs = append(jobs, job{"exit0.i386", func() {
		out := filepath.Join(bin, "exit0.i386")
		compile("gcc", out, "-m32", "-nostdlib", "-static", "-O2", "-o", out,
			filepath.Join("testdata", "i386", "exit0.c"))
	}})

	workers := runtime.NumCPU()
	if workers < 2 {
		workers = 2
	}
	ch := make(chan job)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range ch {
				j.run()
			}
		}()
	}
	for _, j := range jobs {
		ch <- j
	}
	close(ch)
	wg.Wait()
}

// compile runs a C compiler and records the binary under the base name of out.
func compile(cc, out string, args ...string) {
	name := filepath.Base(out)
	if _, err := exec.LookPath(cc); err != nil {
		record(name, "", fmt.Errorf("%s is not installed: %s", cc, installHint))
		return
	}
	if o, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		record(name, "", fmt.Errorf("%s %s: %v\n%s", cc, strings.Join(args, " "), err, o))
		return
	}
	record(name, out, nil)
}

func record(name, path string, err error) {
	progMu.Lock()
	defer progMu.Unlock()
	if err != nil {
		progErrs[name] = err
	} else {
		progs[name] = path
	}
}

// prog returns the path of the built test program "NAME.FLAVOUR" or fails the test.
func prog(t testing.TB, name string) string {
	t.Helper()
	trackSources()
	progMu.Lock()
	defer progMu.Unlock()
	if p, ok := progs[name]; ok {
		return p
	}
	if err, ok := progErrs[name]; ok {
		t.Fatalf("test program %s was not built: %v", name, err)
	}
	t.Fatalf("no test program %s (is testdata/%s.c missing?)", name, strings.SplitN(name, ".", 2)[0])
	return ""
}

// needGolos fails the test if there is no golos binary to test.
func needGolos(t testing.TB) {
	t.Helper()
	trackSources()
	if golosErr != nil {
		t.Fatalf("golos was not built: %v", firstLine(golosErr.Error()))
	}
}

// TestToolchain fails when a compiler or tool the suite needs is missing, and lists every
// test program that could not be built.
func TestToolchain(t *testing.T) {
	trackSources()
	if len(missing) > 0 {
		t.Errorf("missing %s: %s", strings.Join(missing, ", "), installHint)
	}
	var names []string
	for n := range progErrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if strings.HasSuffix(n, ".i386") {
			// optional: TestBadInput crafts an i386 file instead
			t.Logf("%s not built (gcc -m32 -nostdlib): %v", n, progErrs[n])
			continue
		}
		t.Errorf("%s not built: %v", n, progErrs[n])
	}
	if golosErr != nil {
		t.Errorf("golos not built: %v", golosErr)
	}
	t.Logf("building golos and %d test programs took %.1fs", len(progs), buildTime.Seconds())
}

// forFlavours runs f as a parallel subtest per C flavour, with the program's path.
func forFlavours(t *testing.T, name string, f func(t *testing.T, path string)) {
	for _, fl := range flavours {
		t.Run(fl.name, func(t *testing.T) {
			t.Parallel()
			f(t, prog(t, name+"."+fl.name))
		})
	}
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i] + " …"
	}
	return s
}
