package ext2

import (
	"encoding/binary"
	"os"
	"syscall"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// node is one inode of a mounted FS; it implements backend.Node. It holds
// only the inode number: the inode itself lives in the FS's inode cache.
type node struct {
	fs  *FS
	ino uint32
}

// maxLinks is the largest link count ext2 stores (as Linux's EXT2_LINK_MAX).
const maxLinks = 32000

// begin locks the FS and returns n's inode; end must follow.
func (n *node) begin() (*FS, *inode, syscall.Errno) {
	f := n.fs
	f.mu.Lock()
	if f.closed {
		return f, nil, syscall.EIO
	}
	in, e := f.iget(n.ino)
	return f, in, e
}

// end finishes an operation begun by begin and unlocks the FS.
func (f *FS) end() {
	if !f.closed {
		f.done()
	}
	f.mu.Unlock()
}

// writable is begin for operations that change the file system.
func (n *node) writable() (*FS, *inode, syscall.Errno) {
	f, in, e := n.begin()
	if e == 0 && !f.rw {
		e = syscall.EROFS
	}
	return f, in, e
}

// Attr implements backend.Node.
func (n *node) Attr() backend.Attr {
	f, in, e := n.begin()
	defer f.end()
	if e != 0 {
		return backend.Attr{Ino: uint64(n.ino), Mode: backend.TypeDir}
	}
	a := backend.Attr{
		Ino: uint64(n.ino), Mode: in.mode, Nlink: in.links, Uid: in.uid, Gid: in.gid,
		Size: in.size, Blocks: in.blocks512,
		Atime: unixTime(in.atime), Mtime: unixTime(in.mtime), Ctime: unixTime(in.ctime),
	}
	if t := in.typ(); t == backend.TypeChar || t == backend.TypeBlock {
		a.Rdev = decodeDev(in.block[0], in.block[1])
	}
	return a
}

// decodeDev turns the device number stored in i_block[0] (old format) or
// i_block[1] (new format) into Linux's encoding.
func decodeDev(old, new uint32) uint64 {
	if old != 0 {
		return uint64(old>>8&0xff)<<8 | uint64(old&0xff)
	}
	major := new >> 8 & 0xfff
	minor := new&0xff | new>>12&0xfff00
	return uint64(major)<<8 | uint64(minor&0xff) | uint64(minor&^0xff)<<12
}

// Lookup implements backend.Node.
func (n *node) Lookup(name string) (backend.Node, syscall.Errno) {
	f, dir, e := n.begin()
	defer f.end()
	if e != 0 {
		return nil, e
	}
	r, e := f.find(dir, name)
	if e != 0 {
		return nil, e
	}
	if _, e := f.iget(r.d.ino); e != 0 {
		return nil, e
	}
	return &node{fs: f, ino: r.d.ino}, 0
}

// ReadDir implements backend.Node.
func (n *node) ReadDir() ([]backend.DirEntry, syscall.Errno) {
	f, dir, e := n.begin()
	defer f.end()
	if e != 0 {
		return nil, e
	}
	var out []backend.DirEntry
	var ierr syscall.Errno
	e = f.entries(dir, func(d dirent) bool {
		if d.name == "." || d.name == ".." {
			return true
		}
		var typ uint32
		if f.filetype && d.typ < 8 && d.typ != 0 {
			typ = fileTypes[d.typ]
		} else {
			c, e := f.iget(d.ino)
			if e != 0 {
				ierr = e
				return false
			}
			typ = c.typ()
		}
		out = append(out, backend.DirEntry{Name: d.name, Ino: uint64(d.ino), Type: typ})
		return true
	})
	if e == 0 {
		e = ierr
	}
	return out, e
}

// make creates an inode of mode called name in dir, with extra blocks of
// room checked for its contents; nothing changes when it does not fit.
func (f *FS) make(dir *inode, name string, mode uint32, extra int) (*inode, syscall.Errno) {
	if !dir.isDir() {
		return nil, syscall.ENOTDIR
	}
	if dir.links == 0 {
		return nil, syscall.ENOENT
	}
	isDir := mode&backend.TypeMask == backend.TypeDir
	if isDir && dir.links >= maxLinks {
		return nil, syscall.EMLINK
	}
	need, e := f.spaceFor(dir, name)
	if e != 0 {
		return nil, e
	}
	if isDir {
		extra++
	}
	if e := f.ensureFree(need+extra, 1); e != 0 {
		return nil, e
	}
	ino, e := f.allocInode(dir.ino, isDir)
	if e != 0 {
		return nil, e
	}
	in := f.newInode(ino, mode, 0, 0)
	if dir.mode&0o2000 != 0 {
		// A set-group-ID directory gives new entries its group, and new
		// directories its set-group-ID bit (as Linux).
		in.gid = dir.gid
		if isDir {
			in.mode |= 0o2000
		}
	}
	if isDir {
		if e := f.initDir(in, dir.ino); e != 0 {
			return nil, e
		}
		in.links = 2
		dir.links++
	}
	if e := f.addEntry(dir, name, ino, fileType(mode)); e != 0 {
		return nil, e
	}
	return in, 0
}

// Create implements backend.Node.
func (n *node) Create(name string, mode uint32) (backend.Node, syscall.Errno) {
	return n.makeNode(name, backend.TypeReg|mode&backend.PermMask)
}

// Mkdir implements backend.Node.
func (n *node) Mkdir(name string, mode uint32) (backend.Node, syscall.Errno) {
	return n.makeNode(name, backend.TypeDir|mode&backend.PermMask)
}

// makeNode is Create and Mkdir.
func (n *node) makeNode(name string, mode uint32) (backend.Node, syscall.Errno) {
	f, dir, e := n.writable()
	defer f.end()
	if e != 0 {
		return nil, e
	}
	in, e := f.make(dir, name, mode, 0)
	if e != 0 {
		return nil, e
	}
	return &node{fs: f, ino: in.ino}, 0
}

// Symlink implements backend.Node: a target shorter than 60 bytes is kept
// in the inode (a fast link), a longer one in a data block.
func (n *node) Symlink(name, target string) (backend.Node, syscall.Errno) {
	f, dir, e := n.writable()
	defer f.end()
	if e != 0 {
		return nil, e
	}
	if int64(len(target)) >= f.bs {
		return nil, syscall.ENAMETOOLONG
	}
	fast := len(target) < maxSymlinkFastLen
	extra := 1
	if fast {
		extra = 0
	}
	in, e := f.make(dir, name, backend.TypeLink|0o777, extra)
	if e != 0 {
		return nil, e
	}
	if fast {
		var buf [4 * inodeBlockPtrs]byte
		copy(buf[:], target)
		for i := range in.block {
			in.block[i] = binary.LittleEndian.Uint32(buf[4*i:])
		}
		in.size = int64(len(target))
	} else if _, e := f.writeData(in, []byte(target), 0, kindData); e != 0 {
		return nil, e // cannot happen: make checked the room
	}
	return &node{fs: f, ino: in.ino}, 0
}

// Link implements backend.Node.
func (n *node) Link(name string, target backend.Node) syscall.Errno {
	t, ok := target.(*node)
	if !ok || t.fs != n.fs {
		return syscall.EXDEV
	}
	f, dir, e := n.writable()
	defer f.end()
	if e != 0 {
		return e
	}
	if !dir.isDir() {
		return syscall.ENOTDIR
	}
	c, e := f.iget(t.ino)
	if e != 0 {
		return e
	}
	switch {
	case c.isDir():
		return syscall.EPERM
	case c.links == 0 || dir.links == 0:
		return syscall.ENOENT
	case c.links >= maxLinks:
		return syscall.EMLINK
	}
	need, e := f.spaceFor(dir, name)
	if e != 0 {
		return e
	}
	if e := f.ensureFree(need, 0); e != 0 {
		return e
	}
	if e := f.addEntry(dir, name, c.ino, fileType(c.mode)); e != 0 {
		return e
	}
	c.links++
	c.ctime = uint32(f.clock().Unix())
	c.dirty = true
	return 0
}

// empty reports whether directory in has only "." and "..".
func (f *FS) empty(in *inode) (bool, syscall.Errno) {
	empty := true
	e := f.entries(in, func(d dirent) bool {
		if d.name != "." && d.name != ".." {
			empty = false
			return false
		}
		return true
	})
	return empty, e
}

// unlinked drops one name of c, which has just left directory dir.
func (f *FS) unlinked(dir, c *inode) {
	if c.isDir() {
		c.links = 0
		if dir.links > 0 {
			dir.links--
		}
	} else if c.links > 0 {
		c.links--
	}
	c.ctime = uint32(f.clock().Unix())
	c.dirty = true
	f.evict(c)
}

// Remove implements backend.Node.
func (n *node) Remove(name string) syscall.Errno {
	f, dir, e := n.writable()
	defer f.end()
	if e != 0 {
		return e
	}
	r, e := f.find(dir, name)
	if e != 0 {
		return e
	}
	if name == "." || name == ".." {
		return syscall.EINVAL
	}
	c, e := f.iget(r.d.ino)
	if e != 0 {
		return e
	}
	if c.isDir() {
		if ok, e := f.empty(c); e != 0 || !ok {
			if e == 0 {
				e = syscall.ENOTEMPTY
			}
			return e
		}
	}
	f.removeEntry(dir, r)
	f.unlinked(dir, c)
	return 0
}

// Rename implements backend.Node.
func (n *node) Rename(oldName string, newDir backend.Node, newName string) syscall.Errno {
	nd, ok := newDir.(*node)
	if !ok || nd.fs != n.fs {
		return syscall.EXDEV
	}
	f, od, e := n.writable()
	defer f.end()
	if e != 0 {
		return e
	}
	ndir, e := f.iget(nd.ino)
	if e != 0 {
		return e
	}
	if !od.isDir() || !ndir.isDir() {
		return syscall.ENOTDIR
	}
	if ndir.links == 0 {
		return syscall.ENOENT
	}
	r, e := f.find(od, oldName)
	if e != 0 {
		return e
	}
	c, e := f.iget(r.d.ino)
	if e != 0 {
		return e
	}
	tr, te := f.find(ndir, newName)
	var t *inode
	switch te {
	case 0:
		if t, e = f.iget(tr.d.ino); e != 0 {
			return e
		}
		if t == c {
			return 0
		}
		if t.isDir() != c.isDir() {
			if c.isDir() {
				return syscall.ENOTDIR
			}
			return syscall.EISDIR
		}
		if t.isDir() {
			if ok, e := f.empty(t); e != 0 || !ok {
				if e == 0 {
					e = syscall.ENOTEMPTY
				}
				return e
			}
		}
	case syscall.ENOENT:
		if c.isDir() && od != ndir && ndir.links >= maxLinks {
			return syscall.EMLINK
		}
		need, e := f.spaceFor(ndir, newName)
		if e != 0 {
			return e
		}
		if e := f.ensureFree(need, 0); e != 0 {
			return e
		}
	default:
		return te
	}
	// The new name first, then the old one goes: a checkpoint writes
	// blocks that gained entries before blocks that lost them.
	if t != nil {
		f.setEntry(ndir, tr, c.ino, fileType(c.mode))
	} else if e := f.addEntry(ndir, newName, c.ino, fileType(c.mode)); e != 0 {
		return e
	}
	if r, e = f.find(od, oldName); e != 0 {
		return e // cannot happen: the name was there
	}
	f.removeEntry(od, r)
	if c.isDir() && od != ndir {
		dd, e := f.find(c, "..")
		if e != 0 {
			return e
		}
		binary.LittleEndian.PutUint32(dd.cb.b[dd.off:], ndir.ino)
		dd.cb.added = true
		f.dirty(dd.cb)
		od.links--
		ndir.links++
	}
	c.ctime = uint32(f.clock().Unix())
	c.dirty = true
	if t != nil {
		f.unlinked(ndir, t)
	}
	return 0
}

// Readlink implements backend.Node.
func (n *node) Readlink() (string, syscall.Errno) {
	f, in, e := n.begin()
	defer f.end()
	if e != 0 {
		return "", e
	}
	if !in.isLink() {
		return "", syscall.EINVAL
	}
	if in.size > f.bs || in.size >= 4096 {
		return "", syscall.EIO
	}
	if f.fastLink(in) {
		var buf [4 * inodeBlockPtrs]byte
		for i, w := range in.block {
			binary.LittleEndian.PutUint32(buf[4*i:], w)
		}
		return string(buf[:in.size]), 0
	}
	buf := make([]byte, in.size)
	m, e := f.readData(in, buf, 0)
	if e != 0 {
		return "", e
	}
	return string(buf[:m]), 0
}

// Truncate implements backend.Node: shrinking frees the blocks past the
// new end (indirect ones included) and zeroes the rest of the last block;
// growing allocates nothing (a hole).
func (n *node) Truncate(size int64) syscall.Errno {
	f, in, e := n.writable()
	defer f.end()
	if e != 0 {
		return e
	}
	switch {
	case in.isDir():
		return syscall.EISDIR
	case !in.isReg() || size < 0:
		return syscall.EINVAL
	case size > f.maxSize():
		return syscall.EFBIG
	}
	if size < in.size {
		in.palloc = 0 // freed with the rest
		f.truncBlocks(in, (size+f.bs-1)/f.bs)
		if e := f.zeroTail(in, size); e != 0 {
			return e
		}
	}
	in.size = size
	f.largeFile(size)
	f.touch(in)
	return 0
}

// SetAttr implements backend.Node.
func (n *node) SetAttr(a backend.SetAttr) syscall.Errno {
	f, in, e := n.writable()
	defer f.end()
	if e != 0 {
		return e
	}
	if a.Mode != nil {
		in.mode = in.mode&backend.TypeMask | *a.Mode&backend.PermMask
	}
	if a.Uid != nil {
		in.uid = *a.Uid
	}
	if a.Gid != nil {
		in.gid = *a.Gid
	}
	if (a.Uid != nil || a.Gid != nil) && !in.isDir() {
		// As on Linux, chown of a non-directory clears set-user-ID, and
		// set-group-ID when the group may execute.
		in.mode &^= 0o4000
		if in.mode&0o010 != 0 {
			in.mode &^= 0o2000
		}
	}
	if a.Atime != nil {
		in.atime = uint32(a.Atime.Unix())
	}
	if a.Mtime != nil {
		in.mtime = uint32(a.Mtime.Unix())
	}
	in.ctime = uint32(f.clock().Unix())
	in.dirty = true
	return 0
}

// Sync implements backend.Node: fsync of any file or directory is a
// checkpoint, which writes all dirty data and metadata and flushes the
// device (the bitmaps and group descriptors, which recovery rebuilds after
// a power cut, wait for Sync or Unmount: see FS.fsync).
func (n *node) Sync() syscall.Errno {
	f, _, e := n.begin()
	defer f.end()
	if e != 0 {
		return e
	}
	if err := f.fsync(); err != nil {
		return syscall.EIO
	}
	return 0
}

// Open implements backend.Node.
func (n *node) Open(flags int) (backend.File, syscall.Errno) {
	f, in, e := n.begin()
	defer f.end()
	if e != 0 {
		return nil, e
	}
	if !f.rw && flags&(os.O_WRONLY|os.O_RDWR|os.O_TRUNC) != 0 {
		return nil, syscall.EROFS
	}
	in.opens++
	return &file{n: n}, 0
}

// file is an open regular file (or directory description).
type file struct {
	n        *node
	released bool
}

// ReadAt implements backend.File.
func (h *file) ReadAt(p []byte, off int64) (int, syscall.Errno) {
	f, in, e := h.n.begin()
	defer f.end()
	if e != 0 {
		return 0, e
	}
	if in.isDir() {
		return 0, syscall.EISDIR
	}
	return f.readData(in, p, off)
}

// WriteAt implements backend.File: a short count with no error when the
// file system filled up after some bytes, ENOSPC when none fit.
func (h *file) WriteAt(p []byte, off int64) (int, syscall.Errno) {
	f, in, e := h.n.writable()
	defer f.end()
	if e != 0 {
		return 0, e
	}
	if !in.isReg() {
		return 0, syscall.EINVAL
	}
	m, e := f.writeData(in, p, off, kindData)
	if m > 0 {
		f.touch(in)
	}
	return m, e
}

// Release implements backend.File: the last release of a removed file
// frees it.
func (h *file) Release() {
	if h.released {
		return
	}
	h.released = true
	f, in, e := h.n.begin()
	defer f.end()
	if e != 0 {
		return
	}
	if in.opens > 0 {
		in.opens--
	}
	if f.rw {
		if in.opens == 0 {
			f.trimPrealloc(in)
		}
		f.evict(in)
	}
}
