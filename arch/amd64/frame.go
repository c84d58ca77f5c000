package amd64

import "unsafe"

// Frame is the register state of a thread as saved by the trap entry path, in
// the order the entry sequence pushes it (lowest address first). The hardware
// part (RIP, CS, RFLAGS, RSP, SS) is what the CPU pushed or, for SYSCALL, what
// the entry sequence built to look the same, so every entry returns with IRETQ.
type Frame struct {
	R15, R14, R13, R12, R11, R10, R9, R8 uint64
	RDI, RSI, RBP, RBX, RDX, RCX, RAX    uint64
	Vector                               uint64 // exception/IRQ vector, or VectorSyscall
	Err                                  uint64 // CPU error code, or 0
	RIP, CS, RFLAGS, RSP, SS             uint64
}

// FrameSize is the size of a Frame in bytes.
const FrameSize = unsafe.Sizeof(Frame{})

// VectorSyscall is the Frame.Vector value of a SYSCALL entry. A frame that
// still carries it on exit returns with SYSRET (RCX and R11 are clobbered,
// as the system-call ABI allows); VectorIret forces the full IRETQ return,
// for frames that must restore every register (rt_sigreturn).
const (
	VectorSyscall = 256
	VectorIret    = 257
)

// FromUser reports whether the frame was saved while running at CPL 3.
func (f *Frame) FromUser() bool { return f.CS&3 == 3 }

// Segment selectors of the GDT built by LoadGDT. The order (user data before
// user code) is the one SYSRET requires.
const (
	KernelCS = 0x08
	KernelSS = 0x10
	UserDS   = 0x20 | 3
	UserCS   = 0x28 | 3
	TSSSel   = 0x30
)

// RFLAGS bits.
const (
	FlagIF   = 1 << 9
	FlagIOPL = 3 << 12
	FlagDF   = 1 << 10
	FlagTF   = 1 << 8
	FlagAC   = 1 << 18
)

// UserFlags is the RFLAGS value a new user thread starts with: interrupts on,
// IOPL 3 so that Go device drivers may use port I/O.
const UserFlags = FlagIF | FlagIOPL | 2

// CPU is the per-CPU block; GS always points at the current CPU's. The entry
// sequences reach its fields at the offsets go_asm.h gives, so the kernel
// fills them and the asm reads them.
type CPU struct {
	Self     uintptr // address of this block
	KStack   uintptr // top of the kernel stack (TSS.RSP0)
	UserSP   uintptr // scratch: user RSP during SYSCALL entry
	Xsave    uintptr // XSAVE area of the thread now running
	UserFS   uintptr // FS base of the thread now running
	KernelFS uintptr // FS base in kernel context (kernel TLS block + 8)
	XMask    uint64  // XCR0: state components to save and restore
	Thread   uintptr // kernel's index of the running thread (opaque here)
	ID       uintptr // CPU number
	Ticks    uint64  // timer interrupts taken
	// FPSaved is 1 when the running thread's extended state is in its
	// XSAVE area (entries by interrupt or exception save it; SYSCALL does
	// not, because the Linux system-call ABI as Go uses it leaves vector
	// registers caller-saved). The exit path restores the area only then;
	// the kernel calls SaveFP before it needs the area.
	FPSaved uint64
	// FSGSBase is 1 when WRFSBASE may be used instead of WRMSR.
	FSGSBase uint64
}
