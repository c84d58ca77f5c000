package ext2

import (
	"encoding/binary"
	"math"
	"syscall"
)

// ptrsPerBlock is how many block numbers an indirect block holds.
func (f *FS) ptrsPerBlock() int64 { return f.bs / 4 }

// maxFileBlocks is the number of logical blocks addressable by an inode.
func (f *FS) maxFileBlocks() int64 {
	p := f.ptrsPerBlock()
	return 12 + p + p*p + p*p*p
}

// maxSize is the largest file size: what the block pointers address,
// capped (like Linux) so that i_blocks, counted in 512-byte units in 32
// bits, cannot overflow with the indirect blocks included.
func (f *FS) maxSize() int64 {
	m := f.maxFileBlocks() * f.bs
	p := f.ptrsPerBlock()
	if lim := int64(math.MaxUint32)*512 - (3+p+p*p)*f.bs; m > lim {
		m = lim &^ (f.bs - 1)
	}
	if binary.LittleEndian.Uint32(f.sb[76:]) == 0 {
		m = math.MaxInt32 // revision 0 has no large_file feature
	}
	return m
}

// path splits logical block lb into the index in i_block and the indexes
// in up to three levels of indirect blocks.
func (f *FS) path(lb int64) (idx [4]int64, depth int, e syscall.Errno) {
	p := f.ptrsPerBlock()
	switch {
	case lb < 0:
		return idx, 0, syscall.EINVAL
	case lb < 12:
		idx[0] = lb
		return idx, 0, 0
	case lb < 12+p:
		lb -= 12
		return [4]int64{12, lb}, 1, 0
	case lb < 12+p+p*p:
		lb -= 12 + p
		return [4]int64{13, lb / p, lb % p}, 2, 0
	case lb < f.maxFileBlocks():
		lb -= 12 + p + p*p
		return [4]int64{14, lb / (p * p), lb / p % p, lb % p}, 3, 0
	}
	return idx, 0, syscall.EFBIG
}

// ptr reads entry i of indirect block b.
func (f *FS) ptr(b uint32, i int64) (uint32, syscall.Errno) {
	cb, e := f.get(b, kindIndirect)
	if e != 0 {
		return 0, e
	}
	return f.checkBlock(binary.LittleEndian.Uint32(cb.b[4*i:]))
}

// bmap returns the physical block of logical block lb of in, 0 for a hole.
func (f *FS) bmap(in *inode, lb int64) (uint32, syscall.Errno) {
	b, _, e := f.lookup(in, lb)
	return b, e
}

// missing counts the blocks (data and indirect) that mapping lb would
// allocate.
func (f *FS) missing(in *inode, lb int64) (int, syscall.Errno) {
	_, n, e := f.lookup(in, lb)
	return n, e
}

// lookup follows the pointers to logical block lb of in: the physical
// block (0 for a hole), and how many blocks from the first missing
// pointer down are absent.
func (f *FS) lookup(in *inode, lb int64) (uint32, int, syscall.Errno) {
	idx, depth, e := f.path(lb)
	if e != 0 {
		return 0, 0, e
	}
	b, e := f.checkBlock(in.block[idx[0]])
	for l := 1; l <= depth && e == 0; l++ {
		if b == 0 {
			return 0, depth - l + 2, 0
		}
		b, e = f.ptr(b, idx[l])
	}
	if e != 0 {
		return 0, 0, e
	}
	if b == 0 {
		return 0, 1, 0
	}
	return b, 0, 0
}

// bmapAlloc returns the physical block of lb, allocating it and any
// missing indirect blocks (fresh, zeroed) near the file's previous block.
// It answers ENOSPC, allocating nothing, when they do not all fit.
func (f *FS) bmapAlloc(in *inode, lb int64, k kind) (b uint32, fresh bool, e syscall.Errno) {
	need, e := f.missing(in, lb)
	if e != 0 || need == 0 {
		b, e = f.bmap(in, lb)
		return b, false, e
	}
	if e := f.ensureFree(need, 0); e != 0 {
		return 0, false, e
	}
	idx, depth, _ := f.path(lb)
	if lb > 0 {
		// Like Linux: the goal is the block after the previous one.
		if prev, e := f.bmap(in, lb-1); e == 0 && prev != 0 {
			in.goal = prev + 1
		}
	}
	alloc := func(k kind) (uint32, syscall.Errno) {
		goal := in.goal
		if goal == 0 {
			// A file's first block: in its inode's group, at one of 16
			// starting points chosen by the inode number (Linux colours
			// by process), so files written side by side start apart.
			g := (in.ino - 1) / f.inodesPerGrp
			goal = f.firstData + g*f.blocksPerGroup + in.ino%16*(f.blocksPerGroup/16)
		}
		nb, e := f.allocBlock(goal, k)
		if e == 0 {
			in.goal = nb + 1
			in.blocks512 += f.bs / 512
			in.dirty = true
		}
		return nb, e
	}
	kindAt := func(l int) kind {
		if l == depth {
			return k
		}
		return kindIndirect
	}
	cur := in.block[idx[0]]
	if cur == 0 {
		if cur, e = alloc(kindAt(0)); e != 0 {
			return 0, false, e
		}
		in.block[idx[0]] = cur
	}
	for l := 1; l <= depth; l++ {
		cb, e := f.get(cur, kindIndirect)
		if e != 0 {
			return 0, false, e
		}
		next := binary.LittleEndian.Uint32(cb.b[4*idx[l]:])
		if next == 0 {
			if next, e = alloc(kindAt(l)); e != 0 {
				return 0, false, e
			}
			binary.LittleEndian.PutUint32(cb.b[4*idx[l]:], next)
			f.dirty(cb)
		} else if _, e := f.checkBlock(next); e != 0 {
			return 0, false, e
		}
		cur = next
	}
	return cur, true, 0
}

