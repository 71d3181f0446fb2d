package tests

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// cpythonModules are modules of CPython's own test suite (Debian's
// libpython3.11-testsuite) that pass natively here and take seconds each, run as an
// external conformance suite: each must pass under golos as natively. Together they took
// 155 s, native and golos runs, on 2 cores shared with other work.
//
// The whole suite was run once both ways on 2026-12-07 (`python3 -m test -j2 -w -u none`,
// 431 modules, on 2 CPUs shared with other work; 20.6 minutes natively, 24.2 under golos,
// its two workers golos processes too): 397 passed and 28 were skipped in both runs, and
// the same six failed in both, with the same tests: test_cmd_line's
// test_non_interactive_output_buffering (PYTHONUNBUFFERED was set), test_compileall's two
// HardlinkDedupTests (PYTHONDONTWRITEBYTECODE), test_cppext (the extension it builds does
// not import), test_ensurepip (Debian disables it for the system Python), test_idle (no
// Tk) and test_socket (killed by regrtest's timeout in both).
//
// test_subprocess passes whole under golos now (83 s, 25 s natively) but is left out
// for time: its test_leaking_fds_on_error makes 1024 spawns of a missing program, each
// a new golos under golos (a vfork child is a golos process of its own: about 20 ms
// each), and takes 23 s under golos where it takes 0.5 s natively.
//
// Left out for time (all pass under golos as natively, run with `python3 -m test -v`):
// test_socket (did not finish within 5 minutes natively here; 294 of its tests
// (GeneralModuleTests, Basic*Test, SCMRights, Recvmsg*, Sendfile*, Interrupted*,
// TestLinuxAbstractNamespace, ...) pass under golos, test_sethostname by its EPERM
// branch since golos shares the host's UTS namespace), test_signal (a minute
// natively), test_io (30 s), test_selectors, test_poll, test_queue
// (10 to 20 s each of mostly sleeping), test_concurrent_futures (136 s, 152 s),
// test_multiprocessing_fork (69 s natively, 100 s under golos),
// test_multiprocessing_forkserver (72 s, 87 s), test_asyncio.test_subprocess (13 s),
// test_asyncio.test_events (9 s), test_logging (22 s), test_venv (15 s),
// test_largefile (20 s), test_zipfile (9 s), test_ssl (38 s), test_xmlrpc (28 s),
// test_regrtest (8 s), test_faulthandler (18 s), test_eintr (6 s),
// test_multiprocessing_main_handling (10 s), test_threadsignals and test_fork1 (5 s),
// test_asyncio.test_tasks (15 s), test_asyncio.test_ssl (10 s),
// test_asyncio.test_sslproto (5 s), test_bz2 (3 s natively, 5 s under golos).
// test_ioctl, test_gdb and test_embed skip themselves here (no /dev/tty; not a source
// build); test_sqlite3 fails to import natively; test_compileall's two
// HardlinkDedupTests.test_import fail natively as under golos (PYTHONDONTWRITEBYTECODE).
var cpythonModules = []string{
	"test_select", "test_fcntl", "test_epoll", "test_mmap", "test_pty", "test_time",
	"test_os", "test_posix", "test_thread", "test_socketserver", "test_fileio",
	"test_file", "test_struct", "test_sched", "test_threading_local", "test_glob",
	"test_getpass", "test_resource", "test_popen", "test_sys", "test_json",
	"test_tempfile", "test_shutil", "test_wait4", "test_wait3", "test_exceptions",
	// test_various_ops: 10 threads started one after another have 10 distinct native
	// ids (each thread has an OS thread of its own: thread.go).
	"test_threading",
	"test_getopt", "test_stat", "test_netrc", "test_fileinput", "test_posixpath",
	"test_pipes", "test_locale", "test_unicode_file", "test_uuid", "test_platform",
	"test_sysconfig", "test_site", "test_pathlib", "test_tarfile", "test_pydoc",
	"test_cmd_line_script", "test_asyncio.test_unix_events", "test_file_eintr",
	"test_syslog", "test_grp", "test_pwd", "test_genericpath", "test_filecmp",
	"test_zipimport", "test_utf8_mode", "test_atexit", "test_dbm", "test_tracemalloc",
	"test_readline", "test_ctypes", "test_openpty", "test_asyncio.test_sock_lowlevel",
	"test_asyncio.test_streams", "test_asyncio.test_sendfile", "test_asyncio.test_server",
	"test_c_locale_coercion", "test_httpservers", "test_mailbox", "test_support",
	"test_urllib2_localnet", "test_asyncio.test_base_events", "test_asyncio.test_runners",
	"test_threadedtempfile", "test_dbm_dumb", "test_dbm_gnu", "test_gzip",
	// test_non_interactive_output_buffering expects Python's default buffering: the
	// suite runs without PYTHONUNBUFFERED (unsetEnv below), natively as under golos.
	"test_cmd_line",
}

// TestCPythonSuite runs each module of cpythonModules with `python3 -m test` natively and
// under golos: a module that passes natively must pass under golos. regrtest's own
// --timeout makes a test that hangs fail with the stacks of its threads (faulthandler)
// rather than hold the suite.
func TestCPythonSuite(t *testing.T) {
	t.Parallel()
	const python = "/usr/bin/python3"
	needProgram(t, python, "python3")
	// libregrtest comes with libpython3.11-stdlib; the test modules only with the
	// testsuite package, so the check is for one of them.
	needProgram(t, "/usr/lib/python3.11/test/test_os.py", "libpython3.11-testsuite")
	for _, m := range cpythonModules {
		t.Run(m, func(t *testing.T) {
			o := runOpts{dir: t.TempDir(), timeout: 4 * time.Minute,
				// The suite's own files go to the test's directory, not the user's.
				env: []string{"TMPDIR=" + t.TempDir(), "PYTHONDONTWRITEBYTECODE=1"},
				// Buffering, start-up and warnings as the suite expects by default.
				unsetEnv: []string{"PYTHONUNBUFFERED", "PYTHONSTARTUP", "PYTHONWARNINGS"}}
			argv := []string{python, "-m", "test", "--timeout=180", "-q", m}
			nat := runNative(&o, argv...)
			if nat.code != 0 || !bytes.Contains(nat.stdout, []byte("Tests result: SUCCESS")) {
				t.Fatalf("%s does not pass natively (%s): leave it out of cpythonModules\n%s", m, nat, tail(nat.stdout, 30))
			}
			needGolos(t)
			g := runGolosOpts(&o, append([]string{"run"}, argv...)...)
			if g.code != 0 || !bytes.Contains(g.stdout, []byte("Tests result: SUCCESS")) {
				t.Errorf("%s passes natively but not under golos (%s):\n--- stdout:\n%s--- stderr:\n%s",
					m, g, tail(g.stdout, 60), tail(g.stderr, 20))
			}
		})
	}
}

// tail is the last n lines of out.
func tail(out []byte, n int) string {
	lines := strings.SplitAfter(string(out), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], "")
}
