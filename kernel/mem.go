package kernel

import (
	"github.com/xairrosx/xairrosx/arch/amd64"
)

// Physical memory: two free lists threaded through the free memory itself
// (each free block holds the address of the next), reached through the
// identity map: 2 MiB-aligned chunks for huge pages, and 4 KiB frames.
// Allocation is O(1) and needs no memory of its own. When the frame list
// runs dry, a chunk is broken into 512 frames; freed frames never merge back
// into chunks.

const (
	pageSize  = 4096
	pageShift = 12
	hugeSize  = 2 << 20
)

var (
	freeHead    uintptr // first free frame, 0 if none
	freeFrames  uint64  // free memory in 4 KiB units, chunks included
	totalFrames uint64  // frames the allocator was given
	hugeHead    uintptr // first free 2 MiB chunk, 0 if none
	hugeChunks  uint64  // chunks on the chunk list
	imageEnd    uintptr // end of the loaded kernel image (BSS included)
	identTop    uintptr // end of the identity map
)

// initFrames puts every RAM frame in [lo, hi) above 1 MiB that is not part
// of the image on the free lists. The range must be identity-mapped: the
// boot page tables map the first 4 GiB, and the rest of RAM is added once
// the kernel's own page tables map it.
func initFrames(imageStart, imageEnd uintptr, lo, hi uintptr) {
	for i := 0; i < nregions; i++ {
		r := regions[i]
		base := (max(r.base, lo) + pageSize - 1) &^ (pageSize - 1)
		end := min(r.end, hi) &^ (pageSize - 1)
		for a := base; a+pageSize <= end; {
			if a&(hugeSize-1) == 0 && a+hugeSize <= end && a >= 1<<20 && (a+hugeSize <= imageStart || a >= imageEnd) {
				store64(a, uint64(hugeHead))
				hugeHead = a
				hugeChunks++
				freeFrames += hugeSize / pageSize
				totalFrames += hugeSize / pageSize
				a += hugeSize
				continue
			}
			if a >= 1<<20 && (a+pageSize <= imageStart || a >= imageEnd) {
				store64(a, uint64(freeHead))
				freeHead = a
				freeFrames++
				totalFrames++
			}
			a += pageSize
		}
	}
}

