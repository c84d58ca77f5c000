package kernel

import (
	"github.com/xairrosx/xairrosx/arch/amd64"
)

// Physical memory: a free list of 4 KiB frames threaded through the free
// frames themselves (each holds the address of the next), reached through the
// identity map. Allocation is O(1) and needs no memory of its own.

const (
	pageSize  = 4096
	pageShift = 12
	hugeSize  = 2 << 20
)

var (
	freeHead    uintptr // first free frame, 0 if none
	freeFrames  uint64  // frames on the free list
	totalFrames uint64  // frames the allocator was given
	imageEnd    uintptr // end of the loaded kernel image (BSS included)
	identTop    uintptr // end of the identity map
)

// initFrames puts every RAM frame above 1 MiB that is not part of the image
// on the free list. Only RAM below identLimit can be used.
func initFrames(imageStart, imageEnd uintptr, identLimit uintptr) {
	for i := 0; i < nregions; i++ {
		r := regions[i]
		base := (r.base + pageSize - 1) &^ (pageSize - 1)
		end := r.end &^ (pageSize - 1)
		if end > identLimit {
			end = identLimit
		}
		for a := base; a+pageSize <= end; a += pageSize {
			if a < 1<<20 || (a+pageSize > imageStart && a < imageEnd) {
				continue
			}
			store64(a, uint64(freeHead))
			freeHead = a
			freeFrames++
			totalFrames++
		}
	}
}

// allocFrame returns a zeroed frame, or 0 when memory is exhausted.
func allocFrame() uintptr {
	a := freeHead
	if a == 0 {
		return 0
	}
	freeHead = uintptr(load64(a))
	freeFrames--
	zeroPage(a)
	return a
}

// freeFrame returns a frame to the free list.
func freeFrame(a uintptr) {
	store64(a, uint64(freeHead))
	freeHead = a
	freeFrames++
}

func zeroPage(a uintptr) {
	p := (*[pageSize / 8]uint64)(addrPtr(a))
	for i := range p {
		p[i] = 0
	}
}

// Page-table entry bits (Intel SDM Vol. 3A, 4.5).
const (
	ptePresent = 1 << 0
	pteWrite   = 1 << 1
	pteUser    = 1 << 2
	ptePCD     = 1 << 4
	pteHuge    = 1 << 7
	pteAddr    = 0x000F_FFFF_FFFF_F000
)

var pml4 uintptr // root of the page tables

// initPaging builds the kernel's page tables: an identity map of [0, top)
// with 2 MiB pages, except the first 2 MiB, which is mapped with 4 KiB pages
// and leaves page 0 unmapped so that nil dereferences fault. Every entry is
// user-accessible: the program and the kernel share one address space, and
// Go drivers touch device memory directly.
func initPaging(top uintptr) bool {
	pml4 = allocFrame()
	if pml4 == 0 {
		return false
	}
	for va := uintptr(hugeSize); va < top; va += hugeSize {
		pde := walk(va, 2, true)
		if pde == 0 {
			return false
		}
		flags := uint64(ptePresent | pteWrite | pteUser | pteHuge)
		if va >= 0xC0000000 && va < 1<<32 {
			flags |= ptePCD // device memory below 4 GiB
		}
		store64(pde, uint64(va)|flags)
	}
	for va := uintptr(pageSize); va < hugeSize; va += pageSize {
		pte := walk(va, 1, true)
		if pte == 0 {
			return false
		}
		store64(pte, uint64(va)|ptePresent|pteWrite|pteUser)
	}
	identTop = top
	amd64.WriteCR3(uint64(pml4))
	return true
}

// walk returns the address of the entry that maps va at the given level (1:
// PTE, 2: PDE), creating intermediate tables when create is set. It returns
// 0 if a table is missing (and not created) or a larger page maps va.
func walk(va uintptr, level int, create bool) uintptr {
	table := pml4
	for l := 4; l > level; l-- {
		idx := (va >> (pageShift + 9*uint(l-1))) & 511
		e := table + idx*8
		v := load64(e)
		if v&ptePresent == 0 {
			if !create {
				return 0
			}
			t := allocFrame()
			if t == 0 {
				return 0
			}
			v = uint64(t) | ptePresent | pteWrite | pteUser
			store64(e, v)
		} else if v&pteHuge != 0 {
			return 0
		}
		table = uintptr(v & pteAddr)
	}
	return table + ((va>>(pageShift+9*uint(level-1)))&511)*8
}

// mapPage maps the 4 KiB page at va to frame pa.
func mapPage(va, pa uintptr, writable bool) bool {
	pte := walk(va, 1, true)
	if pte == 0 {
		return false
	}
	v := uint64(pa) | ptePresent | pteUser
	if writable {
		v |= pteWrite
	}
	store64(pte, v)
	return true
}

// unmapRange removes the 4 KiB mappings in [start, end), frees their frames
// and flushes the TLB. Missing tables are skipped a whole table at a time.
func unmapRange(start, end uintptr) {
	va := start
	for va < end {
		pde := walk(va, 2, false)
		if pde == 0 || load64(pde)&ptePresent == 0 {
			va = (va + hugeSize) &^ (hugeSize - 1)
			continue
		}
		pte := walk(va, 1, false)
		if pte != 0 {
			if v := load64(pte); v&ptePresent != 0 {
				store64(pte, 0)
				amd64.Invlpg(va)
				freeFrame(uintptr(v & pteAddr))
			}
		}
		va += pageSize
	}
}

// protectRange sets or clears the writable bit of the present pages in
// [start, end); readable=false removes them.
func protectRange(start, end uintptr, writable, readable bool) {
	if !readable {
		unmapRange(start, end)
		return
	}
	va := start
	for va < end {
		pde := walk(va, 2, false)
		if pde == 0 || load64(pde)&ptePresent == 0 {
			va = (va + hugeSize) &^ (hugeSize - 1)
			continue
		}
		if pte := walk(va, 1, false); pte != 0 {
			if v := load64(pte); v&ptePresent != 0 {
				if writable {
					v |= pteWrite
				} else {
					v &^= pteWrite
				}
				store64(pte, v)
				amd64.Invlpg(va)
			}
		}
		va += pageSize
	}
}

// translate returns the PTE value mapping va, or 0.
func translate(va uintptr) uint64 {
	pte := walk(va, 1, false)
	if pte == 0 {
		return 0
	}
	return load64(pte)
}
