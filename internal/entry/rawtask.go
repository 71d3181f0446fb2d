package entry

import "encoding/binary"

// SlowSites sends every rewritten syscall site to its slow path, its own syscall
// instruction, from now on, as when a thread has its own GS base (SetAppGS): fastEntry
// then never reads GS. A task that shares the process's memory but is no thread of
// golos's (kernel's rawtask.go) runs the program's code with a GS base that is not a
// thread's of golos; at a rewritten site it makes the syscall itself, where a thread of
// golos's traps through Syscall User Dispatch as before.
func SlowSites() { anyAppGS = 1 }

// FPControl returns the application's x87 control word and MXCSR, from its saved
// extended state (the legacy region of the XSAVE area: FCW at byte 0, MXCSR at byte 24;
// Intel SDM vol. 1, 10.5.1).
func (c *Context) FPControl() (fcw uint16, mxcsr uint32) {
	return binary.LittleEndian.Uint16(c.xsave[0:]), binary.LittleEndian.Uint32(c.xsave[24:])
}
