package ext2

import (
	"encoding/binary"
	"fmt"
)

// recover repairs a file system that was not cleanly unmounted, before it
// is mounted read-write. The checkpoint order leaves the image consistent
// up to leaks, so the tree reachable from the root is trusted (inode
// contents, block pointers, directory blocks) and everything derived from
// it is rebuilt:
//
//   - directory entries naming a free inode (mode 0 or no links on disk),
//     a reserved inode, or a second parent of a directory are cleared, and
//     entry file types and ".." fixed;
//   - blocks past a file's end (a cut between an indirect block and its
//     inode) are dropped; a directory is cut at its first hole;
//   - link counts and i_blocks are recomputed;
//   - inodes not reachable from the root (removed while open, or created
//     and not yet named) are cleared and freed;
//   - block and inode bitmaps, and all free counts, are rebuilt from the
//     reachable inodes and the fixed metadata.
//
// What the order cannot explain (a malformed directory block, a block
// pointer out of range or claimed twice) is refused with an error: the
// image needs e2fsck.
func (f *FS) recover() error {
	r := &recovery{f: f, reach: map[uint32]*reached{rootIno: {parent: rootIno}},
		used: make([]uint64, (f.blocks+63)/64)}
	if err := r.walk(); err != nil {
		return err
	}
	r.fixedMetadata()
	for ino := uint32(1); ino < f.firstIno; ino++ {
		if ino != rootIno {
			if in, e := f.iget(ino); e == 0 {
				r.claim(in, false)
			}
		}
	}
	for ino, st := range r.reach {
		in, _ := f.iget(ino)
		links := st.refs
		if in.isDir() {
			links = 2 + st.subdirs
		}
		if in.links != links {
			in.links, in.dirty = links, true
		}
		if in.dtime != 0 {
			in.dtime, in.dirty = 0, true
		}
		if err := r.claim(in, true); err != nil {
			return err
		}
	}
	if err := r.clearUnreachable(); err != nil {
		return err
	}
	if err := r.rebuildBitmaps(); err != nil {
		return err
	}
	f.c.pendBlocks = f.c.pendBlocks[:0]
	if err := f.checkpoint(); err != nil {
		return fmt.Errorf("ext2: recovery: %w", err)
	}
	return nil
}

type reached struct {
	parent        uint32
	refs, subdirs uint32
}

type recovery struct {
	f     *FS
	reach map[uint32]*reached
	used  []uint64 // block bitmap being rebuilt
}

func (r *recovery) isUsed(b uint32) bool { return r.used[b/64]&(1<<(b%64)) != 0 }
func (r *recovery) setUsed(b uint32)     { r.used[b/64] |= 1 << (b % 64) }

// walk visits the tree from the root breadth first, fixing entries.
func (r *recovery) walk() error {
	f := r.f
	queue := []uint32{rootIno}
	for len(queue) > 0 {
		ino := queue[0]
		queue = queue[1:]
		in, e := f.iget(ino)
		if e != 0 {
			return fmt.Errorf("ext2: recovery: reading inode %d: %w", ino, e)
		}
		if !in.isDir() {
			if in.isReg() || (in.isLink() && !f.fastLink(in)) {
				f.truncBlocks(in, (in.size+f.bs-1)/f.bs)
			}
			continue
		}
		if err := r.trimDir(in); err != nil {
			return err
		}
		n := 0
		var bad error
		e = f.scanDir(in, func(rec record) bool {
			n++
			d := rec.d
			switch {
			case n == 1 || n == 2:
				want := map[int]string{1: ".", 2: ".."}[n]
				if d.name != want {
					bad = fmt.Errorf("ext2: recovery: directory inode %d: entry %d is %q, want %q; run e2fsck", ino, n, d.name, want)
					return false
				}
				target := ino
				if n == 2 {
					target = r.reach[ino].parent
				}
				if d.ino != target {
					binary.LittleEndian.PutUint32(rec.cb.b[rec.off:], target)
					r.changed(in, rec.cb)
				}
				return true
			case d.ino == 0:
				return true
			}
			c, e := f.iget(d.ino)
			st := r.reach[d.ino]
			if e != 0 || d.ino < f.firstIno || c.mode == 0 || c.links == 0 || (c.isDir() && st != nil) {
				binary.LittleEndian.PutUint32(rec.cb.b[rec.off:], 0) // an unused record
				r.changed(in, rec.cb)
				return true
			}
			if t := fileType(c.mode); f.filetype && d.typ != t {
				rec.cb.b[rec.off+7] = t
				r.changed(in, rec.cb)
			}
			if st == nil {
				st = &reached{parent: ino}
				r.reach[d.ino] = st
				queue = append(queue, d.ino)
			}
			if c.isDir() {
				r.reach[ino].subdirs++
			}
			st.refs++
			return true
		})
		if e == 0 && bad == nil && n < 2 {
			bad = fmt.Errorf("ext2: recovery: directory inode %d has no \".\" and \"..\"; run e2fsck", ino)
		}
		if e != 0 {
			return fmt.Errorf("ext2: recovery: directory inode %d is malformed (%v); run e2fsck", ino, e)
		}
		if bad != nil {
			return bad
		}
	}
	return nil
}

