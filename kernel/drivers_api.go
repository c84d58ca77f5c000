package kernel

import (
	"errors"
	"syscall"
	"unsafe"
)

// The program-side API of devices.go, for drivers running as goroutines.

// ErrNotXairrosX is returned by the device functions on a Linux host.
var ErrNotXairrosX = errors.New("kernel: not running on XairrosX")

func errnoErr(e syscall.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}

// InterruptLines returns how many interrupt lines (below the MSI lines)
// IRQWait can wait for: the I/O APICs' GSIs (24 on pc and q35, 48 on a
// microvm with its second I/O APIC), or 16 with the 8259 PICs. It returns 0
// when not running on XairrosX.
func InterruptLines() int {
	if !booted {
		return 0
	}
	return interruptLines()
}

// AllocMSI reserves a message-signalled interrupt: a device that writes
// data to addr (programmed into its MSI-X table) raises interrupt irq, which
// IRQWait waits for. MSIs are edge-triggered: nothing needs masking.
func AllocMSI() (irq int, addr uint64, data uint32, err error) {
	if !booted {
		return 0, 0, 0, ErrNotXairrosX
	}
	r, _, e := syscall.RawSyscall(sysMSIAlloc, uintptr(unsafe.Pointer(&addr)), uintptr(unsafe.Pointer(&data)), 0)
	if e != 0 {
		return 0, 0, 0, errnoErr(e)
	}
	return int(r), addr, data, nil
}

// IRQWait blocks the calling thread until interrupt irq fires: a legacy
// ISA IRQ (0-15: what a PCI function's interrupt-line register holds) or,
// where the kernel routes interrupts through I/O APICs, a global system
// interrupt from 16 to 47 (QEMU's microvm puts virtio-mmio devices there),
// or a message-signalled interrupt from AllocMSI (48 up). The kernel masks the line when it fires and unmasks it at the next
// IRQWait, so a driver acknowledges its device between two calls. Call it
// from a goroutine locked to its thread.
func IRQWait(irq int) error {
	if !booted {
		return ErrNotXairrosX
	}
	_, _, e := syscall.Syscall(sysIRQWait, uintptr(irq), 0, 0)
	return errnoErr(e)
}

// DMAAlloc returns n bytes (rounded up to 4 KiB; at most 2 MiB) of zeroed,
// physically contiguous memory whose virtual address equals its physical
// address, for device queues and buffers.
func DMAAlloc(n int) (uintptr, error) {
	if !booted {
		return 0, ErrNotXairrosX
	}
	a, _, e := syscall.RawSyscall(sysDMAAlloc, uintptr(n), 0, 0)
	if e != 0 {
		return 0, e
	}
	return a, nil
}

// DMAFree returns memory from DMAAlloc; n must be the size it was asked for.
func DMAFree(addr uintptr, n int) error {
	if !booted {
		return ErrNotXairrosX
	}
	_, _, e := syscall.RawSyscall(sysDMAFree, addr, uintptr(n), 0)
	return errnoErr(e)
}

// MapMMIO makes the device memory [phys, phys+size) accessible at the same
// virtual address, uncached. Memory below 4 GiB is always mapped.
func MapMMIO(phys, size uintptr) error {
	if !booted {
		return ErrNotXairrosX
	}
	_, _, e := syscall.RawSyscall(sysMapMMIO, phys, size, 0)
	return errnoErr(e)
}

// SetReady reports the epoll readiness (EPOLLIN, EPOLLOUT, ...) of the
// network service's socket h; epoll waiters are woken. Level-triggered.
func SetReady(h int32, events uint32) {
	if booted {
		syscall.RawSyscall(sysSvcReady, uintptr(h), uintptr(events), 0)
	}
}

// SetSockAddr records the local (peer=false) or peer address of socket h,
// in Linux sockaddr layout; the kernel answers getsockname and getpeername
// from it.
func SetSockAddr(h int32, peer bool, sockaddr []byte) {
	if !booted || len(sockaddr) == 0 {
		return
	}
	p := uintptr(0)
	if peer {
		p = 1
	}
	syscall.RawSyscall6(sysSvcSetAddr, uintptr(h), p, uintptr(unsafe.Pointer(&sockaddr[0])), uintptr(len(sockaddr)), 0, 0)
}
