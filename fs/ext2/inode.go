package ext2

import (
	"encoding/binary"
	"syscall"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// inode is the decoded, cached copy of an on-disk inode. Every user of
// an inode number shares the one copy in FS.icach.
type inode struct {
	ino                        uint32
	raw                        []byte // the on-disk bytes, updated by encode
	mode                       uint32
	uid, gid                   uint32
	size                       int64
	atime, ctime, mtime, dtime uint32
	links                      uint32
	blocks512                  int64
	flags                      uint32
	fileACL                    uint32
	block                      [inodeBlockPtrs]uint32

	dirty   bool   // changed since the last checkpoint
	opens   int    // open files (a removed inode lives while > 0)
	deleted bool   // freed; cleared on disk in the last checkpoint phase
	goal    uint32 // where to allocate the next block

	// palloc ends the blocks preallocated past the end of the file
	// (logical block number; see FS.prealloc), 0 when there are none.
	palloc int64
	// zeroed: on the device, every byte of the file's blocks past its
	// size there (dsize) is zero, so a checkpoint may write the size
	// together with the data (see FS.writeOut). Files created in this
	// mount have it; files read from the device when their size is a
	// multiple of the block size (ext2 keeps no blocks past the size).
	zeroed bool
	// tailFix: truncate zeroed the tail of the last block in the cache;
	// zeroed holds again once a checkpoint has written it.
	tailFix bool
	dsize   int64 // the size last encoded for the device
}

func (in *inode) typ() uint32  { return in.mode & backend.TypeMask }
func (in *inode) isDir() bool  { return in.typ() == backend.TypeDir }
func (in *inode) isReg() bool  { return in.typ() == backend.TypeReg }
func (in *inode) isLink() bool { return in.typ() == backend.TypeLink }

// inodePos returns the inode table block holding ino and its offset.
func (f *FS) inodePos(ino uint32) (uint32, int64) {
	g := (ino - 1) / f.inodesPerGrp
	off := int64((ino-1)%f.inodesPerGrp) * f.inodeSize
	return f.groups[g].inodeTable + uint32(off/f.bs), off % f.bs
}

// iget returns the cached inode ino, reading it on a miss.
func (f *FS) iget(ino uint32) (*inode, syscall.Errno) {
	if ino == 0 || ino > f.inodes {
		return nil, syscall.EIO
	}
	if in := f.icach[ino]; in != nil {
		return in, 0
	}
	b, off := f.inodePos(ino)
	cb, e := f.get(b, kindTable)
	if e != 0 {
		return nil, e
	}
	raw := append([]byte(nil), cb.b[off:off+f.inodeSize]...)
	in := f.decode(ino, raw)
	if in.size < 0 {
		return nil, syscall.EIO
	}
	f.icach[ino] = in
	return in, 0
}

// decode parses raw, the on-disk bytes of inode ino.
func (f *FS) decode(ino uint32, raw []byte) *inode {
	le := binary.LittleEndian
	in := &inode{ino: ino, raw: raw}
	in.mode = uint32(le.Uint16(raw[0:]))
	in.uid = uint32(le.Uint16(raw[2:])) | uint32(le.Uint16(raw[120:]))<<16
	in.gid = uint32(le.Uint16(raw[24:])) | uint32(le.Uint16(raw[122:]))<<16
	in.size = int64(le.Uint32(raw[4:]))
	if in.isReg() {
		in.size |= int64(le.Uint32(raw[108:])) << 32
	}
	in.atime = le.Uint32(raw[8:])
	in.ctime = le.Uint32(raw[12:])
	in.mtime = le.Uint32(raw[16:])
	in.dtime = le.Uint32(raw[20:])
	in.links = uint32(le.Uint16(raw[26:]))
	in.blocks512 = int64(le.Uint32(raw[28:])) | int64(le.Uint16(raw[116:]))<<32
	in.flags = le.Uint32(raw[32:])
	if f.hugeFile && in.flags&flagHuge != 0 { // i_blocks counts file system blocks
		in.blocks512 *= f.bs / 512
	}
	for i := range in.block {
		in.block[i] = le.Uint32(raw[40+4*i:])
	}
	in.fileACL = le.Uint32(raw[104:])
	in.dsize = in.size
	in.zeroed = in.size%f.bs == 0
	return in
}

// encode writes in's fields into its raw bytes and those into the cached
// inode table block, and marks it clean.
func (f *FS) encode(in *inode) syscall.Errno {
	le := binary.LittleEndian
	raw := in.raw
	le.PutUint16(raw[0:], uint16(in.mode))
	le.PutUint16(raw[2:], uint16(in.uid))
	le.PutUint16(raw[120:], uint16(in.uid>>16))
	le.PutUint16(raw[24:], uint16(in.gid))
	le.PutUint16(raw[122:], uint16(in.gid>>16))
	le.PutUint32(raw[4:], uint32(in.size))
	if in.isReg() {
		le.PutUint32(raw[108:], uint32(in.size>>32))
	}
	le.PutUint32(raw[8:], in.atime)
	le.PutUint32(raw[12:], in.ctime)
	le.PutUint32(raw[16:], in.mtime)
	le.PutUint32(raw[20:], in.dtime)
	le.PutUint16(raw[26:], uint16(in.links))
	le.PutUint32(raw[28:], uint32(in.blocks512))
	le.PutUint16(raw[116:], uint16(in.blocks512>>32))
	le.PutUint32(raw[32:], in.flags)
	for i, b := range in.block {
		le.PutUint32(raw[40+4*i:], b)
	}
	le.PutUint32(raw[104:], in.fileACL)
	in.dsize = in.size
	b, off := f.inodePos(in.ino)
	cb, e := f.get(b, kindTable)
	if e != 0 {
		return e
	}
	copy(cb.b[off:], raw)
	f.dirty(cb)
	in.dirty = false
	return 0
}

// newInode makes a fresh in-memory inode for a just-allocated number.
func (f *FS) newInode(ino, mode, uid, gid uint32) *inode {
	now := uint32(f.clock().Unix())
	in := &inode{ino: ino, raw: make([]byte, f.inodeSize), mode: mode, uid: uid, gid: gid,
		atime: now, ctime: now, mtime: now, links: 1, dirty: true, zeroed: true}
	if f.inodeSize >= 160 {
		// The extra fields mkfs.ext2 sets for large inodes: their size,
		// and the creation time.
		binary.LittleEndian.PutUint16(in.raw[128:], 32)
		binary.LittleEndian.PutUint32(in.raw[144:], now)
	}
	f.icach[ino] = in
	return in
}

// touch marks in changed now: mtime and ctime.
func (f *FS) touch(in *inode) {
	now := uint32(f.clock().Unix())
	in.mtime, in.ctime = now, now
	in.dirty = true
}

// evict frees in once it has no name and no open file: its blocks and
// the inode itself go to the pending frees of this epoch.
func (f *FS) evict(in *inode) {
	if in.links > 0 || in.opens > 0 || in.deleted {
		return
	}
	if in.isReg() || in.isDir() || (in.isLink() && !f.fastLink(in)) {
		f.truncBlocks(in, 0)
	}
	if in.fileACL != 0 {
		f.dropACL(in.fileACL)
		in.fileACL = 0
	}
	in.block = [inodeBlockPtrs]uint32{}
	in.size, in.blocks512 = 0, 0
	in.dtime = uint32(f.clock().Unix())
	in.deleted, in.dirty = true, true
	f.c.pendInodes = append(f.c.pendInodes, in)
}

// dropACL releases one reference to an extended-attribute block (files
// from mkfs.ext2 -d may carry one); the block is freed with its last.
func (f *FS) dropACL(b uint32) {
	cb, e := f.get(b, kindIndirect)
	if e != 0 || binary.LittleEndian.Uint32(cb.b) != 0xEA020000 {
		return // not an attribute block: leave it to e2fsck
	}
	refs := binary.LittleEndian.Uint32(cb.b[4:])
	if refs > 1 {
		binary.LittleEndian.PutUint32(cb.b[4:], refs-1)
		f.dirty(cb)
		return
	}
	f.freeBlock(b)
}

// fastLink reports whether a symbolic link keeps its target in i_block.
func (f *FS) fastLink(in *inode) bool {
	data := in.blocks512
	if in.fileACL != 0 {
		data -= f.bs / 512
	}
	return data <= 0 && in.size < maxSymlinkFastLen
}
