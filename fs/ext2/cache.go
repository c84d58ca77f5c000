package ext2

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"syscall"
)

// kind says what a cached block holds; it decides in which phase of a
// checkpoint the block is written.
type kind uint8

const (
	kindData     kind = iota // file or slow-symlink data
	kindIndirect             // a block of block pointers
	kindDir                  // directory entries
	kindTable                // part of an inode table
	kindBitmap               // a block or inode bitmap
	kindGroup                // group descriptors
)

// cblock is one cached block.
type cblock struct {
	blk   uint32
	b     []byte
	kind  kind
	dirty bool
	// added marks a directory block that gained or re-pointed an entry
	// since the last checkpoint; it is written before directory blocks
	// that only lost entries, so a crash in a rename leaves both names,
	// never neither.
	added bool
}

// cache is the write-back block cache and the bookkeeping of a checkpoint
// epoch: the blocks allocated since the last checkpoint (fresh: nothing on
// the device points to them yet) and the frees that wait for it.
type cache struct {
	f          *FS
	m          map[uint32]*cblock
	dirtyM     map[uint32]*cblock // the dirty entries of m
	fresh      map[uint32]bool
	dirtyBytes int64
	limit      int64
	pendBlocks []uint32
	pendInodes []*inode
	groupsDirt bool
	wbuf       []byte  // where runs of blocks are joined for one write
	last       *cblock // the entry get returned last (sequential reads ask for one indirect block many times)
	spare      [][]byte
}

// maxSpare bounds the block buffers kept for reuse.
const maxSpare = 64

// buffer returns a zeroed block buffer: one that a written data block
// left (appends and sequential writes would otherwise allocate a block
// per block written), or a new one.
func (c *cache) buffer() []byte {
	if k := len(c.spare); k > 0 {
		b := c.spare[k-1]
		c.spare = c.spare[:k-1]
		clear(b)
		return b
	}
	return make([]byte, c.f.bs)
}

// drop removes block b from the cache map.
func (c *cache) drop(b uint32) {
	delete(c.m, b)
	if c.last != nil && c.last.blk == b {
		c.last = nil
	}
}

func (c *cache) init(f *FS, limit int64) {
	if limit <= 0 {
		limit = DefaultCacheBytes
	}
	c.f, c.limit = f, limit
	c.m = map[uint32]*cblock{}
	c.dirtyM = map[uint32]*cblock{}
	c.fresh = map[uint32]bool{}
}

// checkBlock answers EIO for a block number outside the file system.
func (f *FS) checkBlock(b uint32) (uint32, syscall.Errno) {
	if b != 0 && (b < f.firstData || b >= f.blocks) {
		return 0, syscall.EIO
	}
	return b, 0
}

// get returns block b through the cache, reading it on a miss (a fresh
// block reads as zeros: its old contents are garbage).
func (f *FS) get(b uint32, k kind) (*cblock, syscall.Errno) {
	if b == 0 || b < f.firstData || b >= f.blocks {
		return nil, syscall.EIO
	}
	if l := f.c.last; l != nil && l.blk == b {
		return l, 0
	}
	if cb := f.c.m[b]; cb != nil {
		f.c.last = cb
		return cb, 0
	}
	cb := &cblock{blk: b, b: f.c.buffer(), kind: k}
	if !f.c.fresh[b] {
		if _, err := f.dev.ReadAt(cb.b, int64(b)*f.bs); err != nil {
			return nil, syscall.EIO
		}
	}
	f.c.m[b] = cb
	return cb, 0
}

// overwrite returns a cache buffer for block b that the caller fills
// completely, without reading the device.
func (f *FS) overwrite(b uint32, k kind) *cblock {
	if cb := f.c.m[b]; cb != nil {
		return cb
	}
	cb := &cblock{blk: b, b: f.c.buffer(), kind: k}
	f.c.m[b] = cb
	return cb
}

// dirty marks cb as needing a write at the next checkpoint.
func (f *FS) dirty(cb *cblock) {
	if f.c.m[cb.blk] != cb {
		return // freed meanwhile (only a corrupt image points twice at a block)
	}
	if !cb.dirty {
		cb.dirty = true
		f.c.dirtyBytes += f.bs
		f.c.dirtyM[cb.blk] = cb
	}
}

// forget drops block b from the cache (it has been freed).
func (f *FS) forget(b uint32) {
	if cb := f.c.m[b]; cb != nil {
		if cb.dirty {
			f.c.dirtyBytes -= f.bs
			delete(f.c.dirtyM, b)
		}
		f.c.drop(b)
	}
}

// done ends a mutating operation: it checkpoints when the dirty part of
// the cache has passed its bound, and trims the clean part. Only here,
// between operations, are cache entries dropped, so no operation ever
// holds a block or inode that is no longer the cached one.
func (f *FS) done() {
	if f.c.dirtyBytes > f.c.limit {
		f.checkpoint() // an error stays visible: the blocks stay dirty for the next Sync
	}
	f.trim()
}

