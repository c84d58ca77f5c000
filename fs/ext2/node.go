package ext2

import (
	"encoding/binary"
	"os"
	"syscall"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// node is one inode of a mounted FS; it implements backend.Node. Nodes are
// made on each Lookup and carry a decoded copy of the inode.
type node struct {
	backend.ReadOnlyNode
	fs  *FS
	ino uint32
	in  *inode
	bad bool // the inode could not be read: every operation answers EIO
}

func (f *FS) node(ino uint32) (*node, syscall.Errno) {
	in, e := f.inode(ino)
	if e != 0 {
		return nil, e
	}
	return &node{fs: f, ino: ino, in: in}, 0
}

// Attr implements backend.Node.
func (n *node) Attr() backend.Attr {
	if n.bad {
		return backend.Attr{Ino: uint64(n.ino), Mode: backend.TypeDir}
	}
	in := n.in
	a := backend.Attr{
		Ino: uint64(n.ino), Mode: in.mode, Nlink: in.links, Uid: in.uid, Gid: in.gid,
		Size: in.size, Blocks: in.blocks512,
		Atime: unixTime(in.atime), Mtime: unixTime(in.mtime), Ctime: unixTime(in.ctime),
	}
	if t := in.mode & backend.TypeMask; t == backend.TypeChar || t == backend.TypeBlock {
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

func (n *node) isDir() bool { return !n.bad && n.in.mode&backend.TypeMask == backend.TypeDir }

// dirent is one decoded directory entry.
type dirent struct {
	ino  uint32
	name string
	typ  uint8
}

// entries walks the linked-list directory, calling fn for each live entry
// (including "." and ".."); fn returning false stops the walk.
func (n *node) entries(fn func(d dirent) bool) syscall.Errno {
	if n.bad {
		return syscall.EIO
	}
	if !n.isDir() {
		return syscall.ENOTDIR
	}
	f := n.fs
	if n.in.size > int64(f.blocks)*f.bs {
		return syscall.EIO // larger than the file system: corrupt
	}
	buf := make([]byte, f.bs)
	for off := int64(0); off < n.in.size; off += f.bs {
		if pb, e := f.bmap(n.in, off/f.bs); e != 0 || pb == 0 {
			return syscall.EIO // directories have no holes
		}
		m, e := f.readData(n.in, buf, off)
		if e != 0 {
			return e
		}
		blk := buf[:m]
		for p := 0; p < len(blk); {
			if len(blk)-p < 8 {
				return syscall.EIO
			}
			ino := binary.LittleEndian.Uint32(blk[p:])
			rec := int(binary.LittleEndian.Uint16(blk[p+4:]))
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
			if ino != 0 && nameLen > 0 {
				if ino > f.inodes {
					return syscall.EIO
				}
				if !fn(dirent{ino: ino, name: string(blk[p+8 : p+8+nameLen]), typ: typ}) {
					return 0
				}
			}
			p += rec
		}
	}
	return 0
}

// Lookup implements backend.Node.
func (n *node) Lookup(name string) (backend.Node, syscall.Errno) {
	var found uint32
	e := n.entries(func(d dirent) bool {
		if d.name == name {
			found = d.ino
			return false
		}
		return true
	})
	if e != 0 {
		return nil, e
	}
	if found == 0 {
		return nil, syscall.ENOENT
	}
	c, e := n.fs.node(found)
	if e != 0 {
		return nil, e
	}
	return c, 0
}

// fileTypes maps the directory entry file type to mode type bits.
var fileTypes = [8]uint32{0, backend.TypeReg, backend.TypeDir, backend.TypeChar,
	backend.TypeBlock, backend.TypeFIFO, backend.TypeSock, backend.TypeLink}

// ReadDir implements backend.Node.
func (n *node) ReadDir() ([]backend.DirEntry, syscall.Errno) {
	var out []backend.DirEntry
	var ierr syscall.Errno
	e := n.entries(func(d dirent) bool {
		if d.name == "." || d.name == ".." {
			return true
		}
		var typ uint32
		if n.fs.filetype && d.typ < 8 && d.typ != 0 {
			typ = fileTypes[d.typ]
		} else {
			c, e := n.fs.inode(d.ino)
			if e != 0 {
				ierr = e
				return false
			}
			typ = c.mode & backend.TypeMask
		}
		out = append(out, backend.DirEntry{Name: d.name, Ino: uint64(d.ino), Type: typ})
		return true
	})
	if e == 0 {
		e = ierr
	}
	return out, e
}

// Readlink implements backend.Node.
func (n *node) Readlink() (string, syscall.Errno) {
	if n.bad {
		return "", syscall.EIO
	}
	in := n.in
	if in.mode&backend.TypeMask != backend.TypeLink {
		return "", syscall.EINVAL
	}
	if in.size > n.fs.bs || in.size >= 4096 {
		return "", syscall.EIO
	}
	// A fast symlink keeps its target in i_block; it has no data blocks
	// (an extended-attribute block may still be counted in i_blocks).
	dataBlocks := in.blocks512
	if in.fileACL != 0 {
		dataBlocks -= n.fs.bs / 512
	}
	if dataBlocks <= 0 && in.size < maxSymlinkFastLen {
		return string(in.raw[40 : 40+in.size]), 0
	}
	buf := make([]byte, in.size)
	m, e := n.fs.readData(in, buf, 0)
	if e != 0 {
		return "", e
	}
	return string(buf[:m]), 0
}

// Open implements backend.Node.
func (n *node) Open(flags int) (backend.File, syscall.Errno) {
	if n.bad {
		return nil, syscall.EIO
	}
	if flags&(os.O_WRONLY|os.O_RDWR|os.O_TRUNC) != 0 {
		return nil, syscall.EROFS
	}
	return &file{n: n}, 0
}

// file is an open regular file (or directory description).
type file struct{ n *node }

// ReadAt implements backend.File.
func (h *file) ReadAt(p []byte, off int64) (int, syscall.Errno) {
	if h.n.in.mode&backend.TypeMask == backend.TypeDir {
		return 0, syscall.EISDIR
	}
	return h.n.fs.readData(h.n.in, p, off)
}

// WriteAt implements backend.File.
func (h *file) WriteAt([]byte, int64) (int, syscall.Errno) { return 0, syscall.EROFS }

// Release implements backend.File.
func (h *file) Release() {}
