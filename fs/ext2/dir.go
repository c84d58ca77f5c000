package ext2

import (
	"encoding/binary"
	"syscall"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// dirent is one decoded directory entry.
type dirent struct {
	ino  uint32
	name string
	typ  uint8
}

// fileTypes maps the directory entry file type to mode type bits.
var fileTypes = [8]uint32{0, backend.TypeReg, backend.TypeDir, backend.TypeChar,
	backend.TypeBlock, backend.TypeFIFO, backend.TypeSock, backend.TypeLink}

// fileType is the directory entry file type of mode.
func fileType(mode uint32) uint8 {
	for i, t := range fileTypes {
		if i > 0 && t == mode&backend.TypeMask {
			return uint8(i)
		}
	}
	return 0
}

// recLen is the space an entry with a name of n bytes needs.
func recLen(n int) int { return (8 + n + 3) &^ 3 }

// record is one record of a directory block, live or not.
type record struct {
	cb        *cblock
	off, prev int // offsets in the block; prev is -1 for the first record
	rec       int
	d         dirent
}

// scanDir calls fn for every record of directory in, block by block; fn
// returning false stops the scan. A malformed block is EIO.
func (f *FS) scanDir(in *inode, fn func(r record) bool) syscall.Errno {
	if !in.isDir() {
		return syscall.ENOTDIR
	}
	if in.size > int64(f.blocks)*f.bs || in.size%f.bs != 0 {
		return syscall.EIO // larger than the file system, or ragged: corrupt
	}
	le := binary.LittleEndian
	for lb := int64(0); lb < in.size/f.bs; lb++ {
		pb, e := f.bmap(in, lb)
		if e != 0 || pb == 0 {
			return syscall.EIO // directories have no holes
		}
		cb, e := f.get(pb, kindDir)
		if e != 0 {
			return e
		}
		blk := cb.b
		prev := -1
		for p := 0; p < len(blk); {
			if len(blk)-p < 8 {
				return syscall.EIO
			}
			ino := le.Uint32(blk[p:])
			rec := int(le.Uint16(blk[p+4:]))
			nameLen := int(blk[p+6])
			var typ uint8
			if f.filetype {
				typ = blk[p+7]
			} else {
				nameLen |= int(blk[p+7]) << 8
			}
			if rec < 8 || rec%4 != 0 || p+rec > len(blk) || 8+nameLen > rec {
				return syscall.EIO
			}
			if ino > f.inodes {
				return syscall.EIO
			}
			r := record{cb: cb, off: p, prev: prev, rec: rec, d: dirent{ino: ino, typ: typ}}
			if ino != 0 {
				r.d.name = string(blk[p+8 : p+8+nameLen])
			}
			if !fn(r) {
				return 0
			}
			prev = p
			p += rec
		}
	}
	return 0
}

// entries calls fn for each live entry of in (including "." and "..").
func (f *FS) entries(in *inode, fn func(d dirent) bool) syscall.Errno {
	return f.scanDir(in, func(r record) bool {
		if r.d.ino == 0 || r.d.name == "" {
			return true
		}
		return fn(r.d)
	})
}

// find returns the record of name in dir, ENOENT when there is none.
func (f *FS) find(dir *inode, name string) (record, syscall.Errno) {
	var found record
	e := f.scanDir(dir, func(r record) bool {
		if r.d.ino != 0 && r.d.name == name {
			found = r
			return false
		}
		return true
	})
	if e == 0 && found.cb == nil {
		e = syscall.ENOENT
	}
	return found, e
}

// putEntry writes an entry at off of block b with record length rec.
func (f *FS) putEntry(b []byte, off, rec int, ino uint32, name string, typ uint8) {
	le := binary.LittleEndian
	le.PutUint32(b[off:], ino)
	le.PutUint16(b[off+4:], uint16(rec))
	b[off+6] = byte(len(name))
	if f.filetype {
		b[off+7] = typ
	} else {
		b[off+7] = byte(len(name) >> 8)
	}
	copy(b[off+8:], name)
	clear(b[off+8+len(name) : off+recLen(len(name))])
}

// slot finds room for an entry called name in dir: the record to reuse
// or split, or ok false when the directory must grow. It answers EEXIST
// when dir already has name (the VFS never asks for that, but the check
// costs nothing in the same scan).
func (f *FS) slot(dir *inode, name string) (r record, ok bool, e syscall.Errno) {
	need := recLen(len(name))
	exists := false
	e = f.scanDir(dir, func(x record) bool {
		used := 0
		if x.d.ino != 0 {
			if x.d.name == name {
				exists = true
				return false
			}
			used = recLen(len(x.d.name))
		}
		if !ok && x.rec-used >= need {
			r, ok = x, true
		}
		return true
	})
	if e == 0 && exists {
		e = syscall.EEXIST
	}
	return r, ok, e
}

// spaceFor is how many blocks adding name to dir would allocate.
func (f *FS) spaceFor(dir *inode, name string) (int, syscall.Errno) {
	_, ok, e := f.slot(dir, name)
	if e != 0 || ok {
		return 0, e
	}
	return f.missing(dir, dir.size/f.bs)
}

// addEntry adds name -> ino to dir, reusing a free record or the slack of
// one (as Linux), or growing the directory by a block.
func (f *FS) addEntry(dir *inode, name string, ino uint32, typ uint8) syscall.Errno {
	r, ok, e := f.slot(dir, name)
	if e != 0 {
		return e
	}
	if ok {
		off, rec := r.off, r.rec
		if r.d.ino != 0 {
			used := recLen(len(r.d.name))
			binary.LittleEndian.PutUint16(r.cb.b[off+4:], uint16(used))
			off, rec = off+used, rec-used
		}
		f.putEntry(r.cb.b, off, rec, ino, name, typ)
		r.cb.added = true
		f.dirty(r.cb)
	} else {
		pb, _, e := f.bmapAlloc(dir, dir.size/f.bs, kindDir)
		if e != 0 {
			return e
		}
		cb := f.overwrite(pb, kindDir)
		clear(cb.b)
		f.putEntry(cb.b, 0, int(f.bs), ino, name, typ)
		f.dirty(cb)
		dir.size += f.bs
	}
	dir.flags &^= flagIndex // a hash index would be stale now (as Linux ext2)
	f.touch(dir)
	return 0
}

// removeEntry removes the record r from its directory dir, merging its
// space into the previous record (as Linux), or marking it unused when it
// is the first of its block.
func (f *FS) removeEntry(dir *inode, r record) {
	le := binary.LittleEndian
	if r.prev >= 0 {
		prec := int(le.Uint16(r.cb.b[r.prev+4:]))
		le.PutUint16(r.cb.b[r.prev+4:], uint16(prec+r.rec))
	} else {
		le.PutUint32(r.cb.b[r.off:], 0)
	}
	f.dirty(r.cb)
	dir.flags &^= flagIndex
	f.touch(dir)
}

// setEntry points the record r at ino (rename over an existing name).
func (f *FS) setEntry(dir *inode, r record, ino uint32, typ uint8) {
	binary.LittleEndian.PutUint32(r.cb.b[r.off:], ino)
	if f.filetype {
		r.cb.b[r.off+7] = typ
	}
	r.cb.added = true
	f.dirty(r.cb)
	dir.flags &^= flagIndex
	f.touch(dir)
}

// initDir writes the first block of a new directory: "." and "..".
func (f *FS) initDir(dir *inode, parent uint32) syscall.Errno {
	pb, _, e := f.bmapAlloc(dir, 0, kindDir)
	if e != 0 {
		return e
	}
	cb := f.overwrite(pb, kindDir)
	clear(cb.b)
	f.putEntry(cb.b, 0, 12, dir.ino, ".", 2)
	f.putEntry(cb.b, 12, int(f.bs)-12, parent, "..", 2)
	f.dirty(cb)
	dir.size = f.bs
	return 0
}
