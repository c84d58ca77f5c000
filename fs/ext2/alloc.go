package ext2

import (
	"syscall"
)

// Allocation follows Linux's ext2: a block goes at the goal (the block
// after the file's previous one) or the next free one after it in the
// same group, then in the following groups; a directory's inode goes to
// the group with the most free blocks among those with free inodes
// (spreading directories), a file's inode to its directory's group.

// bit helpers over a bitmap block.
func testBit(b []byte, i uint32) bool { return b[i/8]&(1<<(i%8)) != 0 }
func setBit(b []byte, i uint32)       { b[i/8] |= 1 << (i % 8) }
func clearBit(b []byte, i uint32)     { b[i/8] &^= 1 << (i % 8) }

// bitmap returns the cached bitmap block b.
func (f *FS) bitmap(b uint32) (*cblock, syscall.Errno) {
	cb, e := f.get(b, kindBitmap)
	if e == 0 {
		cb.kind = kindBitmap
	}
	return cb, e
}

// groupBlocks is the number of blocks of group g (the last may be short).
func (f *FS) groupBlocks(g uint32) uint32 {
	start := f.firstData + g*f.blocksPerGroup
	return min(f.blocksPerGroup, f.blocks-start)
}

// groupInodes is the number of inodes of group g.
func (f *FS) groupInodes(g uint32) uint32 {
	if uint64(g)*uint64(f.inodesPerGrp) >= uint64(f.inodes) {
		return 0
	}
	return min(f.inodesPerGrp, f.inodes-g*f.inodesPerGrp)
}

// ensureFree makes sure blocks blocks and inodes inodes can be allocated,
// applying pending frees by a checkpoint when that would make room; it
// answers ENOSPC, changing nothing, when they cannot.
func (f *FS) ensureFree(blocks, inodes int) syscall.Errno {
	enough := func() bool { return int64(f.freeBlocks) >= int64(blocks) && int64(f.freeInodes) >= int64(inodes) }
	if enough() {
		return 0
	}
	for _, in := range f.icach {
		f.trimPrealloc(in) // preallocations go first
	}
	if len(f.c.pendBlocks) > 0 || len(f.c.pendInodes) > 0 {
		if err := f.checkpoint(); err != nil {
			return syscall.EIO
		}
		if enough() {
			return 0
		}
	}
	return syscall.ENOSPC
}

// allocBlock allocates a block near goal and marks it fresh; k is what
// it will hold. The caller has checked free space with ensureFree. The
// goal block itself is taken when free; otherwise the first free run of
// spreadRun blocks after it, so that files growing side by side get
// extents of their own instead of alternating blocks; otherwise the first
// free block.
func (f *FS) allocBlock(goal uint32, k kind) (uint32, syscall.Errno) {
	if f.freeBlocks == 0 {
		return 0, syscall.ENOSPC
	}
	if goal < f.firstData || goal >= f.blocks {
		goal = f.firstData
	}
	g, bit := (goal-f.firstData)/f.blocksPerGroup, (goal-f.firstData)%f.blocksPerGroup
	bm, e := f.bitmap(f.groups[g].blockBitmap)
	if e != 0 {
		return 0, e
	}
	b, ok := goal, !testBit(bm.b, bit)
	for _, run := range []uint32{spreadRun, 1} {
		if ok {
			break
		}
		if b, ok, e = f.findFree(goal, run); e != 0 {
			return 0, e
		}
	}
	if !ok {
		return 0, syscall.ENOSPC
	}
	g, bit = (b-f.firstData)/f.blocksPerGroup, (b-f.firstData)%f.blocksPerGroup
	if bm, e = f.bitmap(f.groups[g].blockBitmap); e != 0 {
		return 0, e
	}
	setBit(bm.b, bit)
	f.dirty(bm)
	f.groups[g].freeBlocks--
	f.freeBlocks--
	f.c.groupsDirt = true
	f.c.fresh[b] = true
	f.forget(b)
	cb := f.overwrite(b, k)
	cb.kind = k
	return b, 0
}

// spreadRun is the free run a file moves to when its goal block is taken.
const spreadRun = 16