// trim drops clean cache entries beyond the bounds.
func (f *FS) trim() {
	if int64(len(f.c.m))*f.bs > 2*f.c.limit {
		for b, cb := range f.c.m {
			if !cb.dirty {
				f.c.drop(b)
			}
			if int64(len(f.c.m))*f.bs <= f.c.limit {
				break
			}
		}
	}
	if len(f.icach) > maxCachedInodes {
		for ino, in := range f.icach {
			if !in.dirty && in.opens == 0 && !in.deleted && in.palloc == 0 {
				delete(f.icach, ino)
			}
		}
	}
}

// maxCachedInodes bounds the inode cache (dirty and open inodes stay).
const maxCachedInodes = 4096

// checkpoint writes all dirty state to the device (see writeOut): what
// Sync, Unmount and a full cache do.
func (f *FS) checkpoint() error { return f.writeOut(true) }

// fsync is the checkpoint of a node's Sync: as checkpoint, except that
// the block and inode bitmaps, the group descriptors and the
// superblock's free counts stay dirty in the cache. Nothing after a power
// cut reads them (the file system is marked not clean while mounted
// read-write, and recovery rebuilds all of them from the tree), so they
// are only needed on the device at Unmount; skipping them saves two
// device writes per fsync of an appended file.
func (f *FS) fsync() error { return f.writeOut(false) }

// writeOut writes the dirty state to the device in the order that keeps
// the on-disk image consistent up to leaks after a cut at any instant
// (see docs/ext2.md), flushing the device after each phase:
//
//  1. bitmaps, group descriptors (when maps is set), file data, and
//     blocks allocated in this epoch (nothing on the device points to
//     them); the superblock when a feature flag changed (its free counts
//     are rebuilt by recovery, and written in phase 5 and at Unmount);
//  2. inodes, and older indirect blocks;
//  3. older directory blocks that gained entries;
//  4. older directory blocks that only lost entries;
//  5. inodes deleted in this epoch, cleared, and the frees of blocks and
//     inodes applied to the bitmaps and counts (which are written when
//     maps is set).
//
// Without maps, the bitmap and group descriptor blocks are left dirty.
func (f *FS) writeOut(maps bool) error {
	if !f.rw {
		return nil
	}
	c := &f.c
	if maps {
		f.encodeGroups()
	}
	// rest picks the blocks of the last phases: all but the maps unless
	// they are written.
	rest := func(b uint32, cb *cblock) bool {
		return maps || (cb.kind != kindBitmap && cb.kind != kindGroup)
	}
	first := func(b uint32, cb *cblock) bool {
		if cb.kind == kindBitmap || cb.kind == kindGroup {
			return maps
		}
		return cb.kind == kindData || c.fresh[b]
	}
	second := func(b uint32, cb *cblock) bool {
		return cb.kind == kindTable || cb.kind == kindIndirect
	}
	merge := f.mergeable()
	if !merge {
		if err := f.phase(first, f.sbDirty); err != nil {
			return err
		}
	}
	for _, in := range f.icach {
		if in.dirty && !in.deleted {
			if e := f.encode(in); e != 0 {
				return fmt.Errorf("ext2: writing inode %d: %w", in.ino, e)
			}
		}
	}
	if merge {
		second = func(b uint32, cb *cblock) bool {
			return first(b, cb) || cb.kind == kindTable || cb.kind == kindIndirect
		}
	}
	if err := f.phase(second, false); err != nil {
		return err
	}
	if err := f.phase(func(b uint32, cb *cblock) bool { return cb.added }, false); err != nil {
		return err
	}
	if err := f.phase(rest, false); err != nil {
		return err
	}
	if len(c.pendInodes) > 0 || len(c.pendBlocks) > 0 {
		for _, in := range c.pendInodes {
			if e := f.encode(in); e != 0 {
				return fmt.Errorf("ext2: clearing inode %d: %w", in.ino, e)
			}
		}
		if e := f.applyFrees(); e != 0 {
			return fmt.Errorf("ext2: freeing: %w", e)
		}
		if maps {
			f.encodeGroups()
		}
		if err := f.phase(rest, maps); err != nil {
			return err
		}
		for _, in := range c.pendInodes {
			delete(f.icach, in.ino)
		}
		c.pendInodes = c.pendInodes[:0]
	}
	clear(c.fresh)
	for _, in := range f.icach {
		if in.tailFix { // the zeroed tail is on the device now
			in.zeroed, in.tailFix = true, false
		}
	}
	return nil
}

