package kernel

// The program's virtual memory: a sorted table of areas (VMAs) with their
// protection. Pages are backed lazily: a fault on a page inside a readable
// area gets a zeroed frame. This gives Go's runtime what it relies on: large
// PROT_NONE reservations cost nothing, MAP_FIXED commits inside them, and
// MADV_DONTNEED really returns zeroed pages (it frees the frames).

// Linux mmap constants.
const (
	protRead  = 0x1
	protWrite = 0x2
	protExec  = 0x4

	mapShared    = 0x01
	mapPrivate   = 0x02
	mapFixed     = 0x10
	mapAnonymous = 0x20
	mapNoreplace = 0x100000

	madvDontneed = 4
	madvFree     = 8
)

// User address-space layout: areas live between the end of the identity map
// and userTop; mmap without a usable hint allocates downward from mmapBase.
const (
	userTop   = 0x7ff0_0000_0000
	mmapBase  = 0x7f00_0000_0000
	stackSize = 8 << 20
)

type vma struct {
	start, end uintptr
	prot       uint32
}

var (
	vmas       [2048]vma
	nvmas      int
	mmapCursor uintptr = mmapBase
	userPages  uint64  // frames backing user pages now
)

// findVMA returns the index of the area containing a, or -1.
func findVMA(a uintptr) int {
	lo, hi := 0, nvmas
	for lo < hi {
		m := (lo + hi) / 2
		switch {
		case a < vmas[m].start:
			hi = m
		case a >= vmas[m].end:
			lo = m + 1
		default:
			return m
		}
	}
	return -1
}

// rangeFree reports whether [start, end) overlaps no area.
func rangeFree(start, end uintptr) bool {
	for i := 0; i < nvmas; i++ {
		if vmas[i].start < end && start < vmas[i].end {
			return false
		}
		if vmas[i].start >= end {
			break
		}
	}
	return true
}

// removeRange removes [start, end) from the area table and frees the frames
// behind it. It returns false if the table has no room for a split.
func removeRange(start, end uintptr) bool {
	for i := 0; i < nvmas; i++ {
		if vmas[i].prot&protMMIO != 0 && vmas[i].start < end && start < vmas[i].end {
			return false // device memory stays mapped
		}
	}
	if !detachRange(start, end) {
		return false
	}
	unmapUser(start, end)
	return true
}

// detachRange removes [start, end) from the area table, splitting areas that
// straddle its ends, without touching the pages.
func detachRange(start, end uintptr) bool {
	for i := 0; i < nvmas; i++ {
		v := vmas[i]
		if v.end <= start || v.start >= end {
			continue
		}
		if v.start < start && v.end > end {
			if nvmas == len(vmas) {
				return false
			}
			copy(vmas[i+2:nvmas+1], vmas[i+1:nvmas])
			nvmas++
			vmas[i].end = start
			vmas[i+1] = vma{end, v.end, v.prot}
			return true
		}
		switch {
		case v.start < start:
			vmas[i].end = start
		case v.end > end:
			vmas[i].start = end
		default:
			copy(vmas[i:nvmas-1], vmas[i+1:nvmas])
			nvmas--
			i--
		}
	}
	return true
}

// unmapUser frees the frames behind [start, end).
func unmapUser(start, end uintptr) {
	before := freeFrames
	unmapRange(start, end)
	userPages -= freeFrames - before
}

// insertVMA adds [start, end) with prot; the range must be free. Neighbours
// with the same protection are merged.
func insertVMA(start, end uintptr, prot uint32) bool {
	i := 0
	for i < nvmas && vmas[i].start < start {
		i++
	}
	if i > 0 && vmas[i-1].end == start && vmas[i-1].prot == prot {
		vmas[i-1].end = end
		if i < nvmas && vmas[i].start == end && vmas[i].prot == prot {
			vmas[i-1].end = vmas[i].end
			copy(vmas[i:nvmas-1], vmas[i+1:nvmas])
			nvmas--
		}
		return true
	}
	if i < nvmas && vmas[i].start == end && vmas[i].prot == prot {
		vmas[i].start = start
		return true
	}
	if nvmas == len(vmas) {
		return false
	}
	copy(vmas[i+1:nvmas+1], vmas[i:nvmas])
	vmas[i] = vma{start, end, prot}
	nvmas++
	return true
}

