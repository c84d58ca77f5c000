// Package kernel is the XairrosX kernel core: it takes over the machine from
// the boot entry in package arch/amd64, then implements, for the Go program it
// is linked into, the part of the Linux system-call ABI that Go's runtime and
// standard library use: memory (mmap with demand-zero paging), threads
// (clone, futex, a preemptive scheduler), time, signals, the netpoller's
// epoll and eventfd, and the console.
//
// Importing the package (the xairrosx build tool adds the import with an
// overlay) changes nothing when the program runs on Linux: the kernel only
// runs when the image is entered at arch/amd64's PVH entry point. On Linux,
// the exported information functions (Memory, Threads, CPU, ...) answer from
// the host.
//
// # Structure
//
// kmain (boot.go) runs once, on the boot CPU's kernel stack, before the Go
// runtime exists: console, boot information, CPU features and extended
// state, physical memory, page tables, descriptor tables, timers, then the
// first thread, which enters the runtime at _rt0_amd64_linux. From then on the
// kernel runs only inside trap (trap.go), entered for each system call,
// exception and interrupt with the interrupted thread's registers in a Frame.
// A handler either completes at once (the result goes into the Frame's RAX) or
// marks the thread blocked; the scheduler then picks the thread to return to.
// A blocked thread is only its saved Frame; whoever wakes it writes its
// result there.
//
// # Rules
//
// All code reachable from kmain and trap is kernel context and follows the
// rules in the arch/amd64 package documentation: no allocation, no pointer
// writes to heap or globals (kernel tables hold uintptr and indices), no
// runtime calls, bounded stack. The state is in fixed-size, pointer-free
// package variables. There is one CPU today; per-CPU state lives in the
// arch.CPU block reached through GS, not in globals, so that more CPUs can be
// added without changing the handlers' shape. Kernel context runs with
// interrupts disabled, except in the idle loop.
package kernel
