// Package rotree is a read-only in-memory tree of directories, files and
// symbolic links implementing fs/backend: the shared core of fs/initfs
// (files with fixed contents) and fs/procfs (files whose contents a
// function generates at open). The tree is built with Add* calls, which may
// run while it is mounted: a mutex guards it.
package rotree

import (
	"fmt"
	"path"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// Tree is a read-only file system tree.
type Tree struct {
	mu      sync.Mutex
	root    *Node
	nextIno uint64
	typ     string
	magic   int64
	bytes   int64 // total size of fixed file contents
	inodes  int64
}

// Node is a directory, file or symbolic link of a Tree.
type Node struct {
	backend.ReadOnlyNode
	t     *Tree
	ino   uint64
	mode  uint32
	nlink uint32
	mtime time.Time

	parent   *Node
	children map[string]*Node

	data []byte        // fixed file contents
	gen  func() []byte // generated file contents (when not nil)

	target    string        // fixed link target
	genTarget func() string // generated link target (when not nil)
}

// New returns a tree with an empty root directory (mode 0555) that reports
// file system type typ and statfs magic number magic.
func New(typ string, magic int64, mtime time.Time) *Tree {
	t := &Tree{typ: typ, magic: magic, nextIno: 1}
	t.root = t.newNode(backend.TypeDir|0o555, mtime)
	t.root.parent = t.root
	return t
}

func (t *Tree) newNode(mode uint32, mtime time.Time) *Node {
	n := &Node{t: t, ino: t.nextIno, mode: mode, nlink: 1, mtime: mtime}
	t.nextIno++
	t.inodes++
	if mode&backend.TypeMask == backend.TypeDir {
		n.nlink = 2
		n.children = map[string]*Node{}
	}
	return n
}

// split cleans a slash-separated path relative to the tree root and
// returns its components; ".." and overlong names are errors.
func split(p string) ([]string, error) {
	c := path.Clean("/" + p)
	if c == "/" {
		return nil, nil
	}
	parts := strings.Split(c[1:], "/")
	for _, s := range parts {
		if s == ".." {
			return nil, fmt.Errorf("path %q leaves the root", p)
		}
		if len(s) > 255 {
			return nil, fmt.Errorf("path %q: name longer than 255 bytes", p)
		}
	}
	for _, s := range strings.Split(p, "/") {
		if s == ".." {
			return nil, fmt.Errorf("path %q contains ..", p)
		}
	}
	return parts, nil
}

// dir returns the directory at parts, creating missing ones with mode 0555.
func (t *Tree) dir(parts []string, p string, mtime time.Time) (*Node, error) {
	d := t.root
	for i, s := range parts {
		c := d.children[s]
		if c == nil {
			c = t.newNode(backend.TypeDir|0o555, mtime)
			c.parent = d
			d.children[s] = c
			d.nlink++
		}
		if c.mode&backend.TypeMask != backend.TypeDir {
			return nil, fmt.Errorf("path %q: %q is not a directory", p, strings.Join(parts[:i+1], "/"))
		}
		d = c
	}
	return d, nil
}

// put places n at p, replacing a non-directory already there.
func (t *Tree) put(p string, n *Node) error {
	parts, err := split(p)
	if err != nil {
		return err
	}
	if len(parts) == 0 {
		return fmt.Errorf("path %q names the root", p)
	}
	d, err := t.dir(parts[:len(parts)-1], p, n.mtime)
	if err != nil {
		return err
	}
	name := parts[len(parts)-1]
	if old := d.children[name]; old != nil {
		if old.mode&backend.TypeMask == backend.TypeDir {
			return fmt.Errorf("path %q: a directory is already there", p)
		}
		t.unref(old)
	}
	n.parent = d
	d.children[name] = n
	return nil
}

func (t *Tree) unref(n *Node) {
	n.nlink--
	if n.nlink == 0 {
		t.inodes--
		t.bytes -= int64(len(n.data))
	}
}

// add places a new node of mode at p; set fills it in once placed.
func (t *Tree) add(p string, mode uint32, mtime time.Time, set func(*Node)) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := t.newNode(mode, mtime)
	if err := t.put(p, n); err != nil {
		t.inodes--
		return err
	}
	set(n)
	return nil
}

// Mkdir makes the directory p (and missing parents), or sets the mode and
// time of an existing one.
func (t *Tree) Mkdir(p string, perm uint32, mtime time.Time) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	parts, err := split(p)
	if err != nil {
		return err
	}
	d, err := t.dir(parts, p, mtime)
	if err != nil {
		return err
	}
	d.mode = backend.TypeDir | perm&backend.PermMask
	d.mtime = mtime
	return nil
}

// AddFile places a regular file at p with fixed contents data.
func (t *Tree) AddFile(p string, perm uint32, mtime time.Time, data []byte) error {
	return t.add(p, backend.TypeReg|perm&backend.PermMask, mtime, func(n *Node) {
		n.data = data
		t.bytes += int64(len(data))
	})
}

