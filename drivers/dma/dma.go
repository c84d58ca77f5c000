// Package dma provides memory that devices can read and write directly:
// physically contiguous, zeroed, and at a virtual address equal to its
// physical address, so the address a driver writes into a descriptor is the
// address it uses itself.
//
// On XairrosX the memory comes from the kernel (kernel.DMAAlloc: 4 KiB
// pages, or 2 MiB huge pages for larger requests). Drivers take one region
// per device and carve queues and buffers out of it with an Arena. Host
// tests use Heap, which hands out pinned Go memory: its addresses are
// virtual only, which is all a simulated device needs.
package dma

import (
	"fmt"
	"sync"
	"unsafe"

	"github.com/xairrosx/xairrosx/kernel"
)

// MaxRegion is the largest region one Alloc returns (a 2 MiB huge page).
const MaxRegion = 2 << 20

// Allocator hands out DMA regions.
type Allocator interface {
	// Alloc returns n bytes (1 <= n <= MaxRegion) of zeroed memory.
	Alloc(n int) (uintptr, error)
	// Free returns a region; n is the size passed to Alloc.
	Free(addr uintptr, n int) error
}

// Kernel is the XairrosX kernel's DMA memory.
type Kernel struct{}

// Alloc implements Allocator.Alloc.
func (Kernel) Alloc(n int) (uintptr, error) {
	if n < 1 || n > MaxRegion {
		return 0, fmt.Errorf("dma: region of %d bytes: want 1 to %d", n, MaxRegion)
	}
	a, err := kernel.DMAAlloc(n)
	if err != nil {
		return 0, fmt.Errorf("dma: allocating %d bytes: %w", n, err)
	}
	return a, nil
}

// Free implements Allocator.Free.
func (Kernel) Free(addr uintptr, n int) error { return kernel.DMAFree(addr, n) }

// Heap hands out Go memory for host tests of drivers against simulated
// devices. The Go heap does not move objects, and Heap keeps each region
// referenced until it is freed.
type Heap struct {
	mu   sync.Mutex
	live map[uintptr][]uint64
}

// Alloc implements Allocator.Alloc.
func (h *Heap) Alloc(n int) (uintptr, error) {
	if n < 1 || n > MaxRegion {
		return 0, fmt.Errorf("dma: region of %d bytes: want 1 to %d", n, MaxRegion)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.live == nil {
		h.live = map[uintptr][]uint64{}
	}
	// Page-align like the kernel does: over-allocate and round up.
	buf := make([]uint64, (n+8191)/8)
	a := (uintptr(unsafe.Pointer(&buf[0])) + 4095) &^ 4095
	h.live[a] = buf
	return a, nil
}

// Free implements Allocator.Free.
func (h *Heap) Free(addr uintptr, n int) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.live[addr]; !ok {
		return fmt.Errorf("dma: free of %#x: not allocated", addr)
	}
	delete(h.live, addr)
	return nil
}

// Arena carves aligned pieces out of one region. It never frees pieces:
// a driver sizes its arena for everything it keeps for the device's life.
type Arena struct {
	base uintptr
	size int
	used int
}

// NewArena returns an arena over [base, base+size).
func NewArena(base uintptr, size int) *Arena { return &Arena{base: base, size: size} }

// Take returns n bytes aligned to align (a power of two).
func (a *Arena) Take(n, align int) (uintptr, error) {
	off := (a.used + align - 1) &^ (align - 1)
	if n < 0 || off+n > a.size {
		return 0, fmt.Errorf("dma: arena of %d bytes cannot fit %d more bytes (aligned %d) after %d", a.size, n, align, a.used)
	}
	a.used = off + n
	return a.base + uintptr(off), nil
}

// Used returns how many bytes have been taken, padding included.
func (a *Arena) Used() int { return a.used }

// Bytes returns the n bytes of DMA memory at addr as a slice. The memory
// is not Go heap memory (or is pinned by Heap): the caller must not keep
// the slice past the region's life.
func Bytes(addr uintptr, n int) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(ptr(addr)), n)
}

// ptr turns an address into a pointer by reinterpreting its bits, as the
// kernel does (kernel/unsafe.go), so vet's unsafeptr check has nothing to
// say about addresses that are not Go heap pointers.
//
// It is not inlined: inlined, the reinterpreted uintptr reaches Go 1.26.8's
// SSA backend as a non-pointer, and a fixed-size copy into the slice Bytes
// returns (copy(Bytes(a, 512), src[:512])) crashes the compiler
// ("disjointTypes: one of arguments is not a pointer"); TestBytesCopy
// compiles that shape.
//
//go:noinline
func ptr(a uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }
