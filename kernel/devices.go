package kernel

import "github.com/xairrosx/xairrosx/arch/amd64"

// Kernel support for device drivers that run as goroutines in the program
// (packages under drivers/): interrupts delivered to a waiting thread, DMA
// memory whose virtual address is its physical address, and identity
// mappings of device memory above 4 GiB. Port I/O needs no kernel help: the
// program runs with IOPL 3.

const (
	sysIRQWait  = 1003
	sysDMAAlloc = 1004
	sysDMAFree  = 1005
	sysMapMMIO  = 1006

	protMMIO = 0x1000 // VMA flag: device memory mapped by sysMapMMIO
)

var (
	irqPending uint64 // lines that fired with no thread waiting
	irqMasked  uint64 // device lines masked at their controller
	irqOwned   uint64 // lines some driver has waited on
)

// deviceIRQ handles a device interrupt on line n: mask it (a level-triggered
// line keeps asserting until the driver acknowledges the device), then wake
// the thread waiting for it, or remember it.
func deviceIRQ(n int) {
	setLineMask(n, true)
	for i := 0; i < nthreads; i++ {
		t := &threads[i]
		if t.state == tsBlocked && t.wait == waitIRQ && int(t.waitArg) == n {
			wake(t, 0)
			return
		}
	}
	irqPending |= 1 << n
}

func setIRQMask(n int, masked bool) {
	if masked {
		irqMasked |= 1 << n
	} else {
		irqMasked &^= 1 << n
	}
	port, bit := uint16(picMaster+1), uint(n)
	if n >= 8 {
		port, bit = picSlave+1, uint(n-8)
	}
	v := amd64.Inb(port)
	if masked {
		v |= 1 << bit
	} else {
		v &^= 1 << bit
	}
	amd64.Outb(port, v)
	if n >= 8 && !masked {
		// The cascade line must be open for the slave's lines.
		amd64.Outb(picMaster+1, amd64.Inb(picMaster+1)&^(1<<2))
	}
}

func sysIRQWaitCall(t *thread, n int64) int64 {
	line := deviceLine(n)
	if line < 0 {
		return -_EINVAL
	}
	irqOwned |= 1 << line
	if irqPending&(1<<line) != 0 {
		irqPending &^= 1 << line
		return 0
	}
	block(t, waitIRQ, 0)
	t.waitArg = uintptr(line)
	setLineMask(line, false)
	return 0
}

func sysDMAAllocCall(n uintptr) int64 {
	switch {
	case n == 0 || n > hugeSize:
		return -_EINVAL
	case n <= pageSize:
		a := allocFrame()
		if a == 0 {
			return -_ENOMEM
		}
		return int64(a)
	}
	c := allocHuge()
	if c == 0 {
		return -_ENOMEM
	}
	return int64(c)
}

func sysDMAFreeCall(a, n uintptr) int64 {
	if a < imageEnd || a >= identTop || a&(pageSize-1) != 0 {
		return -_EINVAL
	}
	switch {
	case n == 0 || n > hugeSize:
		return -_EINVAL
	case n <= pageSize:
		freeFrame(a)
	default:
		if a&(hugeSize-1) != 0 {
			return -_EINVAL
		}
		freeHuge(a)
	}
	return 0
}

// sysMapMMIOCall identity-maps device memory, uncached. Below the end of the
// identity map it is already mapped; above, the range becomes an area of its
// own that munmap and MAP_FIXED refuse to touch.
func sysMapMMIOCall(phys, size uintptr) int64 {
	start := phys &^ (pageSize - 1)
	end := (phys + size + pageSize - 1) &^ (pageSize - 1)
	if size == 0 || end < start || end > userTop {
		return -_EINVAL
	}
	if end <= identTop {
		return 0
	}
	if start < identTop || !rangeFree(start, end) {
		return -_EEXIST
	}
	if !insertVMA(start, end, protRead|protWrite|protMMIO) {
		return -_ENOMEM
	}
	for va := start; va < end; va += pageSize {
		pte := walk(va, 1, true)
		if pte == 0 {
			return -_ENOMEM
		}
		store64(pte, uint64(va)|ptePresent|pteWrite|pteUser|ptePCD)
	}
	return 0
}