// AddGenerated places a regular file at p whose contents gen returns each
// time the file is opened; it reports size 0, like Linux's /proc.
func (t *Tree) AddGenerated(p string, perm uint32, mtime time.Time, gen func() []byte) error {
	if gen == nil {
		return fmt.Errorf("path %q: nil generator", p)
	}
	return t.add(p, backend.TypeReg|perm&backend.PermMask, mtime, func(n *Node) { n.gen = gen })
}

// AddSymlink places a symbolic link at p; when gen is not nil it gives the
// target each time the link is read, otherwise target is used.
func (t *Tree) AddSymlink(p, target string, gen func() string, mtime time.Time) error {
	if target == "" && gen == nil {
		return fmt.Errorf("path %q: empty symbolic link target", p)
	}
	return t.add(p, backend.TypeLink|0o777, mtime, func(n *Node) { n.target, n.genTarget = target, gen })
}

// AddHardLink makes p another name of the existing non-directory old.
func (t *Tree) AddHardLink(p, old string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	parts, err := split(old)
	if err != nil {
		return err
	}
	n := t.root
	for _, s := range parts {
		if n = n.children[s]; n == nil {
			return fmt.Errorf("hard link %q: target %q does not exist", p, old)
		}
	}
	if n.mode&backend.TypeMask == backend.TypeDir {
		return fmt.Errorf("hard link %q: target %q is a directory", p, old)
	}
	n.nlink++
	if err := t.put(p, n); err != nil {
		n.nlink--
		return err
	}
	return nil
}

// Root implements backend.FS.Root.
func (t *Tree) Root() backend.Node { return t.root }

// Type implements backend.FS.Type.
func (t *Tree) Type() string { return t.typ }

// ReadOnly implements backend.FS.ReadOnly.
func (t *Tree) ReadOnly() bool { return true }

// Statfs implements backend.FS.Statfs.
func (t *Tree) Statfs(st *syscall.Statfs_t) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st.Type = t.magic
	st.Bsize = 4096
	st.Frsize = 4096
	st.Namelen = 255
	st.Blocks = uint64((t.bytes + 4095) / 4096)
	st.Files = uint64(t.inodes)
}

// Attr implements backend.Node.Attr.
func (n *Node) Attr() backend.Attr {
	n.t.mu.Lock()
	defer n.t.mu.Unlock()
	a := backend.Attr{Ino: n.ino, Mode: n.mode, Nlink: n.nlink, Atime: n.mtime, Mtime: n.mtime, Ctime: n.mtime}
	switch n.mode & backend.TypeMask {
	case backend.TypeReg:
		a.Size = int64(len(n.data))
		a.Blocks = (a.Size + 511) / 512
	case backend.TypeDir:
		a.Size = 4096
	case backend.TypeLink:
		a.Size = int64(len(n.target))
	}
	return a
}

// Lookup implements backend.Node.Lookup.
func (n *Node) Lookup(name string) (backend.Node, syscall.Errno) {
	n.t.mu.Lock()
	defer n.t.mu.Unlock()
	if n.children == nil {
		return nil, syscall.ENOTDIR
	}
	if name == ".." {
		return n.parent, 0
	}
	c := n.children[name]
	if c == nil {
		return nil, syscall.ENOENT
	}
	return c, 0
}

// ReadDir implements backend.Node.ReadDir.
func (n *Node) ReadDir() ([]backend.DirEntry, syscall.Errno) {
	n.t.mu.Lock()
	defer n.t.mu.Unlock()
	if n.children == nil {
		return nil, syscall.ENOTDIR
	}
	return backend.ListDir(n.children, func(c *Node) (uint64, uint32) { return c.ino, c.mode }), 0
}

// MakeMountpoint implements backend.MountpointMaker: it makes an empty
// directory (mode 0755) called name, or returns the one already there.
func (n *Node) MakeMountpoint(name string) (backend.Node, syscall.Errno) {
	n.t.mu.Lock()
	defer n.t.mu.Unlock()
	if n.children == nil {
		return nil, syscall.ENOTDIR
	}
	if c := n.children[name]; c != nil {
		return c, 0
	}
	c := n.t.newNode(backend.TypeDir|0o755, n.mtime)
	c.parent = n
	n.children[name] = c
	n.nlink++
	return c, 0
}

// Readlink implements backend.Node.Readlink.
func (n *Node) Readlink() (string, syscall.Errno) {
	n.t.mu.Lock()
	gen, target, typ := n.genTarget, n.target, n.mode&backend.TypeMask
	n.t.mu.Unlock()
	if typ != backend.TypeLink {
		return "", syscall.EINVAL
	}
	if gen != nil {
		target = gen()
	}
	if target == "" {
		return "", syscall.ENOENT
	}
	return target, 0
}

// Open implements backend.Node.Open: generated files run their generator
// now, so one open file reads one consistent snapshot.
func (n *Node) Open(flags int) (backend.File, syscall.Errno) {
	n.t.mu.Lock()
	gen, data, typ := n.gen, n.data, n.mode&backend.TypeMask
	n.t.mu.Unlock()
	if typ != backend.TypeReg {
		return backend.BytesFile(nil), 0
	}
	if gen != nil {
		data = gen()
	}
	return backend.BytesFile(data), 0
}
