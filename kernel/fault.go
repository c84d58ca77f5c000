package kernel

import (
	"runtime"
	"unsafe"

	"github.com/xairrosx/xairrosx/arch/amd64"
)

// Kernel faults: an exception in kernel context that is not a demand-paging
// fault on a user area is a kernel bug. The kernel prints the exception, the
// registers and a symbolized stack (frame pointers, Go's symbol table), and
// exits QEMU with status 101. Nothing here allocates.

const exitKernelFault = 101

var exceptionNames = [...]string{
	"divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
	"invalid opcode", "device not available", "double fault", "coprocessor overrun",
	"invalid TSS", "segment not present", "stack fault", "general protection",
	"page fault", "reserved", "x87 error", "alignment check", "machine check",
	"SIMD error", "virtualization", "control protection",
}

var faulting bool

// funcInfo mirrors the runtime's funcInfo (a *_func and its module).
type funcInfo struct {
	fn    unsafe.Pointer
	datap unsafe.Pointer
}

//go:linkname findfunc runtime.findfunc
func findfunc(pc uintptr) funcInfo

//go:linkname funcline1 runtime.funcline1
func funcline1(f funcInfo, targetpc uintptr, strict bool) (file string, line int32)

// printSymbol prints "name file:line" for pc, or "?".
func printSymbol(pc uintptr) {
	fi := findfunc(pc)
	if fi.fn == nil {
		prints("?")
		return
	}
	prints((*runtime.Func)(fi.fn).Name())
	file, line := funcline1(fi, pc, false)
	prints(" ")
	prints(file)
	putc(':')
	printu(uint64(line))
}

func printReg(name string, v uint64) {
	prints(name)
	prints("=")
	printx(v)
}

// dumpFrame prints the registers of f.
func dumpFrame(f *amd64.Frame) {
	printReg("rax", f.RAX)
	prints(" ")
	printReg("rbx", f.RBX)
	prints(" ")
	printReg("rcx", f.RCX)
	prints("\n")
	printReg("rdx", f.RDX)
	prints(" ")
	printReg("rsi", f.RSI)
	prints(" ")
	printReg("rdi", f.RDI)
	prints("\n")
	printReg("rbp", f.RBP)
	prints(" ")
	printReg("rsp", f.RSP)
	prints(" ")
	printReg("r8 ", f.R8)
	prints("\n")
	printReg("r9 ", f.R9)
	prints(" ")
	printReg("r10", f.R10)
	prints(" ")
	printReg("r11", f.R11)
	prints("\n")
	printReg("r12", f.R12)
	prints(" ")
	printReg("r13", f.R13)
	prints(" ")
	printReg("r14", f.R14)
	prints("\n")
	printReg("r15", f.R15)
	prints(" ")
	printReg("rip", f.RIP)
	prints(" ")
	printReg("rfl", f.RFLAGS)
	prints("\n")
	printReg("cs ", f.CS)
	prints(" ")
	printReg("ss ", f.SS)
	prints(" ")
	printReg("cr2", amd64.ReadCR2())
	prints("\n")
	printReg("cr3", amd64.ReadCR3())
	prints(" ")
	printReg("err", f.Err)
	prints("\n")
}

// kernelFault reports a fault in kernel context and stops the machine.
func kernelFault(f *amd64.Frame) {
	if faulting {
		prints("\nxairrosx: fault while reporting a fault\n")
		exitQEMU(exitKernelFault)
	}
	faulting = true
	prints("\nxairrosx: kernel fault: ")
	if f.Vector < uint64(len(exceptionNames)) {
		prints(exceptionNames[f.Vector])
	} else {
		prints("vector ")
		printu(f.Vector)
	}
	prints(" at ")
	printSymbol(uintptr(f.RIP))
	prints("\n")
	dumpFrame(f)
	prints("stack:\n  ")
	printx(f.RIP)
	prints(" ")
	printSymbol(uintptr(f.RIP))
	prints("\n")
	bp := uintptr(f.RBP)
	lo, hi := amd64.KernelStackTop()-amd64.KernelStackSize, amd64.ISTStackTop()
	for i := 0; i < 32 && bp >= lo && bp+16 <= hi && bp&7 == 0; i++ {
		ret := uintptr(load64(bp + 8))
		if ret == 0 {
			break
		}
		prints("  ")
		printx(uint64(ret))
		prints(" ")
		printSymbol(ret - 1)
		prints("\n")
		bp = uintptr(load64(bp))
	}
	exitQEMU(exitKernelFault)
}

var sigNames = [...]string{1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 14: "SIGALRM", 15: "SIGTERM"}

// killedBy ends the program as Linux does for a fatal signal without a
// handler: exit status 128+sig.
func killedBy(sig int, f *amd64.Frame) {
	prints("xairrosx: program killed by signal ")
	if sig < len(sigNames) && sigNames[sig] != "" {
		prints(sigNames[sig])
	} else {
		printu(uint64(sig))
	}
	prints(" at ")
	printx(f.RIP)
	prints(" ")
	printSymbol(uintptr(f.RIP))
	prints("\n")
	exitQEMU(128 + sig)
}

// exitQEMU ends the machine with the program's exit status: a control line
// on COM2 carries the exact status, then QEMU's isa-debug-exit device (port
// 0x501) turns (status&0x7f) into QEMU's own exit status. Without that
// device (a real machine) it powers off through ACPI.
func exitQEMU(status int) {
	if optLog {
		prints("xairrosx: exit status ")
		printu(uint64(status))
		prints(" after ")
		printu(uint64(nanotime() / 1e3))
		prints(" us, ")
		printu(syscallCount)
		prints(" system calls, ")
		printu(faultCount)
		prints(" page faults\n")
	}
	exitLine(status)
	amd64.Outw(0x501, uint16(status&0x7f))
	// Still running: no debug-exit device. Power off through ACPI.
	powerOff()
	for {
		amd64.DisableInterrupts()
		amd64.Halt()
	}
}

// exitLine writes the control line "XAIRROSX-EXIT status" to COM2 and lets
// the UARTs drain.
func exitLine(status int) {
	const msg = "XAIRROSX-EXIT "
	for i := 0; i < len(msg); i++ {
		uartPut(com2, msg[i])
	}
	var buf [20]byte
	for _, c := range decimal(&buf, uint64(status&0xff)) {
		uartPut(com2, c)
	}
	uartPut(com2, '\n')
	for i := 0; i < 1<<16 && amd64.Inb(com1+uartLSR)&0x40 == 0; i++ {
	}
}
