// Package tmpfs is the in-memory file system of XairrosX: directories,
// regular files and symbolic links held in Go memory, with an optional size
// limit (writes past it fail with ENOSPC and change nothing beyond what
// fitted).
//
// File data lives in 4 KiB pages kept in a map, so sparse files (a write or
// truncate far past the end) cost only the pages actually written. Storage
// of a file whose last name is removed is freed when its last open file is
// released, as on Linux.
//
// The package implements fs/backend. It has no lock of its own: fs/vfs
// serializes every call on a mounted instance.
package tmpfs

import (
	"math"
	"syscall"
	"time"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// PageSize is the allocation unit of file data.
const PageSize = 4096

// Magic is TMPFS_MAGIC, reported by statfs.
const Magic = 0x01021994

// Options configure a tmpfs instance.
type Options struct {
	// SizeLimit caps the bytes of file data (rounded up to pages); 0 means
	// no limit.
	SizeLimit int64
	// Clock gives timestamps; nil means time.Now.
	Clock func() time.Time
}

// FS is one tmpfs instance.
type FS struct {
	limit   int64
	clock   func() time.Time
	used    int64 // bytes of allocated pages
	nextIno uint64
	inodes  int64
	root    *node
}

// New returns an empty tmpfs whose root directory has mode 0755.
func New(o Options) *FS {
	f := &FS{limit: o.SizeLimit, clock: o.Clock, nextIno: 1}
	if f.clock == nil {
		f.clock = time.Now
	}
	f.root = f.newNode(backend.TypeDir|0o755, nil)
	f.root.parent = f.root
	return f
}

// Root implements backend.FS.Root.
func (f *FS) Root() backend.Node { return f.root }

// Type implements backend.FS.Type.
func (f *FS) Type() string { return "tmpfs" }

// ReadOnly implements backend.FS.ReadOnly.
func (f *FS) ReadOnly() bool { return false }

// Used returns the bytes of file data currently allocated.
func (f *FS) Used() int64 { return f.used }

// Statfs implements backend.FS.Statfs.
func (f *FS) Statfs(st *syscall.Statfs_t) {
	st.Type = Magic
	st.Bsize = PageSize
	st.Frsize = PageSize
	st.Namelen = 255
	total := int64(1) << 40
	if f.limit > 0 {
		total = f.limit
	}
	st.Blocks = uint64(total / PageSize)
	free := (total - f.used) / PageSize
	if free < 0 {
		free = 0
	}
	st.Bfree = uint64(free)
	st.Bavail = uint64(free)
	st.Files = 1 << 20
	st.Ffree = uint64(max(0, int64(1<<20)-f.inodes))
}

type page = [PageSize]byte

// node is a tmpfs inode.
type node struct {
	fs    *FS
	ino   uint64
	mode  uint32
	nlink uint32
	opens int
	uid   uint32
	gid   uint32

	atime, mtime, ctime time.Time

	// regular files
	size  int64
	pages map[int64]*page

	// directories
	parent   *node
	children map[string]*node

	// symbolic links
	target string
}

func (f *FS) newNode(mode uint32, parent *node) *node {
	now := f.clock()
	n := &node{fs: f, ino: f.nextIno, mode: mode, nlink: 1, atime: now, mtime: now, ctime: now, parent: parent}
	f.nextIno++
	f.inodes++
	switch mode & backend.TypeMask {
	case backend.TypeDir:
		n.nlink = 2
		n.children = map[string]*node{}
	case backend.TypeReg:
		n.pages = map[int64]*page{}
	}
	return n
}

func (n *node) isDir() bool { return n.mode&backend.TypeMask == backend.TypeDir }

// Attr implements backend.Node.Attr.
func (n *node) Attr() backend.Attr {
	a := backend.Attr{Ino: n.ino, Mode: n.mode, Nlink: n.nlink, Uid: n.uid, Gid: n.gid, Atime: n.atime, Mtime: n.mtime, Ctime: n.ctime}
	switch n.mode & backend.TypeMask {
	case backend.TypeReg:
		a.Size = n.size
		a.Blocks = int64(len(n.pages)) * (PageSize / 512)
	case backend.TypeDir:
		a.Size = PageSize
	case backend.TypeLink:
		a.Size = int64(len(n.target))
	}
	return a
}

// Lookup implements backend.Node.Lookup.
func (n *node) Lookup(name string) (backend.Node, syscall.Errno) {
	if !n.isDir() {
		return nil, syscall.ENOTDIR
	}
	if name == ".." {
		return n.parent, 0
	}
	c, ok := n.children[name]
	if !ok {
		return nil, syscall.ENOENT
	}
	return c, 0
}

// ReadDir implements backend.Node.ReadDir; entries come sorted by name.
func (n *node) ReadDir() ([]backend.DirEntry, syscall.Errno) {
	if !n.isDir() {
		return nil, syscall.ENOTDIR
	}
	return backend.ListDir(n.children, func(c *node) (uint64, uint32) { return c.ino, c.mode }), 0
}

// add links child under name; the directory must be live.
func (n *node) add(name string, c *node) syscall.Errno {
	if !n.isDir() {
		return syscall.ENOTDIR
	}
	if n.nlink == 0 {
		return syscall.ENOENT
	}
	if _, ok := n.children[name]; ok {
		return syscall.EEXIST
	}
	n.children[name] = c
	n.touch()
	return 0
}

func (n *node) touch() {
	now := n.fs.clock()
	n.mtime, n.ctime = now, now
}

func (n *node) create(name string, mode uint32) (*node, syscall.Errno) {
	if !n.isDir() {
		return nil, syscall.ENOTDIR
	}
	c := n.fs.newNode(mode, n)
	if n.mode&0o2000 != 0 {
		// A set-group-ID directory gives new entries its group, and new
		// directories its set-group-ID bit (BSD group semantics, as Linux).
		c.gid = n.gid
		if c.isDir() {
			c.mode |= 0o2000
		}
	}
	if e := n.add(name, c); e != 0 {
		n.fs.inodes--
		return nil, e
	}
	return c, 0
}

// Create implements backend.Node.Create.
func (n *node) Create(name string, mode uint32) (backend.Node, syscall.Errno) {
	c, e := n.create(name, backend.TypeReg|mode&backend.PermMask)
	if e != 0 {
		return nil, e
	}
	return c, 0
}

// Mkdir implements backend.Node.Mkdir.
func (n *node) Mkdir(name string, mode uint32) (backend.Node, syscall.Errno) {
	c, e := n.create(name, backend.TypeDir|mode&backend.PermMask)
	if e != 0 {
		return nil, e
	}
	n.nlink++
	return c, 0
}

// Symlink implements backend.Node.Symlink.
func (n *node) Symlink(name, target string) (backend.Node, syscall.Errno) {
	c, e := n.create(name, backend.TypeLink|0o777)
	if e != 0 {
		return nil, e
	}
	c.target = target
	return c, 0
}

// Link implements backend.Node.Link.
func (n *node) Link(name string, target backend.Node) syscall.Errno {
	t, ok := target.(*node)
	if !ok || t.fs != n.fs {
		return syscall.EXDEV
	}
	if t.isDir() {
		return syscall.EPERM
	}
	if t.nlink == 0 {
		return syscall.ENOENT
	}
	if e := n.add(name, t); e != 0 {
		return e
	}
	t.nlink++
	t.ctime = n.fs.clock()
	return 0
}

// drop removes one name of c (which has just left a directory).
func (c *node) drop() {
	c.ctime = c.fs.clock()
	if c.isDir() {
		c.nlink = 0
		c.parent.nlink--
	} else {
		c.nlink--
	}
	if c.nlink == 0 {
		c.fs.inodes--
		c.maybeFree()
	}
}

// maybeFree releases a removed file's pages once nothing has it open.
func (c *node) maybeFree() {
	if c.nlink == 0 && c.opens == 0 && c.pages != nil {
		c.fs.used -= int64(len(c.pages)) * PageSize
		c.pages = map[int64]*page{}
	}
}

// Remove implements backend.Node.Remove.
func (n *node) Remove(name string) syscall.Errno {
	if !n.isDir() {
		return syscall.ENOTDIR
	}
	c, ok := n.children[name]
	if !ok {
		return syscall.ENOENT
	}
	if c.isDir() && len(c.children) > 0 {
		return syscall.ENOTEMPTY
	}
	delete(n.children, name)
	n.touch()
	c.drop()
	return 0
}

// Rename implements backend.Node.Rename.
func (n *node) Rename(oldName string, newDir backend.Node, newName string) syscall.Errno {
	nd, ok := newDir.(*node)
	if !ok || nd.fs != n.fs {
		return syscall.EXDEV
	}
	if !n.isDir() || !nd.isDir() {
		return syscall.ENOTDIR
	}
	c, ok := n.children[oldName]
	if !ok {
		return syscall.ENOENT
	}
	if nd.nlink == 0 {
		return syscall.ENOENT
	}
	if old, ok := nd.children[newName]; ok {
		if old == c {
			return 0
		}
		if old.isDir() != c.isDir() {
			if c.isDir() {
				return syscall.ENOTDIR
			}
			return syscall.EISDIR
		}
		if old.isDir() && len(old.children) > 0 {
			return syscall.ENOTEMPTY
		}
		delete(nd.children, newName)
		old.drop()
	}
	delete(n.children, oldName)
	nd.children[newName] = c
	if c.isDir() && nd != n {
		n.nlink--
		nd.nlink++
		c.parent = nd
	}
	n.touch()
	nd.touch()
	c.ctime = n.fs.clock()
	return 0
}

// Readlink implements backend.Node.Readlink.
func (n *node) Readlink() (string, syscall.Errno) {
	if n.mode&backend.TypeMask != backend.TypeLink {
		return "", syscall.EINVAL
	}
	return n.target, 0
}

// Truncate implements backend.Node.Truncate; growing allocates nothing.
func (n *node) Truncate(size int64) syscall.Errno {
	if n.isDir() {
		return syscall.EISDIR
	}
	if n.mode&backend.TypeMask != backend.TypeReg {
		return syscall.EINVAL
	}
	if size < 0 {
		return syscall.EINVAL
	}
	if size < n.size {
		keep := (size + PageSize - 1) / PageSize
		for i := range n.pages {
			if i >= keep {
				delete(n.pages, i)
				n.fs.used -= PageSize
			}
		}
		if r := size % PageSize; r != 0 {
			if p := n.pages[size/PageSize]; p != nil {
				clear(p[r:])
			}
		}
	}
	n.size = size
	n.touch()
	return 0
}

// SetAttr implements backend.Node.SetAttr.
func (n *node) SetAttr(a backend.SetAttr) syscall.Errno {
	if a.Mode != nil {
		n.mode = n.mode&backend.TypeMask | *a.Mode&backend.PermMask
	}
	if a.Uid != nil {
		n.uid = *a.Uid
	}
	if a.Gid != nil {
		n.gid = *a.Gid
	}
	if (a.Uid != nil || a.Gid != nil) && !n.isDir() {
		// As on Linux, chown of a non-directory clears set-user-ID, and
		// set-group-ID when the group may execute.
		n.mode &^= 0o4000
		if n.mode&0o010 != 0 {
			n.mode &^= 0o2000
		}
	}
	if a.Atime != nil {
		n.atime = *a.Atime
	}
	if a.Mtime != nil {
		n.mtime = *a.Mtime
	}
	n.ctime = n.fs.clock()
	return 0
}

// Sync implements backend.Node.Sync.
func (n *node) Sync() syscall.Errno { return 0 }

// Open implements backend.Node.Open.
func (n *node) Open(flags int) (backend.File, syscall.Errno) {
	n.opens++
	return &file{n: n}, 0
}

// file is an open tmpfs file.
type file struct{ n *node }

// Release implements backend.File.Release.
func (f *file) Release() {
	if f.n == nil {
		return
	}
	f.n.opens--
	f.n.maybeFree()
	f.n = nil
}

// regular returns the file's node, checking that it is an open regular
// file and off is not negative.
func (f *file) regular(off int64) (*node, syscall.Errno) {
	n := f.n
	switch {
	case n == nil:
		return nil, syscall.EBADF
	case n.isDir():
		return nil, syscall.EISDIR
	case n.mode&backend.TypeMask != backend.TypeReg, off < 0:
		return nil, syscall.EINVAL
	}
	return n, 0
}

// ReadAt implements backend.File.ReadAt.
func (f *file) ReadAt(p []byte, off int64) (int, syscall.Errno) {
	n, e := f.regular(off)
	if e != 0 {
		return 0, e
	}
	if off >= n.size {
		return 0, 0
	}
	if rem := n.size - off; int64(len(p)) > rem {
		p = p[:rem]
	}
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		in := int(pos % PageSize)
		chunk := p[done:min(len(p), done+PageSize-in)]
		if pg := n.pages[pos/PageSize]; pg != nil {
			copy(chunk, pg[in:])
		} else {
			clear(chunk)
		}
		done += len(chunk)
	}
	return done, 0
}

