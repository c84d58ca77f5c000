package amd64

import "unsafe"

// Sizes of the boot CPU's kernel stack. The IST stack used for double faults
// and NMIs sits above the main stack in the same block, so the kernel g's
// bounds cover both.
const (
	KernelStackSize  = 96 << 10
	ISTStackSize     = 16 << 10
	KernelStackTotal = KernelStackSize + ISTStackSize
	// StackGuard is how far above the stack's low end the kernel g's stack
	// guard sits; the Go compiler's checks keep functions above it.
	StackGuard = 2048
)

// kernelStack, kernelG and kernelTLS are the boot CPU's kernel stack, the g
// that describes it, and the TLS block FS points into in kernel context
// (kernelTLS[0] is what FS:-8 reads). kernelM is a zeroed stand-in for the
// g's m: the runtime's symbol-table lookups used by the fault printer keep a
// cache in the current m. The g and m are larger than the runtime's structs,
// so every field the runtime reads is zero except the stack bounds and m.
// They live in the image's BSS.
var (
	kernelStack [KernelStackTotal]byte
	kernelG     [128]uintptr
	kernelM     [1024]uintptr
	kernelTLS   [4]uintptr
)

// KernelStackTop returns the top of the boot CPU's main kernel stack.
func KernelStackTop() uintptr {
	return uintptr(unsafe.Pointer(&kernelStack[0])) + KernelStackSize
}

// ISTStackTop returns the top of the stack used for double faults and NMIs.
func ISTStackTop() uintptr {
	return uintptr(unsafe.Pointer(&kernelStack[0])) + KernelStackTotal
}

// KernelFS returns the FS base used in kernel context.
func KernelFS() uintptr {
	return uintptr(unsafe.Pointer(&kernelTLS[1]))
}

// kernelMain is package kernel's boot entry (kernel.kmain); it never returns.
//
//go:linkname kernelMain github.com/xairrosx/xairrosx/kernel.kmain
func kernelMain(startInfo uintptr)

// kernelTrap is package kernel's trap handler (kernel.trap).
//
//go:linkname kernelTrap github.com/xairrosx/xairrosx/kernel.trap
func kernelTrap(f *Frame)

// bootGo is called by entry64 on the kernel stack with the kernel TLS set.
//
//go:nosplit
func bootGo(startInfo uintptr) {
	kernelMain(startInfo)
}

// trapGo is called by alltraps with the saved frame.
//
//go:nosplit
func trapGo(f *Frame) {
	kernelTrap(f)
}

// EnterFrame switches to the kernel stack at f and returns through the Frame
// there, as the trap exit does. It is how the first thread starts.
func EnterFrame(f uintptr)

// syscallEntry is the SYSCALL target (trap_amd64.s).
func syscallEntry()

// entry32 and entry64 are the boot entry (boot_amd64.s).
func entry32()
func entry64()
func getpc32()

// alltraps, syscalltraps and trapret are the common entry and exit
// (trap_amd64.s).
func alltraps()
func syscalltraps()
func trapret()

// ImageEnd returns the end of the loaded image (its BSS included).
func ImageEnd() uintptr { return imageEnd() }

func imageEnd() uintptr