// changed marks a directory block of dir as repaired; a hash index of the
// directory would be stale, so its flag goes (as when ext2 writes).
func (r *recovery) changed(dir *inode, cb *cblock) {
	r.f.dirty(cb)
	if dir.flags&flagIndex != 0 {
		dir.flags &^= flagIndex
		dir.dirty = true
	}
}

// trimDir drops a directory's blocks past its size and cuts it at its
// first hole (a cut between growing it and writing its inode).
func (r *recovery) trimDir(in *inode) error {
	f := r.f
	if in.size%f.bs != 0 || in.size == 0 || in.size/f.bs > f.maxFileBlocks() {
		return fmt.Errorf("ext2: recovery: directory inode %d has size %d; run e2fsck", in.ino, in.size)
	}
	n := in.size / f.bs
	for lb := int64(0); lb < n; lb++ {
		pb, e := f.bmap(in, lb)
		if e != 0 {
			return fmt.Errorf("ext2: recovery: directory inode %d block %d: %v; run e2fsck", in.ino, lb, e)
		}
		if pb == 0 {
			if lb == 0 {
				return fmt.Errorf("ext2: recovery: directory inode %d has no first block; run e2fsck", in.ino)
			}
			n = lb
			in.size, in.dirty = lb*f.bs, true
			in.flags &^= flagIndex
		}
	}
	f.truncBlocks(in, n)
	return nil
}

// fixedMetadata marks the blocks every group reserves: superblock and
// descriptor copies (all groups, or 0, 1 and powers of 3, 5 and 7 with
// sparse_super), bitmaps and inode table.
func (r *recovery) fixedMetadata() {
	f := r.f
	for g := range uint32(len(f.groups)) {
		start := f.firstData + g*f.blocksPerGroup
		if f.hasSuper(g) {
			for b := start; b < start+1+f.gdtBlocks+f.reservedGDT && b < f.blocks; b++ {
				r.setUsed(b)
			}
		}
		gr := f.groups[g]
		r.setUsed(gr.blockBitmap)
		r.setUsed(gr.inodeBitmap)
		for i := range uint32(f.tableBlocks()) {
			r.setUsed(gr.inodeTable + i)
		}
	}
}

// hasSuper reports whether group g holds a superblock copy.
func (f *FS) hasSuper(g uint32) bool {
	if g <= 1 || !f.sparseSuper {
		return true
	}
	for _, p := range []uint32{3, 5, 7} {
		n := p
		for n < g {
			n *= p
		}
		if n == g {
			return true
		}
	}
	return false
}

// claim marks the blocks of in used and recomputes i_blocks. strict
// refuses pointers out of range or to blocks already used; reserved
// inodes (the resize inode maps descriptor blocks) are marked loosely.
func (r *recovery) claim(in *inode, strict bool) error {
	f := r.f
	count := int64(0)
	var bad error
	mark := func(b uint32) bool {
		if b == 0 {
			return true
		}
		if b < f.firstData || b >= f.blocks {
			if strict {
				bad = fmt.Errorf("ext2: recovery: inode %d points to block %d outside the file system; run e2fsck", in.ino, b)
			}
			return false
		}
		if r.isUsed(b) {
			if strict {
				bad = fmt.Errorf("ext2: recovery: block %d is claimed twice (inode %d); run e2fsck", b, in.ino)
			}
			return false // loose: marked already (the resize inode's descriptor blocks), nothing to walk
		}
		r.setUsed(b)
		count++
		return true
	}
	hasBlocks := in.isReg() || in.isDir() || (in.isLink() && !f.fastLink(in)) || in.ino < f.firstIno
	if hasBlocks {
		for i, b := range in.block {
			depth := max(0, i-11)
			if !mark(b) {
				if bad != nil {
					return bad
				}
				continue
			}
			if b != 0 && depth > 0 {
				if err := r.claimTree(b, depth, mark); err != nil {
					return err
				}
				if bad != nil {
					return bad
				}
			}
		}
	}
	if in.fileACL != 0 && in.fileACL >= f.firstData && in.fileACL < f.blocks {
		r.setUsed(in.fileACL) // may be shared between inodes
		count++
	}
	if strict && in.blocks512 != count*(f.bs/512) {
		in.blocks512, in.dirty = count*(f.bs/512), true
	}
	return nil
}