// Allocate implements backend.Allocator: it allocates the missing pages of
// [off, off+length), all or none.
func (f *file) Allocate(off, length int64) syscall.Errno {
	n, e := f.regular(off)
	if e != 0 {
		return e
	}
	if length <= 0 || length > math.MaxInt64-off {
		return syscall.EINVAL
	}
	first, last := off/PageSize, (off+length-1)/PageSize
	missing := int64(0)
	for i := first; i <= last; i++ {
		if n.pages[i] == nil {
			missing++
		}
		if fs := n.fs; fs.limit > 0 && fs.used+missing*PageSize > fs.limit {
			return syscall.ENOSPC
		}
	}
	for i := first; i <= last; i++ {
		if n.pages[i] == nil {
			n.pages[i] = new(page)
			n.fs.used += PageSize
		}
	}
	return 0
}

// WriteAt implements backend.File.WriteAt: it stops early (short count, no
// error) when the size limit leaves no room for another page, and answers
// ENOSPC when not one byte fits.
func (f *file) WriteAt(p []byte, off int64) (int, syscall.Errno) {
	n, e := f.regular(off)
	if e != 0 {
		return 0, e
	}
	if int64(len(p)) > math.MaxInt64-off {
		return 0, syscall.EFBIG
	}
	fs := n.fs
	done := 0
	for done < len(p) {
		pos := off + int64(done)
		idx := pos / PageSize
		pg := n.pages[idx]
		if pg == nil {
			if fs.limit > 0 && fs.used+PageSize > fs.limit {
				break
			}
			pg = new(page)
			n.pages[idx] = pg
			fs.used += PageSize
		}
		in := int(pos % PageSize)
		done += copy(pg[in:], p[done:])
	}
	if done == 0 && len(p) > 0 {
		return 0, syscall.ENOSPC
	}
	if end := off + int64(done); end > n.size {
		n.size = end
	}
	if done > 0 {
		n.touch()
	}
	return done, 0
}
