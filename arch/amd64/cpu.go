package amd64

// This file declares the privileged instructions used by the kernel. Each is
// a few instructions of assembly in cpu_amd64.s: Go has no way to express
// them.

// CPUID executes CPUID with the given leaf and subleaf.
func CPUID(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// Xgetbv reads extended control register XCR[index].
func Xgetbv(index uint32) uint64

// Xsetbv writes extended control register XCR[index].
func Xsetbv(index uint32, value uint64)

// Rdmsr reads a model-specific register.
func Rdmsr(msr uint32) uint64

// Wrmsr writes a model-specific register.
func Wrmsr(msr uint32, value uint64)

// Rdtsc reads the time-stamp counter.
func Rdtsc() uint64

// ReadCR0 returns CR0.
func ReadCR0() uint64

// WriteCR0 sets CR0.
func WriteCR0(v uint64)

// ReadCR2 returns CR2, the faulting address of the last page fault.
func ReadCR2() uint64

// ReadCR3 returns CR3, the page-table root.
func ReadCR3() uint64

// WriteCR3 sets CR3, switching page tables and flushing non-global TLB entries.
func WriteCR3(v uint64)

// ReadCR4 returns CR4.
func ReadCR4() uint64

// WriteCR4 sets CR4.
func WriteCR4(v uint64)

// Invlpg flushes the TLB entry of the page that contains addr.
func Invlpg(addr uintptr)

// Inb reads a byte from an I/O port.
func Inb(port uint16) uint8

// Outb writes a byte to an I/O port.
func Outb(port uint16, v uint8)

// Outw writes a 16-bit word to an I/O port.
func Outw(port uint16, v uint16)

// Inl reads a 32-bit word from an I/O port.
func Inl(port uint16) uint32

// Outl writes a 32-bit word to an I/O port.
func Outl(port uint16, v uint32)

// Halt enables interrupts and halts until the next one, then disables
// interrupts again (STI; HLT; CLI). STI's one-instruction shadow makes the
// pair atomic: an interrupt pending at STI still ends the HLT.
func Halt()

// DisableInterrupts executes CLI.
func DisableInterrupts()

// Pause executes PAUSE, the spin-wait hint.
func Pause()

// Rdrand returns a hardware random number, or ok=false when the DRNG had none.
func Rdrand() (v uint64, ok bool)

// Rdseed returns a hardware entropy sample, or ok=false when none was ready.
func Rdseed() (v uint64, ok bool)

// Xsave saves the extended state components in mask to the 64-byte aligned
// area at addr (XSAVE64).
func Xsave(addr uintptr, mask uint64)

// Xrstor restores the extended state components in mask from addr (XRSTOR64).
func Xrstor(addr uintptr, mask uint64)

// Lgdt loads the GDT register from the 10-byte pseudo-descriptor at p.
func Lgdt(p uintptr)

// Lidt loads the IDT register from the 10-byte pseudo-descriptor at p.
func Lidt(p uintptr)

// Ltr loads the task register with a TSS selector.
func Ltr(sel uint16)

// ReloadSegments reloads CS with the kernel code selector (by a far return)
// and DS, ES, SS with the kernel data selector, after a new GDT is loaded.
func ReloadSegments(code, data uint16)

// Fninit resets the x87 FPU.
func Fninit()

// SaveFP stores the running thread's extended state into the current CPU's
// XSAVE area if a SYSCALL entry left it live in the registers, and marks it
// saved so that the exit path restores it.
func SaveFP(c *CPU) {
	if c.FPSaved == 0 {
		Xsave(c.Xsave, c.XMask)
		c.FPSaved = 1
	}
}
