// Package mmio reads and writes device registers and shared device memory
// at raw addresses (uintptr) with accesses of exactly the requested width,
// each performed once and in program order.
//
// Go has no volatile: the compiler may merge, widen, reorder or drop plain
// loads and stores through pointers, and sync/atomic offers no 8- or 16-bit
// operations. Virtio's common configuration structure requires 8-, 16- and
// 32-bit accesses of the field's own width (VIRTIO 1.2, 4.1.3.1), so every
// access here is a small assembly routine: a call the compiler cannot look
// into, holding a single MOV of the given width. On amd64 (TSO) stores are
// not reordered with other stores nor loads with other loads; Fence orders a
// store before a later load (MFENCE).
//
// Addresses are physical addresses identity-mapped by the XairrosX kernel
// (DMA memory, MMIO below 4 GiB or mapped with kernel.MapMMIO) or, in host
// tests, addresses of Go memory the caller keeps alive.
package mmio

// Read8 returns the byte at addr. Defined in mmio_amd64.s.
func Read8(addr uintptr) uint8

// Read16 returns the 16-bit little-endian word at addr. Defined in mmio_amd64.s.
func Read16(addr uintptr) uint16

// Read32 returns the 32-bit little-endian word at addr. Defined in mmio_amd64.s.
func Read32(addr uintptr) uint32

// Write8 stores v at addr. Defined in mmio_amd64.s.
func Write8(addr uintptr, v uint8)

// Write16 stores v at addr. Defined in mmio_amd64.s.
func Write16(addr uintptr, v uint16)

// Write32 stores v at addr. Defined in mmio_amd64.s.
func Write32(addr uintptr, v uint32)

// Write64 stores v at addr as one 64-bit access. Defined in mmio_amd64.s.
func Write64(addr uintptr, v uint64)

// Read64 returns the 64-bit word at addr as one access. Defined in mmio_amd64.s.
func Read64(addr uintptr) uint64

// Fence orders every earlier load and store before every later one
// (MFENCE). Defined in mmio_amd64.s.
func Fence()
