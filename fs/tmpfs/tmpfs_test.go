package tmpfs

import (
	"bytes"
	"syscall"
	"testing"

	"github.com/xairrosx/xairrosx/fs/backend"
)

func TestSparsePagesAndTruncate(t *testing.T) {
	fs := New(Options{})
	root := fs.Root()
	n, e := root.Create("f", 0o644)
	if e != 0 {
		t.Fatal(e)
	}
	fl, _ := n.Open(syscall.O_RDWR)
	defer fl.Release()
	// One byte at 1 TiB: one page allocated, size 1 TiB + 1.
	if w, e := fl.WriteAt([]byte{7}, 1<<40); w != 1 || e != 0 {
		t.Fatal(w, e)
	}
	if a := n.Attr(); a.Size != 1<<40+1 || a.Blocks != PageSize/512 || fs.Used() != PageSize {
		t.Fatalf("sparse attr %+v used %d", a, fs.Used())
	}
	buf := bytes.Repeat([]byte{0xff}, 10)
	if r, e := fl.ReadAt(buf, 1<<40-5); r != 6 || e != 0 || !bytes.Equal(buf[:6], []byte{0, 0, 0, 0, 0, 7}) {
		t.Fatalf("read across hole: %d %v %v", r, e, buf)
	}
	// Shrinking inside a page zeroes the cut-off tail, so growing again
	// reads zeros, not the old bytes.
	if e := n.Truncate(0); e != 0 || fs.Used() != 0 {
		t.Fatalf("truncate 0: %v used %d", e, fs.Used())
	}
	fl.WriteAt([]byte("abcdefgh"), 0)
	n.Truncate(3)
	n.Truncate(8)
	got := make([]byte, 8)
	fl.ReadAt(got, 0)
	if string(got) != "abc\x00\x00\x00\x00\x00" {
		t.Fatalf("after shrink and grow: %q", got)
	}
	if e := n.Truncate(-1); e != syscall.EINVAL {
		t.Fatalf("negative truncate: %v", e)
	}
	if _, e := fl.WriteAt([]byte{1}, -1); e != syscall.EINVAL {
		t.Fatalf("negative offset: %v", e)
	}
	if _, e := fl.WriteAt([]byte{1, 2}, 1<<63-1); e != syscall.EFBIG {
		t.Fatalf("write past max size: %v", e)
	}
}

func TestDirectoryLinksAndRename(t *testing.T) {
	fs := New(Options{})
	root := fs.Root()
	a, _ := root.Mkdir("a", 0o755)
	b, _ := root.Mkdir("b", 0o755)
	c, _ := a.Mkdir("c", 0o755)
	if root.Attr().Nlink != 4 || a.Attr().Nlink != 3 {
		t.Fatalf("nlink root %d a %d", root.Attr().Nlink, a.Attr().Nlink)
	}
	if e := a.Rename("c", b, "c2"); e != 0 {
		t.Fatal(e)
	}
	if a.Attr().Nlink != 2 || b.Attr().Nlink != 3 {
		t.Fatalf("after move: a %d b %d", a.Attr().Nlink, b.Attr().Nlink)
	}
	if p, _ := c.Lookup(".."); p.Attr().Ino != b.Attr().Ino {
		t.Fatal(".. not updated by rename")
	}
	if e := root.Remove("b"); e != syscall.ENOTEMPTY {
		t.Fatalf("remove non-empty: %v", e)
	}
	f, _ := root.Create("f", 0o600)
	if e := root.Link("g", f); e != 0 || f.Attr().Nlink != 2 {
		t.Fatalf("link: %v %d", e, f.Attr().Nlink)
	}
	if e := root.Link("h", a); e != syscall.EPERM {
		t.Fatalf("link dir: %v", e)
	}
	other := New(Options{})
	if e := root.Rename("f", other.Root(), "f"); e != syscall.EXDEV {
		t.Fatalf("rename to another tmpfs: %v", e)
	}
	ents, _ := root.ReadDir()
	var names []string
	for _, d := range ents {
		names = append(names, d.Name)
	}
	if got := len(names); got != 4 || names[0] != "a" || names[3] != "g" {
		t.Fatalf("listing %v", names)
	}
	if ents[0].Type != backend.TypeDir || ents[2].Type != backend.TypeReg {
		t.Fatalf("types %+v", ents)
	}
	// A removed directory refuses new entries.
	c.Mkdir("x", 0o755)
	c.Remove("x")
	b.Remove("c2")
	if _, e := c.Create("y", 0o644); e != syscall.ENOENT {
		t.Fatalf("create in removed dir: %v", e)
	}
}

func TestAllocateAllOrNothing(t *testing.T) {
	fs := New(Options{SizeLimit: 4 * PageSize})
	n, _ := fs.Root().Create("f", 0o644)
	fl, _ := n.Open(syscall.O_RDWR)
	defer fl.Release()
	a := fl.(backend.Allocator)
	if e := a.Allocate(0, 2*PageSize); e != 0 || fs.Used() != 2*PageSize {
		t.Fatalf("allocate 2 pages: %v used %d", e, fs.Used())
	}
	if e := a.Allocate(PageSize, 4*PageSize); e != syscall.ENOSPC || fs.Used() != 2*PageSize {
		t.Fatalf("over the limit: %v used %d", e, fs.Used())
	}
	if e := a.Allocate(0, 0); e != syscall.EINVAL {
		t.Fatalf("zero length: %v", e)
	}
	if n.Attr().Size != 0 {
		t.Fatal("allocate changed the size")
	}
}