// userRange reports whether [start, end) is a valid place for user areas.
func userRange(start, end uintptr) bool {
	return start >= identTop && end <= userTop && start < end
}

// findFree returns a free range of n bytes below the mmap cursor.
func findFree(n uintptr) uintptr {
	for tries := 0; tries < 4096; tries++ {
		a := (mmapCursor - n) &^ (pageSize - 1)
		if a < identTop || a > mmapCursor {
			return 0
		}
		if rangeFree(a, a+n) {
			mmapCursor = a
			return a
		}
		// Skip below the area in the way.
		for i := 0; i < nvmas; i++ {
			if vmas[i].start < a+n && a < vmas[i].end {
				a = vmas[i].start
				break
			}
		}
		mmapCursor = a
	}
	return 0
}

// sysMmap implements mmap(2) for anonymous private memory.
func sysMmap(addr, length uintptr, prot, flags uint32, fd int64, off uintptr) int64 {
	if length == 0 || addr&(pageSize-1) != 0 && flags&mapFixed != 0 {
		return -_EINVAL
	}
	if flags&mapAnonymous == 0 {
		return -_ENODEV
	}
	if flags&(mapShared|mapPrivate) == 0 {
		return -_EINVAL
	}
	n := (length + pageSize - 1) &^ (pageSize - 1)
	if n < length {
		return -_ENOMEM
	}
	// Heuristic overcommit, as Linux's default: refuse a single readable
	// mapping larger than all of RAM (and than a floor that lets small
	// guests map Go's 32 MiB heap index, which it touches sparsely).
	if prot != 0 && uint64(n) > totalFrames*pageSize && n > 64<<20 {
		return -_ENOMEM
	}
	var a uintptr
	switch {
	case flags&mapFixed != 0:
		if !userRange(addr, addr+n) {
			return -_ENOMEM
		}
		if flags&mapNoreplace != 0 && !rangeFree(addr, addr+n) {
			return -_EEXIST
		}
		if !removeRange(addr, addr+n) {
			return -_ENOMEM
		}
		a = addr
	case addr != 0 && userRange(addr&^(pageSize-1), (addr&^(pageSize-1))+n) && rangeFree(addr&^(pageSize-1), (addr&^(pageSize-1))+n):
		a = addr &^ (pageSize - 1)
	default:
		a = findFree(n)
		if a == 0 {
			return -_ENOMEM
		}
	}
	if !insertVMA(a, a+n, prot) {
		return -_ENOMEM
	}
	return int64(a)
}

// sysMunmap implements munmap(2).
func sysMunmap(addr, length uintptr) int64 {
	if addr&(pageSize-1) != 0 || length == 0 {
		return -_EINVAL
	}
	end := (addr + length + pageSize - 1) &^ (pageSize - 1)
	if end < addr || !userRange(addr, end) {
		return -_EINVAL
	}
	if !removeRange(addr, end) {
		return -_ENOMEM
	}
	return 0
}

// sysMprotect implements mprotect(2).
func sysMprotect(addr, length uintptr, prot uint32) int64 {
	if addr&(pageSize-1) != 0 {
		return -_EINVAL
	}
	end := (addr + length + pageSize - 1) &^ (pageSize - 1)
	if length == 0 {
		return 0
	}
	if !userRange(addr, end) {
		return -_ENOMEM
	}
	// Every page in the range must be mapped.
	for a := addr; a < end; {
		i := findVMA(a)
		if i < 0 {
			return -_ENOMEM
		}
		a = vmas[i].end
	}
	if !detachRange(addr, end) || !insertVMA(addr, end, prot) {
		return -_ENOMEM
	}
	protectRange(addr, end, prot&protWrite != 0, prot != 0)
	return 0
}