// allocFrame returns a zeroed frame, or 0 when memory is exhausted.
func allocFrame() uintptr {
	if freeHead == 0 && hugeHead != 0 {
		// Break a chunk into frames.
		c := hugeHead
		hugeHead = uintptr(load64(c))
		hugeChunks--
		for a := c + hugeSize - pageSize; ; a -= pageSize {
			store64(a, uint64(freeHead))
			freeHead = a
			if a == c {
				break
			}
		}
	}
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

// allocHuge returns a zeroed 2 MiB chunk, or 0 if none is free.
func allocHuge() uintptr {
	c := hugeHead
	if c == 0 {
		return 0
	}
	hugeHead = uintptr(load64(c))
	hugeChunks--
	freeFrames -= hugeSize / pageSize
	clear((*[hugeSize]byte)(addrPtr(c))[:])
	return c
}

// freeHuge returns a chunk to the chunk list.
func freeHuge(c uintptr) {
	store64(c, uint64(hugeHead))
	hugeHead = c
	hugeChunks++
	freeFrames += hugeSize / pageSize
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

// hugeAt returns the address of the PDE that maps va with a 2 MiB page, or
// 0 if va is not mapped by one.
func hugeAt(va uintptr) uintptr {
	pde := walk(va, 2, false)
	if pde == 0 {
		return 0
	}
	if v := load64(pde); v&ptePresent != 0 && v&pteHuge != 0 {
		return pde
	}
	return 0
}

// splitHuge replaces the 2 MiB page at pde (mapping va's region) with a page
// table of 512 4 KiB entries over the same frames. It returns false when no
// frame is left for the table.
func splitHuge(pde, va uintptr) bool {
	pt := allocFrame()
	if pt == 0 {
		return false
	}
	v := load64(pde)
	base := v & pteAddr &^ (hugeSize - 1)
	flags := v & (ptePresent | pteWrite | pteUser)
	for i := uintptr(0); i < 512; i++ {
		store64(pt+i*8, base+uint64(i*pageSize)|flags)
	}
	store64(pde, uint64(pt)|ptePresent|pteWrite|pteUser)
	region := va &^ (hugeSize - 1)
	for a := region; a < region+hugeSize; a += pageSize {
		amd64.Invlpg(a)
	}
	return true
}

// covers reports whether [start, end) contains the whole 2 MiB region of va.
func covers(va, start, end uintptr) bool {
	region := va &^ (hugeSize - 1)
	return start <= region && end >= region+hugeSize
}

// pageVisitor says what a walk over a range does: whole is called for a
// 2 MiB page that lies entirely in the range; partial for one that does not
// and could not be split for lack of a frame (hi ends the part in range);
// small for each present 4 KiB entry.
type pageVisitor struct {
	whole   func(pde, va uintptr)
	partial func(pde, va, hi uintptr)
	small   func(pte, va uintptr)
}

// walkRange visits the mappings in [start, end). Missing tables are skipped
// a whole table at a time; a 2 MiB page partly inside the range is split
// into 4 KiB entries first.
func walkRange(start, end uintptr, v pageVisitor) {
	va := start
	for va < end {
		region := va &^ (hugeSize - 1)
		if pde := hugeAt(va); pde != 0 {
			switch {
			case covers(va, start, end):
				v.whole(pde, va)
				va = region + hugeSize
				continue
			case !splitHuge(pde, va):
				hi := min(end, region+hugeSize)
				v.partial(pde, va, hi)
				va = hi
				continue
			}
			hugeMapped--
		}
		pde := walk(va, 2, false)
		if pde == 0 || load64(pde)&ptePresent == 0 {
			va = region + hugeSize
			continue
		}
		if pte := walk(va, 1, false); pte != 0 && load64(pte)&ptePresent != 0 {
			v.small(pte, va)
		}
		va += pageSize
	}
}

// unmapRange removes the mappings in [start, end), frees their memory and
// flushes the TLB.
func unmapRange(start, end uintptr) {
	walkRange(start, end, pageVisitor{
		whole: func(pde, va uintptr) {
			c := uintptr(load64(pde) & pteAddr)
			store64(pde, 0)
			amd64.Invlpg(va)
			freeHuge(c)
			hugeMapped--
		},
		partial: func(pde, va, hi uintptr) {
			// No frame for a page table: keep the page and zero the part
			// in the range, which then reads back as zeros.
			clear(bytesAt(va, int(hi-va)))
		},
		small: func(pte, va uintptr) {
			f := uintptr(load64(pte) & pteAddr)
			store64(pte, 0)
			amd64.Invlpg(va)
			freeFrame(f)
		},
	})
}

// protectRange sets or clears the writable bit of the present pages in
// [start, end); readable=false removes them.
func protectRange(start, end uintptr, writable, readable bool) {
	if !readable {
		unmapRange(start, end)
		return
	}
	set := func(e, va uintptr) {
		v := load64(e)
		if writable {
			v |= pteWrite
		} else {
			v &^= pteWrite
		}
		store64(e, v)
		amd64.Invlpg(va)
	}
	walkRange(start, end, pageVisitor{
		whole: set,
		// Out of memory to split it, the whole page takes the protection.
		partial: func(pde, va, hi uintptr) { set(pde, va) },
		small:   set,
	})
}

// mapHuge maps the 2 MiB region at va (aligned) to chunk c, if no page
// table exists there yet.
func mapHuge(va, c uintptr, writable bool) bool {
	pde := walk(va, 2, true)
	if pde == 0 || load64(pde)&ptePresent != 0 {
		return false
	}
	v := uint64(c) | ptePresent | pteUser | pteHuge
	if writable {
		v |= pteWrite
	}
	store64(pde, v)
	return true
}

// translate returns the PTE value mapping va, or 0.
func translate(va uintptr) uint64 {
	pte := walk(va, 1, false)
	if pte == 0 {
		return 0
	}
	return load64(pte)
}