// findFree finds the first block at or after goal (wrapping around the
// groups) that starts run free blocks inside its group.
func (f *FS) findFree(goal, run uint32) (uint32, bool, syscall.Errno) {
	ng := uint32(len(f.groups))
	g0 := (goal - f.firstData) / f.blocksPerGroup
	for i := uint32(0); i <= ng; i++ {
		g := (g0 + i) % ng
		gr := f.groups[g]
		if gr.freeBlocks < run {
			continue
		}
		bm, e := f.bitmap(gr.blockBitmap)
		if e != 0 {
			return 0, false, e
		}
		start := uint32(0)
		if i == 0 {
			start = (goal - f.firstData) % f.blocksPerGroup
		}
		n := f.groupBlocks(g)
		free := uint32(0)
		for bit := start; bit < n; bit++ {
			if free == 0 && bit%8 == 0 && bit+8 <= n && bm.b[bit/8] == 0xff {
				bit += 7
				continue
			}
			if testBit(bm.b, bit) {
				free = 0
				continue
			}
			free++
			if free == run {
				return f.firstData + g*f.blocksPerGroup + bit + 1 - run, true, 0
			}
		}
	}
	return 0, false, 0
}

// freeBlock schedules block b to be freed at the next checkpoint, after
// the pointers to it are gone from the device.
func (f *FS) freeBlock(b uint32) {
	f.forget(b)
	f.c.pendBlocks = append(f.c.pendBlocks, b)
}

// allocInode allocates an inode number for a new inode in directory
// parent; dir says whether it is a directory.
func (f *FS) allocInode(parent uint32, dir bool) (uint32, syscall.Errno) {
	if f.freeInodes == 0 {
		return 0, syscall.ENOSPC
	}
	ng := uint32(len(f.groups))
	pg := (parent - 1) / f.inodesPerGrp
	order := make([]uint32, 0, ng)
	if dir {
		best := -1
		for g := range ng {
			gr := f.groups[g]
			if gr.freeInodes > 0 && (best < 0 || gr.freeBlocks > f.groups[best].freeBlocks) {
				best = int(g)
			}
		}
		if best >= 0 {
			order = append(order, uint32(best))
		}
	}
	for i := range ng {
		order = append(order, (pg+i)%ng)
	}
	for _, g := range order {
		gr := &f.groups[g]
		if gr.freeInodes == 0 {
			continue
		}
		bm, e := f.bitmap(gr.inodeBitmap)
		if e != 0 {
			return 0, e
		}
		for bit := range f.groupInodes(g) {
			ino := g*f.inodesPerGrp + bit + 1
			if ino < f.firstIno || testBit(bm.b, bit) {
				continue
			}
			setBit(bm.b, bit)
			f.dirty(bm)
			gr.freeInodes--
			f.freeInodes--
			if dir {
				gr.usedDirs++
			}
			f.c.groupsDirt = true
			return ino, 0
		}
	}
	return 0, syscall.ENOSPC
}

// applyFrees clears the bitmap bits of the pending frees and adds them to
// the free counts; checkpoint calls it once the pointers are on disk.
func (f *FS) applyFrees() syscall.Errno {
	for _, b := range f.c.pendBlocks {
		g := (b - f.firstData) / f.blocksPerGroup
		bm, e := f.bitmap(f.groups[g].blockBitmap)
		if e != 0 {
			return e
		}
		bit := (b - f.firstData) % f.blocksPerGroup
		if testBit(bm.b, bit) {
			clearBit(bm.b, bit)
			f.dirty(bm)
			f.groups[g].freeBlocks++
			f.freeBlocks++
		}
	}
	f.c.pendBlocks = f.c.pendBlocks[:0]
	for _, in := range f.c.pendInodes {
		g := (in.ino - 1) / f.inodesPerGrp
		bm, e := f.bitmap(f.groups[g].inodeBitmap)
		if e != 0 {
			return e
		}
		bit := (in.ino - 1) % f.inodesPerGrp
		if testBit(bm.b, bit) {
			clearBit(bm.b, bit)
			f.dirty(bm)
			f.groups[g].freeInodes++
			f.freeInodes++
			if in.isDir() && f.groups[g].usedDirs > 0 {
				f.groups[g].usedDirs--
			}
		}
	}
	f.c.groupsDirt = true
	return 0
}
