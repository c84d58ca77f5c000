package vfs

import (
	"syscall"
	"testing"

	"github.com/xairrosx/xairrosx/fs/backend"
	"github.com/xairrosx/xairrosx/fs/tmpfs"
)

// brokenFS wraps a tmpfs but lies like a corrupt on-disk file system
// could: every directory's ".." is the directory "/x/y", so climbing
// never reaches the root, and the name "nil" looks up to a nil node.
type brokenFS struct {
	*tmpfs.FS
	y backend.Node
}

type brokenNode struct {
	backend.Node
	fs *brokenFS
}

func (b *brokenFS) Root() backend.Node { return brokenNode{b.FS.Root(), b} }

func (n brokenNode) Lookup(name string) (backend.Node, syscall.Errno) {
	switch name {
	case "..":
		if n.fs.y != nil && n.Attr().Ino != n.fs.FS.Root().Attr().Ino {
			return brokenNode{n.fs.y, n.fs}, 0
		}
	case "nil":
		return nil, 0
	}
	c, e := n.Node.Lookup(name)
	if e != 0 {
		return nil, e
	}
	return brokenNode{c, n.fs}, 0
}

// Rename unwraps the new directory for the tmpfs underneath.
func (n brokenNode) Rename(old string, dir backend.Node, name string) syscall.Errno {
	return n.Node.Rename(old, dir.(brokenNode).Node, name)
}

func TestBrokenBackendNoHang(t *testing.T) {
	b := &brokenFS{FS: tmpfs.New(tmpfs.Options{})}
	x, _ := b.FS.Root().Mkdir("x", 0o755)
	b.y, _ = x.Mkdir("y", 0o755)
	b.y.Mkdir("z", 0o755)
	f := New()
	if err := f.Mount("/b", b); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if e := f.Fstatat(AtFDCWD, "/b/nil", &st, 0); e != syscall.EIO {
		t.Errorf("nil node from Lookup: %v, want EIO", e)
	}
	// Moving /b/x below /b/x/y/z must climb from z; ".." never reaches
	// the root, so the climb must stop on its own.
	if e := f.Renameat(AtFDCWD, "/b/x", AtFDCWD, "/b/x/y/z/w"); e != syscall.EIO {
		t.Errorf("rename climbing a cycle: %v, want EIO", e)
	}
	must(t, f.Chdir("/b/x/y/z"))
	if wd, e := f.Getcwd(); e == 0 {
		t.Errorf("getcwd named %q through a cycle", wd)
	}
	if e := f.Fstatat(AtFDCWD, "../../../../..", &st, 0); e != 0 {
		t.Errorf("climbing a cycle: %v", e)
	}
}