// claimTree marks the blocks below indirect block b.
func (r *recovery) claimTree(b uint32, depth int, mark func(uint32) bool) error {
	cb, e := r.f.get(b, kindIndirect)
	if e != 0 {
		return fmt.Errorf("ext2: recovery: reading indirect block %d: %w", b, e)
	}
	for i := int64(0); i < r.f.ptrsPerBlock(); i++ {
		c := binary.LittleEndian.Uint32(cb.b[4*i:])
		if !mark(c) {
			continue // strict: the caller reports the error; loose: skip it
		}
		if c != 0 && depth > 1 {
			if err := r.claimTree(c, depth-1, mark); err != nil {
				return err
			}
		}
	}
	return nil
}

// clearUnreachable clears every inode that looks in use on disk but was
// not reached, so that a free inode never looks live (recovery relies on
// that to spot entries naming inodes not yet written).
func (r *recovery) clearUnreachable() error {
	f := r.f
	buf := make([]byte, f.tableBlocks()*f.bs)
	le := binary.LittleEndian
	for g := range uint32(len(f.groups)) {
		if _, err := f.dev.ReadAt(buf, int64(f.groups[g].inodeTable)*f.bs); err != nil {
			return fmt.Errorf("ext2: recovery: reading inode table of group %d: %w", g, err)
		}
		for i := range f.groupInodes(g) {
			ino := g*f.inodesPerGrp + i + 1
			if ino < f.firstIno || r.reach[ino] != nil {
				continue
			}
			raw := buf[int64(i)*f.inodeSize:]
			if le.Uint16(raw[0:]) == 0 || le.Uint16(raw[26:]) == 0 {
				if in := f.icach[ino]; in == nil || !in.dirty {
					continue
				}
			}
			in, e := f.iget(ino)
			if e != 0 {
				return fmt.Errorf("ext2: recovery: reading inode %d: %w", ino, e)
			}
			in.links, in.size, in.blocks512, in.fileACL = 0, 0, 0, 0
			in.block = [inodeBlockPtrs]uint32{}
			in.dtime = uint32(f.clock().Unix())
			in.dirty = true
		}
	}
	return nil
}

// rebuildBitmaps writes the bitmaps and counts derived from the walk.
func (r *recovery) rebuildBitmaps() error {
	f := r.f
	f.freeBlocks, f.freeInodes = 0, 0
	for g := range uint32(len(f.groups)) {
		gr := &f.groups[g]
		bm, e := f.bitmap(gr.blockBitmap)
		if e != 0 {
			return fmt.Errorf("ext2: recovery: reading block bitmap of group %d: %w", g, e)
		}
		gr.freeBlocks = 0
		for bit := range f.groupBlocks(g) {
			if r.isUsed(f.firstData + g*f.blocksPerGroup + bit) {
				setBit(bm.b, bit)
			} else {
				clearBit(bm.b, bit)
				gr.freeBlocks++
			}
		}
		f.dirty(bm)
		im, e := f.bitmap(gr.inodeBitmap)
		if e != 0 {
			return fmt.Errorf("ext2: recovery: reading inode bitmap of group %d: %w", g, e)
		}
		gr.freeInodes, gr.usedDirs = 0, 0
		for bit := range f.groupInodes(g) {
			ino := g*f.inodesPerGrp + bit + 1
			st := r.reach[ino]
			if ino < f.firstIno || st != nil {
				setBit(im.b, bit)
				if st != nil {
					if in, _ := f.iget(ino); in.isDir() {
						gr.usedDirs++
					}
				}
			} else {
				clearBit(im.b, bit)
				gr.freeInodes++
			}
		}
		f.dirty(im)
		f.freeBlocks += gr.freeBlocks
		f.freeInodes += gr.freeInodes
	}
	f.c.groupsDirt = true
	return nil
}
