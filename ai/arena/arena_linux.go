package arena

import (
	"runtime"
	"syscall"
)

const hugePage = 2 << 20

// newArena maps anonymous memory; regions of 2 MiB or more are rounded to
// whole huge pages and advised MADV_HUGEPAGE. The mapping is released by a
// finalizer when the arena becomes unreachable, or by Free.
func newArena(size int) (*Arena, error) {
	n := (size + 4095) &^ 4095
	if n >= hugePage {
		n = (n + hugePage - 1) &^ (hugePage - 1)
	}
	mem, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		// Fall back to the Go heap (for example under a kernel without mmap of this size).
		return &Arena{mem: make([]byte, size)}, nil
	}
	if n >= hugePage {
		_ = syscall.Madvise(mem, 14) // MADV_HUGEPAGE; only a hint
	}
	a := &Arena{mem: mem[:size:size], mapped: true}
	full := mem
	runtime.SetFinalizer(a, func(*Arena) { _ = syscall.Munmap(full) })
	return a, nil
}