// mergeable reports whether phases 1 and 2 of this checkpoint may be one:
// no block was allocated in this epoch (so phase 2 writes no pointer to a
// block whose contents are not on the device yet: inodes and indirect
// blocks only lose pointers, and freed blocks are not reused before phase
// 5), the superblock needs no write, and no file grows over bytes that
// may not be zeros on the device (each growing file is zeroed). A cut
// inside the merged phase then leaves each file with its old or new size
// and, in the blocks it already had, each sector old or new - so past
// the last synced size zeros or the bytes written, as with two phases.
// An append into a preallocated block is such a checkpoint: one round of
// writes and one flush instead of two.
func (f *FS) mergeable() bool {
	if len(f.c.fresh) > 0 || f.sbDirty {
		return false
	}
	for _, in := range f.icach {
		if in.dirty && !in.deleted && in.size > in.dsize && !in.zeroed {
			return false
		}
	}
	return true
}

// maxWriters bounds the device writes of one phase in flight at once.
const maxWriters = 16

// phase writes the dirty blocks pick selects (and the superblock when
// super is set), merging runs of consecutive blocks into one device write,
// then flushes the device. The writes of a phase are independent (the
// flush orders them against the other phases), so they are issued
// concurrently, up to maxWriters at once: a device with a queue (virtio-blk)
// serves them in one round trip instead of one each. Written data blocks
// leave the cache.
func (f *FS) phase(pick func(b uint32, cb *cblock) bool, super bool) error {
	var list []*cblock
	for b, cb := range f.c.dirtyM {
		if pick(b, cb) {
			list = append(list, cb)
		}
	}
	if len(list) == 0 && !super {
		return nil
	}
	slices.SortFunc(list, func(x, y *cblock) int { return cmp.Compare(x.blk, y.blk) })
	// Cut the list into runs of consecutive blocks; the runs of several
	// blocks are joined in wbuf (reused: it grows to the largest phase).
	const maxRun = 256
	type run struct {
		cbs []*cblock
		buf []byte
	}
	var runs []run
	joined := 0
	for i := 0; i < len(list); {
		j := i + 1
		for j < len(list) && list[j].blk == list[j-1].blk+1 && j-i < maxRun {
			j++
		}
		runs = append(runs, run{cbs: list[i:j]})
		if j-i > 1 {
			joined += (j - i) * int(f.bs)
		}
		i = j
	}
	if cap(f.c.wbuf) < joined {
		f.c.wbuf = make([]byte, 0, joined)
	}
	buf := f.c.wbuf[:0]
	for k := range runs {
		r := &runs[k]
		if len(r.cbs) == 1 {
			r.buf = r.cbs[0].b
			continue
		}
		start := len(buf)
		for _, cb := range r.cbs {
			buf = append(buf, cb.b...)
		}
		r.buf = buf[start:len(buf):len(buf)]
	}
	errs := make([]error, len(runs))
	write := func(k int) {
		r := runs[k]
		if _, err := f.dev.WriteAt(r.buf, int64(r.cbs[0].blk)*f.bs); err != nil {
			errs[k] = fmt.Errorf("ext2: writing blocks %d-%d: %w", r.cbs[0].blk, r.cbs[len(r.cbs)-1].blk, err)
		}
	}
	// The runs after the first on goroutines (up to maxWriters-1 at once),
	// the first on this one.
	var wg sync.WaitGroup
	slots := make(chan struct{}, maxWriters-1)
	for k := 1; k < len(runs); k++ {
		slots <- struct{}{}
		wg.Go(func() {
			write(k)
			<-slots
		})
	}
	if len(runs) > 0 { // none when only the superblock is due
		write(0)
	}
	wg.Wait()
	for k, r := range runs {
		if errs[k] != nil {
			return errs[k] // the blocks of the failed run stay dirty
		}
		for _, cb := range r.cbs {
			cb.dirty, cb.added = false, false
			f.c.dirtyBytes -= f.bs
			delete(f.c.dirtyM, cb.blk)
			if cb.kind == kindData {
				f.c.drop(cb.blk)
				// Nothing holds a data block across a checkpoint
				// (only between its get and its dirty).
				if len(f.c.spare) < maxSpare {
					f.c.spare = append(f.c.spare, cb.b)
				}
				cb.b = nil
			}
		}
	}
	if super {
		if err := f.writeSuper(); err != nil {
			return err
		}
		f.sbDirty = false
	}
	if err := f.dev.Flush(); err != nil {
		return fmt.Errorf("ext2: flush: %w", err)
	}
	return nil
}

// encodeGroups writes the group descriptors into their cached blocks
// when a count changed.
func (f *FS) encodeGroups() {
	if !f.c.groupsDirt {
		return
	}
	le := binary.LittleEndian
	for g := range f.groups {
		off := int64(g) * 32
		b := f.firstData + 1 + uint32(off/f.bs)
		cb, e := f.get(b, kindGroup)
		if e != 0 {
			continue // cannot happen: Mount read these blocks
		}
		cb.kind = kindGroup
		d := cb.b[off%f.bs:]
		gr := &f.groups[g]
		le.PutUint16(d[12:], uint16(gr.freeBlocks))
		le.PutUint16(d[14:], uint16(gr.freeInodes))
		le.PutUint16(d[16:], uint16(gr.usedDirs))
		f.dirty(cb)
	}
	f.c.groupsDirt = false
}
