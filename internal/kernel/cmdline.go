package kernel

import "bytes"

// /proc/PID/cmdline and environ are read from the program's memory, as Linux reads them
// (fs/proc/base.c, get_mm_cmdline and environ_read): where execve laid the strings out,
// with what the program has written there since. Servers rename their processes that way
// (setproctitle: nginx's "nginx: worker process", redis's "redis-server *:6379",
// PostgreSQL's, sshd's), and ps shows those names.

// proctitlePage is how much of a command line Linux reads when the program has written
// over the end of its arguments (get_mm_proctitle reads one page).
const proctitlePage = 4096

// memReader reads n bytes at addr of a process's memory, or ok false.
type memReader func(addr, n uint64) ([]byte, bool)

// readSelf reads this process's memory, a fault failing the read (mem_unsafe.go).
func readSelf(addr, n uint64) ([]byte, bool) {
	b := make([]byte, n)
	return b, copyIn(addr, b) == 0
}

// readOf reads the memory of process pid, this one's or another golos's of the tree.
func readOf(pid int) memReader {
	if pid == selfPid {
		return readSelf
	}
	return func(addr, n uint64) ([]byte, bool) { return readRemote(pid, addr, n) }
}

// mmCmdline is /proc/PID/cmdline of the process whose memory read reads and whose
// argument and environment strings lie at args and env. As get_mm_cmdline: the command
// line is the argument strings, unless the program overwrote their last byte
// (setproctitle, which may run on into the environment strings just above, the only room
// Linux lets it overflow into): then it is what starts there up to the first NUL,
// included, at most a page (get_mm_proctitle). Memory that cannot be read (the program
// unmapped its stack) gives an empty file, as on Linux.
func mmCmdline(read memReader, args, env [2]uint64) []byte {
	if env[0] != args[1] || env[1] < env[0] {
		env = [2]uint64{args[1], args[1]}
	}
	if env[1] <= args[0] {
		return nil
	}
	if last, ok := read(args[1]-1, 1); ok && last[0] != 0 {
		b, ok := read(args[0], min(env[1]-args[0], proctitlePage))
		if !ok {
			return nil
		}
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i+1]
		}
		return b
	}
	return readSpan(read, args)
}

// mmEnviron is /proc/PID/environ of the process whose memory read reads and whose
// environment strings lie at env: that memory as it is now (environ_read).
func mmEnviron(read memReader, env [2]uint64) []byte { return readSpan(read, env) }

// readSpan reads the memory in [span[0], span[1]): nothing for an empty span or one that
// cannot be read.
func readSpan(read memReader, span [2]uint64) []byte {
	if span[1] <= span[0] {
		return nil
	}
	b, ok := read(span[0], span[1]-span[0])
	if !ok {
		return nil
	}
	return b
}