// truncBlocks frees every block of in from logical block keep on,
// indirect blocks included, zeroing the pointers to them.
func (f *FS) truncBlocks(in *inode, keep int64) {
	f.seen = map[uint32]bool{}
	defer func() { f.seen = nil }()
	for i := int64(0); i < 12; i++ {
		if i >= keep && in.block[i] != 0 {
			f.freeData(in, in.block[i])
			in.block[i] = 0
			in.dirty = true
		}
	}
	p := f.ptrsPerBlock()
	base, span := int64(12), p
	for i := 12; i < inodeBlockPtrs; i++ {
		if in.block[i] != 0 && f.freeTree(in, in.block[i], i-11, base, keep) {
			in.block[i] = 0
			in.dirty = true
		}
		base += span
		span *= p
	}
}

// freeData frees one block of in (once: a corrupt image may point at a
// block twice).
func (f *FS) freeData(in *inode, b uint32) {
	if _, e := f.checkBlock(b); e != 0 || f.seen[b] {
		return // a bad pointer: not ours to free
	}
	f.seen[b] = true
	f.freeBlock(b)
	in.blocks512 -= f.bs / 512
	in.dirty = true // i_blocks, even when no pointer of the inode changed
}

// freeTree frees the blocks below indirect block b (level 1-3), which
// maps the logical blocks from base on, that lie at or past keep; it
// reports whether b itself was freed (nothing below it is kept).
func (f *FS) freeTree(in *inode, b uint32, level int, base, keep int64) bool {
	p := f.ptrsPerBlock()
	span := int64(1)
	for range level - 1 {
		span *= p
	}
	if base+span*p <= keep {
		return false
	}
	if f.seen[b] {
		return true // visited already: a corrupt image's loop; drop the pointer
	}
	cb, e := f.get(b, kindIndirect)
	if e != 0 {
		return false
	}
	kept := false
	f.seen[b] = true
	for i := int64(0); i < p; i++ {
		c := binary.LittleEndian.Uint32(cb.b[4*i:])
		if c == 0 {
			continue
		}
		cbase := base + i*span
		gone := false
		switch {
		case cbase+span <= keep:
		case level == 1:
			f.freeData(in, c)
			gone = true
		default:
			if _, e := f.checkBlock(c); e == 0 {
				gone = f.freeTree(in, c, level-1, cbase, keep)
			}
		}
		if gone {
			binary.LittleEndian.PutUint32(cb.b[4*i:], 0)
			f.dirty(cb)
		} else {
			kept = true
		}
	}
	if kept {
		return false
	}
	f.freeBlock(b) // b is valid (get read it) and in seen since entry
	in.blocks512 -= f.bs / 512
	in.dirty = true
	return true
}

// readData reads file data of in at off into p (short at end of file).
// Blocks in the cache are copied from it; runs of physically contiguous
// uncached blocks are one device read.
func (f *FS) readData(in *inode, p []byte, off int64) (int, syscall.Errno) {
	if off < 0 {
		return 0, syscall.EINVAL
	}
	if off >= in.size {
		return 0, 0
	}
	if rem := in.size - off; int64(len(p)) > rem {
		p = p[:rem]
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		lb, bo := pos/f.bs, pos%f.bs
		chunk := p[n:min(len(p), n+int(f.bs-bo))]
		pb, e := f.bmap(in, lb)
		if e != 0 {
			return n, e
		}
		if cb := f.c.m[pb]; pb != 0 && cb != nil {
			copy(chunk, cb.b[bo:])
			n += len(chunk)
			continue
		}
		// Extend the chunk over physically contiguous uncached blocks,
		// so a sequential read is one device read per run.
		for pb != 0 && bo == 0 && len(p)-n-len(chunk) >= int(f.bs) {
			want := pb + uint32(len(chunk)/int(f.bs))
			next, e := f.bmap(in, lb+int64(len(chunk))/f.bs)
			if e != 0 || next != want || f.c.m[want] != nil {
				break
			}
			chunk = p[n : n+len(chunk)+int(f.bs)]
		}
		if pb == 0 {
			clear(chunk)
		} else if _, err := f.dev.ReadAt(chunk, int64(pb)*f.bs+bo); err != nil {
			return n, syscall.EIO
		}
		n += len(chunk)
	}
	return n, 0
}

