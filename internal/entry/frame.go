package entry

// Offsets in the kernel's x86-64 signal frame that the handlers in entry_amd64.s read
// (through go_asm.h), from arch/x86/include/uapi/asm/sigcontext.h, <sys/ucontext.h> and
// include/uapi/asm-generic/siginfo.h. frame_test.go checks them against the C headers.
const (
	ucGregs  = 40             // ucontext_t.uc_mcontext.gregs: REG_R8 … REG_CR2
	ucRip    = ucGregs + 16*8 // gregs[REG_RIP]
	ucEfl    = ucGregs + 17*8 // gregs[REG_EFL]
	ucErr    = ucGregs + 19*8 // gregs[REG_ERR]
	ucTrapno = ucGregs + 20*8 // gregs[REG_TRAPNO]
	ucFpregs = ucGregs + 23*8 // uc_mcontext.fpregs: the XSAVE area
	siSigno  = 0              // siginfo_t.si_signo
	siCode   = 8              // siginfo_t.si_code
	siAddr   = 16             // si_addr (si_call_addr for SIGSYS)
	siPid    = 16             // si_pid of a signal a process sent (kill(2), tgkill(2))

	swMagic1     = 464      // struct _fpx_sw_bytes.magic1 in the legacy FXSAVE area
	swXstateSize = 464 + 16 // struct _fpx_sw_bytes.xstate_size

	siSysUserDispatch = 2 // SYS_USER_DISPATCH: si_code of a SIGSYS raised by dispatch
)
