package kernel

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"

	"golos/internal/loader"
	"golos/internal/vfs"
)

// loaderOpen opens a host file for the loader.
var loaderOpen = loader.HostOpener

// lookPath finds the program as execvp(3) and a shell would: a name with '/' is a path;
// others are looked up in the PATH of the program's environment (inside the root, if
// there is one). Not found is an ExitError with status 127, not executable 126.
func (p *Process) lookPath(name string, envp []string) (string, error) {
	if strings.Contains(name, "/") {
		return name, p.checkExec(name, name)
	}
	pathEnv := "/usr/local/bin:/usr/bin:/bin"
	for _, kv := range envp {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			pathEnv = v
		}
	}
	var denied error
	for _, dir := range strings.Split(pathEnv, ":") {
		if dir == "" {
			dir = "."
		}
		cand := dir + "/" + name
		err := p.checkExec(name, cand)
		if err == nil {
			return cand, nil
		}
		var ee *ExitError
		if errors.As(err, &ee) && ee.Status == 126 && denied == nil {
			denied = err
		}
	}
	if denied != nil {
		return "", denied
	}
	return "", &ExitError{Status: 127, Err: fmt.Errorf("%s: command not found", name)}
}

// checkExec says whether path is a file golos can execute.
func (p *Process) checkExec(name, path string) error {
	var st unix.Stat_t
	var err error
	if p.fs == nil {
		err = unix.Stat(path, &st)
		if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			err = unix.Access(path, unix.X_OK)
		}
	} else {
		var fd int
		fd, err = p.fs.Open(vfs.Abs(p.cwd(), path), unix.O_PATH, 0)
		if err == nil {
			err = unix.Fstat(fd, &st)
			if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
				err = unix.Faccessat2(fd, "", unix.X_OK, unix.AT_EMPTY_PATH)
			}
			unix.Close(fd)
		}
	}
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENOTDIR):
		return &ExitError{Status: 127, Err: fmt.Errorf("%s: no such file or directory", name)}
	case err != nil:
		return &ExitError{Status: 126, Err: fmt.Errorf("%s: %v", name, err)}
	case st.Mode&unix.S_IFMT == unix.S_IFDIR:
		return &ExitError{Status: 126, Err: fmt.Errorf("%s: is a directory", name)}
	}
	return nil
}

// interpreters follows "#!" lines as Linux does (fs/binfmt_script.c): the interpreter
// runs with the optional argument from the line and the script's path before the
// script's own arguments, up to maxInterpreterDepth levels.
func (p *Process) interpreters(path string, argv []string) (string, []string, error) {
	for depth := 0; ; depth++ {
		line, err := p.shebang(path)
		if err != nil {
			return "", nil, err
		}
		if line == nil {
			return path, argv, nil
		}
		if depth == maxInterpreterDepth {
			return "", nil, &ExitError{Status: 126, Err: fmt.Errorf("%s: too many levels of #! interpreters", argv[0])}
		}
		interp, arg, _ := strings.Cut(strings.TrimLeft(string(line), " \t"), " ")
		arg = strings.Trim(arg, " \t")
		if interp == "" {
			return "", nil, &ExitError{Status: 126, Err: fmt.Errorf("%s: empty #! line", path)}
		}
		next := []string{interp}
		if arg != "" {
			next = append(next, arg)
		}
		next = append(next, path)
		argv = append(next, argv[1:]...)
		if err := p.checkExec(interp, interp); err != nil {
			return "", nil, err
		}
		path = interp
	}
}

// shebang returns the text after "#!" on the first line of path (up to Linux's 256
// bytes, BINPRM_BUF_SIZE), or nil if the file does not start with "#!".
func (p *Process) shebang(path string) ([]byte, error) {
	fd, err := p.opener(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	defer unix.Close(fd)
	buf := make([]byte, 256)
	n, _ := unix.Pread(fd, buf, 0)
	buf = buf[:max(n, 0)]
	if !bytes.HasPrefix(buf, []byte("#!")) {
		return nil, nil
	}
	line := buf[2:]
	if i := bytes.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	return bytes.TrimRight(line, " \t\r"), nil
}