// writeData writes p at off into in, allocating blocks; it stops at the
// first block that does not fit (a short count, or ENOSPC when nothing
// fit) and checkpoints when the cache fills up.
func (f *FS) writeData(in *inode, p []byte, off int64, k kind) (int, syscall.Errno) {
	if off < 0 {
		return 0, syscall.EINVAL
	}
	if int64(len(p)) > f.maxSize()-off {
		if off >= f.maxSize() {
			return 0, syscall.EFBIG
		}
		p = p[:f.maxSize()-off]
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		lb, bo := pos/f.bs, pos%f.bs
		m := min(len(p)-n, int(f.bs-bo))
		pb, fresh, e := f.bmapAlloc(in, lb, k)
		if e != 0 {
			if n > 0 && e == syscall.ENOSPC {
				break
			}
			return n, e
		}
		past := lb*f.bs >= in.size // the whole block lies past the end
		if fresh && past && k == kindData && in.isReg() && lb >= in.palloc {
			f.prealloc(in, lb, pb)
		}
		var cb *cblock
		// A block past the end of a zeroed file holds zeros on the
		// device (preallocated): nothing to read.
		if fresh || m == int(f.bs) || (past && in.zeroed) {
			cb = f.overwrite(pb, k)
		} else if cb, e = f.get(pb, k); e != 0 {
			return n, e
		}
		copy(cb.b[bo:], p[n:n+m])
		f.dirty(cb)
		n += m
		if end := off + int64(n); end > in.size {
			in.size = end
			f.largeFile(end)
		}
		in.dirty = true
		if f.c.dirtyBytes > f.c.limit {
			if err := f.checkpoint(); err != nil {
				return n, syscall.EIO
			}
		}
	}
	return n, 0
}

// largeFile sets the large_file feature when a file passes 2 GiB.
func (f *FS) largeFile(size int64) {
	le := binary.LittleEndian
	if size > math.MaxInt32 && le.Uint32(f.sb[100:])&roCompatLargeFile == 0 {
		le.PutUint32(f.sb[100:], le.Uint32(f.sb[100:])|roCompatLargeFile)
		f.sbDirty = true
	}
}

// zeroTail clears the bytes of the block holding size after it, so that
// growing the file later shows zeros there.
func (f *FS) zeroTail(in *inode, size int64) syscall.Errno {
	bo := size % f.bs
	if bo == 0 {
		return 0
	}
	pb, e := f.bmap(in, size/f.bs)
	if e != 0 || pb == 0 {
		return e
	}
	cb, e := f.get(pb, kindData)
	if e != 0 {
		return e
	}
	clear(cb.b[bo:])
	f.dirty(cb)
	in.zeroed, in.tailFix = false, true
	return 0
}

// preallocBlocks is how many blocks an append at the end of a file
// allocates at once (the block written and those after it).
const preallocBlocks = 16

// prealloc allocates, after block lb (at pb) that an append just
// allocated, up to preallocBlocks-1 more blocks past the end of in,
// contiguous with it where the allocator manages, as zeroed blocks that
// the next checkpoint writes together with lb (one device write). The
// appends that fill them change no pointer, so their checkpoints write
// data and inode in one phase (see writeOut). Blocks that would need a
// new indirect block are not preallocated, nor any while fewer than
// 16*preallocBlocks blocks are free. Unused ones are freed at the last
// close (trimPrealloc), at Unmount, and when the file system runs out of
// space; recovery drops those a power cut leaves behind.
func (f *FS) prealloc(in *inode, lb int64, pb uint32) {
	if int64(f.freeBlocks) < 16*preallocBlocks {
		return
	}
	end := lb + 1
	for end < lb+preallocBlocks && end < f.maxFileBlocks() {
		if need, e := f.missing(in, end); e != 0 || need != 1 {
			break
		}
		b, fresh, e := f.bmapAlloc(in, end, kindData)
		if e != 0 || !fresh {
			break
		}
		if cb := f.c.m[b]; cb != nil {
			f.dirty(cb) // zeros: what the file reads there once it grows
		}
		end++
		if b != pb+uint32(end-1-lb) {
			break // not contiguous: keep it, stop here
		}
	}
	in.palloc = end
}

// trimPrealloc frees the blocks preallocated past the end of in.
func (f *FS) trimPrealloc(in *inode) {
	if in.palloc == 0 {
		return
	}
	if keep := (in.size + f.bs - 1) / f.bs; in.palloc > keep {
		f.truncBlocks(in, keep)
	}
	in.palloc = 0
}
