package amd64

import "unsafe"

// Descriptor tables (Intel SDM Vol. 3A, chapters 3, 6 and 7): one GDT, TSS
// and IDT for the boot CPU. They are pointer-free arrays in the image's BSS.

var (
	gdt    [8]uint64
	tss    [13]uint64 // 104-byte 64-bit TSS
	idt    [256 * 2]uint64
	dtrBuf [2]uint64 // pseudo-descriptor scratch for LGDT/LIDT
	cpu0   CPU
)

// TSS field offsets (bytes).
const (
	tssRSP0 = 4
	tssIST1 = 36
)

func setTSS64(off int, v uint64) {
	p := (*[104]byte)(unsafe.Pointer(&tss[0]))
	for i := 0; i < 8; i++ {
		p[off+i] = byte(v >> (8 * i))
	}
}

// LoadGDT installs the kernel's GDT (kernel code/data, user data/code in
// SYSRET order, and the TSS) and loads TR. kstack becomes TSS.RSP0, the
// stack every entry from CPL 3 lands on; ist is IST1, used for double faults
// and NMIs.
//
//go:nosplit
func LoadGDT(kstack, ist uintptr) {
	gdt[0] = 0
	gdt[1] = 0x00AF9A000000FFFF // 0x08 kernel code, 64-bit
	gdt[2] = 0x00CF92000000FFFF // 0x10 kernel data
	gdt[3] = 0x00CFFA000000FFFF // 0x18 user code 32-bit (unused; SYSRET layout)
	gdt[4] = 0x00CFF2000000FFFF // 0x20 user data
	gdt[5] = 0x00AFFA000000FFFF // 0x28 user code, 64-bit
	setTSS64(tssRSP0, uint64(kstack))
	setTSS64(tssIST1, uint64(ist))
	// I/O map base beyond the limit: no I/O bitmap (IOPL governs port access).
	p := (*[104]byte)(unsafe.Pointer(&tss[0]))
	p[102], p[103] = 104, 0
	base := uint64(uintptr(unsafe.Pointer(&tss[0])))
	limit := uint64(103)
	gdt[6] = limit | (base&0xFFFFFF)<<16 | 0x89<<40 | (base>>24&0xFF)<<56
	gdt[7] = base >> 32
	dtrBuf[0] = uint64(len(gdt)*8-1) | uint64(uintptr(unsafe.Pointer(&gdt[0])))<<16
	dtrBuf[1] = uint64(uintptr(unsafe.Pointer(&gdt[0]))) >> 48
	Lgdt(uintptr(unsafe.Pointer(&dtrBuf[0])))
	ReloadSegments(KernelCS, KernelSS)
	Ltr(TSSSel)
}

// SetKernelStack sets TSS.RSP0.
//
//go:nosplit
func SetKernelStack(top uintptr) { setTSS64(tssRSP0, uint64(top)) }

// LoadIDT fills the IDT with interrupt gates (IF cleared on entry) for every
// vector that has a stub, double faults and NMIs on IST1, and loads it.
//
//go:nosplit
func LoadIDT() {
	for i, v := range StubVectors {
		addr := uint64(stubAddr(i))
		ist := uint64(0)
		if v == 8 || v == 2 {
			ist = 1
		}
		// Present, DPL 0, 64-bit interrupt gate.
		idt[2*int(v)] = addr&0xFFFF | uint64(KernelCS)<<16 | ist<<32 | 0x8E<<40 | (addr>>16&0xFFFF)<<48
		idt[2*int(v)+1] = addr >> 32
	}
	dtrBuf[0] = uint64(len(idt)*8-1) | uint64(uintptr(unsafe.Pointer(&idt[0])))<<16
	dtrBuf[1] = uint64(uintptr(unsafe.Pointer(&idt[0]))) >> 48
	Lidt(uintptr(unsafe.Pointer(&dtrBuf[0])))
}

// MSRs used by SetupSyscall and the per-CPU setup.
const (
	MSREFER         = 0xC0000080
	MSRSTAR         = 0xC0000081
	MSRLSTAR        = 0xC0000082
	MSRFMASK        = 0xC0000084
	MSRFSBase       = 0xC0000100
	MSRGSBase       = 0xC0000101
	MSRKernelGSBase = 0xC0000102
)

// SetupSyscall enables SYSCALL with syscallEntry as its target. SYSCALL
// clears IF, DF, TF and AC; STAR holds the kernel selectors and the base that
// SYSRET would use for the user ones.
//
//go:nosplit
func SetupSyscall() {
	Wrmsr(MSREFER, Rdmsr(MSREFER)|1)
	Wrmsr(MSRSTAR, uint64(KernelCS)<<32|uint64(0x18|3)<<48)
	Wrmsr(MSRLSTAR, uint64(syscallEntryAddr()))
	Wrmsr(MSRFMASK, FlagIF|FlagDF|FlagTF|FlagAC)
}

// BootCPU returns the boot CPU's per-CPU block after pointing GS at it.
//
//go:nosplit
func BootCPU() *CPU {
	c := &cpu0
	c.Self = uintptr(unsafe.Pointer(c))
	c.KernelFS = KernelFS()
	Wrmsr(MSRGSBase, uint64(c.Self))
	Wrmsr(MSRKernelGSBase, 0)
	return c
}

// RuntimeEntry returns the address of the Go runtime's Linux entry point.
func RuntimeEntry() uintptr { return rt0Addr() }

func syscallEntryAddr() uintptr
func rt0Addr() uintptr
