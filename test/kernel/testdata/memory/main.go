// Command memory exercises the kernel's memory paths from a Go program: a
// large heap allocation (backed by 2 MiB pages on a guest with room), its
// release to the kernel (MADV_DONTNEED must give zeroed pages back), and
// reuse. It prints what it checked.
package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"unsafe"

	"github.com/xairrosx/xairrosx/kernel"
)

var sink []byte

func main() {
	if !kernel.Running() {
		fmt.Println("not on XairrosX")
		return
	}
	before := kernel.Memory()
	sink = make([]byte, 96<<20)
	for i := 0; i < len(sink); i += 4096 {
		sink[i] = 0xAA
	}
	during := kernel.Memory()
	fmt.Println("huge pages used for a 96 MiB heap object:", during.HugePages > before.HugePages)
	fmt.Println("user memory grew by at least 96 MiB:", during.UserBytes-before.UserBytes >= 96<<20)
	sink = nil
	runtime.GC()
	debug.FreeOSMemory()
	after := kernel.Memory()
	fmt.Println("memory returned to the kernel:", after.FreeBytes > during.FreeBytes+64<<20)
	// Memory handed back and reused must read as zeros.
	b := make([]byte, 96<<20)
	nonzero := 0
	for i := 0; i < len(b); i += 512 {
		if b[i] != 0 {
			nonzero++
		}
	}
	fmt.Println("reused memory reads as zeros:", nonzero == 0)

	// DMA memory: identity-mapped, zeroed, physically contiguous.
	for _, n := range []int{4096, 1 << 20} {
		a, err := kernel.DMAAlloc(n)
		if err != nil {
			fmt.Println("DMAAlloc:", err)
			continue
		}
		buf := unsafe.Slice((*byte)(unsafe.Pointer(a)), n)
		zero := true
		for _, c := range buf {
			zero = zero && c == 0
		}
		buf[n-1] = 7
		fmt.Printf("DMA %d bytes: zeroed %v, page aligned %v, writable %v, freed %v\n",
			n, zero, a%4096 == 0, buf[n-1] == 7, kernel.DMAFree(a, n) == nil)
	}
	fmt.Println("IRQWait on the timer line refused:", kernel.IRQWait(0) != nil)
}