// sysMadvise implements madvise(2): DONTNEED and FREE drop the pages (they
// read back as zeros); the other advice is accepted and ignored.
func sysMadvise(addr, length uintptr, advice int64) int64 {
	if addr&(pageSize-1) != 0 {
		return -_EINVAL
	}
	end := (addr + length + pageSize - 1) &^ (pageSize - 1)
	switch advice {
	case madvDontneed, madvFree:
		if !userRange(addr, end) {
			return -_EINVAL
		}
		unmapUser(addr, end)
	}
	return 0
}

// Page-fault error-code bits.
const (
	pfPresent = 1 << 0
	pfWrite   = 1 << 1
	pfUser    = 1 << 2
	pfFetch   = 1 << 4
)

// Results of handleUserFault.
const (
	faultMapped = iota
	faultBadAddress
	faultProtection
	faultNoMemory
)

// handleUserFault backs the page at addr if an area allows the access.
func handleUserFault(addr uintptr, errcode uint64) int {
	i := findVMA(addr)
	if i < 0 || vmas[i].prot == 0 {
		return faultBadAddress
	}
	if errcode&pfWrite != 0 && vmas[i].prot&protWrite == 0 {
		return faultProtection
	}
	if errcode&pfPresent != 0 {
		return faultProtection
	}
	faultCount++
	if hugeAt(addr) != 0 || translate(addr&^(pageSize-1))&ptePresent != 0 {
		return faultMapped // already backed (a stale TLB entry, or a caller's pre-fault)
	}
	if tryHuge(addr, i) {
		return faultMapped
	}
	f := allocFrame()
	if f == 0 {
		return faultNoMemory
	}
	if !mapPage(addr&^(pageSize-1), f, vmas[i].prot&protWrite != 0) {
		freeFrame(f)
		return faultNoMemory
	}
	userPages++
	return faultMapped
}

// Huge pages back a fault with a 2 MiB page when the area covers the whole
// aligned 2 MiB region, no 4 KiB page is mapped there yet, the area is
// large (Go's heap arenas, not its sparse index), and memory is plentiful:
// hugeMinFree keeps small guests on 4 KiB pages, where a sparsely touched
// 2 MiB page would waste what they have.
const (
	hugeMinArea = 8 << 20
	hugeMinFree = 64 << 20
)

var (
	hugeMapped uint64 // 2 MiB pages now mapped
	faultCount uint64 // demand-paging faults served
)

func tryHuge(addr uintptr, i int) bool {
	v := vmas[i]
	region := addr &^ (hugeSize - 1)
	if region < v.start || region+hugeSize > v.end || v.end-v.start < hugeMinArea ||
		freeFrames*pageSize < hugeMinFree || hugeChunks == 0 {
		return false
	}
	if pde := walk(region, 2, false); pde != 0 && load64(pde)&ptePresent != 0 {
		return false
	}
	c := allocHuge()
	if c == 0 {
		return false
	}
	if !mapHuge(region, c, v.prot&protWrite != 0) {
		freeHuge(c)
		return false
	}
	userPages += hugeSize / pageSize
	hugeMapped++
	return true
}

// userOK reports whether the kernel may access [a, a+n) on the program's
// behalf: it lies in the program image or in areas that allow the access.
// The rest of the identity map (firmware areas, page tables, free frames,
// device memory) is the kernel's, whatever a system call says.
func userOK(a, n uintptr, write bool) bool {
	if n == 0 {
		return true
	}
	end := a + n
	if end < a {
		return false
	}
	if a >= imageStart && end <= imageEnd {
		return true // the program image: text, data, BSS
	}
	for a < end {
		i := findVMA(a)
		if i < 0 || vmas[i].prot == 0 || write && vmas[i].prot&protWrite == 0 {
			return false
		}
		a = vmas[i].end
	}
	return true
}
