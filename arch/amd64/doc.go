// Package amd64 is XairrosX's CPU boundary on x86-64: the PVH boot entry that
// takes the processor from 32-bit protected mode to long mode, the GDT, TSS and
// IDT, the trap, interrupt and SYSCALL entry and exit sequences, and thin Go
// declarations for the privileged instructions (MSRs, control registers,
// port I/O, XSAVE, CPUID) that Go cannot express.
//
// It is the only package with assembly for the kernel core, and it imports no
// other XairrosX package: the kernel proper (package kernel) is reached only
// through two linknamed functions, kernelMain (called once at boot) and
// kernelTrap (called for every trap, interrupt and system call).
//
// # Execution model
//
// Go code of the program runs at CPL 3 with IOPL 3 (so drivers written as
// goroutines may use port I/O). Every entry into the kernel (exception,
// interrupt, SYSCALL) lands on the current CPU's kernel stack, saves the general
// registers into a Frame at the top of that stack, saves the extended (XSAVE)
// state into the current thread's area, switches FS to the CPU's kernel TLS
// block and calls kernelTrap(frame). The kernel may rewrite the frame (a system
// call result, or another thread's registers to switch threads) before the exit
// path restores FS, the extended state and the registers, and returns with
// IRETQ. The kernel never blocks in the middle of a trap, so one kernel stack
// per CPU suffices: a thread that waits is only a saved Frame.
//
// # Rules for kernel-context code
//
// Code called from kernelTrap runs on the CPU's kernel stack with interrupts
// disabled, between two instants at which the Go runtime of the program does
// not know that anything happened. It must follow these rules:
//
//   - No allocation, no channel operations, no defer/recover, no maps, no
//     interfaces that escape, no fmt: the runtime's heap and scheduler belong to
//     the interrupted program.
//   - No writes of Go pointers into heap or global memory (they would need
//     write barriers, and the GC of the program may be running): kernel data
//     structures hold uintptr and indices only.
//   - Functions that run before the kernel TLS is set up, and the entry
//     sequences, are //go:nosplit. Other kernel functions may be ordinary Go:
//     FS points at a per-CPU TLS block whose g describes the kernel stack, so
//     the compiler's stack checks pass on that stack. Nothing in kernel context
//     may need more than the kernel stack (KernelStackSize bytes): the stack
//     never grows.
//   - Never call into the runtime except for the nosplit, allocation-free
//     helpers (memmove, memclr) that the compiler inserts, and the symbol
//     table lookups used by the fault printer.
package amd64
