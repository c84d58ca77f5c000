package ext2

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// FuzzMount mounts corrupted images (the seed is a small mkfs.ext2 image in
// testdata) read-only and walks what mounts, then mounts them read-write
// (recovery runs when the image says it was not cleanly unmounted) and
// changes them: nothing may panic or hang.
func FuzzMount(f *testing.F) {
	img, err := os.ReadFile("testdata/small.ext2")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(img)
	unclean := append([]byte(nil), img...)
	unclean[superOff+58] = 0 // not cleanly unmounted: recovery runs
	f.Add(unclean)
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys, err := Mount(memDev(data))
		if err != nil {
			return
		}
		budget := 200
		walk(fsys.Root(), 0, &budget)
		rw, err := Open(append(memDev(nil), data...), Options{ReadWrite: true, CacheBytes: 16 << 10})
		if err != nil {
			return
		}
		change(rw)
		budget = 100
		walk(rw.Root(), 0, &budget)
		rw.Unmount()
	})
}

// change makes every kind of change to a mounted file system, ignoring
// the errors (a corrupt image answers many with EIO).
func change(f *FS) {
	root := f.Root()
	ents, _ := root.ReadDir()
	if c, e := root.Create("new", 0o644); e == 0 {
		if h, e := c.Open(os.O_RDWR); e == 0 {
			buf := make([]byte, 3000)
			h.WriteAt(buf, 0)
			h.WriteAt(buf, 70000)
			h.Release()
		}
		c.Truncate(100)
		c.SetAttr(backend.SetAttr{})
	}
	if d, e := root.Mkdir("newdir", 0o755); e == 0 {
		d.Symlink("link", "new")
		root.Rename("new", d, "moved")
		d.Remove("moved")
	}
	for i, e := range ents {
		if i > 4 {
			break
		}
		switch i % 3 {
		case 0:
			root.Rename(e.Name, root, "renamed")
		case 1:
			if c, errno := root.Lookup(e.Name); errno == 0 {
				if h, errno := c.Open(os.O_RDWR); errno == 0 {
					h.WriteAt([]byte("overwrite"), 5)
					h.Release()
				}
				c.Truncate(1)
				root.Link("hard", c)
			}
		default:
			root.Remove(e.Name)
		}
	}
	f.Sync()
}

// walk visits a tree breadth-limited by budget and depth, reading files
// and links.
func walk(n backend.Node, depth int, budget *int) {
	if *budget <= 0 || depth > 8 {
		return
	}
	*budget--
	a := n.Attr()
	switch a.Mode & backend.TypeMask {
	case backend.TypeDir:
		ents, _ := n.ReadDir()
		for i, e := range ents {
			if *budget <= 0 || i > 50 {
				break
			}
			c, errno := n.Lookup(e.Name)
			if errno == 0 {
				walk(c, depth+1, budget)
			}
		}
		n.Lookup("..")
	case backend.TypeLink:
		n.Readlink()
	default:
		if h, errno := n.Open(0); errno == 0 {
			buf := make([]byte, 8192)
			h.ReadAt(buf, 0)
			h.ReadAt(buf, a.Size-10)
			h.Release()
		}
	}
}

// TestFuzzSeedMounts checks the fuzz seed is a valid image, so the fuzzer
// starts from a file system that mounts and walks.
func TestFuzzSeedMounts(t *testing.T) {
	img, err := os.ReadFile("testdata/small.ext2")
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := Mount(memDev(img))
	if err != nil {
		t.Fatal(err)
	}
	budget := 200
	walk(fsys.Root(), 0, &budget)
	if visited := 200 - budget; visited < 7 {
		t.Fatalf("walked %d nodes of the seed image, want at least 7", visited)
	}
	// The read-write half of the fuzz target changes the seed image
	// (and the same image marked not clean) into one e2fsck accepts.
	for _, state := range []byte{1, 0} {
		dev := append(memDev(nil), img...)
		dev[superOff+58] = state
		rw, err := Open(dev, Options{ReadWrite: true, CacheBytes: 16 << 10})
		if err != nil {
			t.Fatal(err)
		}
		change(rw)
		if err := rw.Unmount(); err != nil {
			t.Fatal(err)
		}
		if _, e := rw.Root().Lookup("newdir"); e != syscall.EIO {
			t.Fatalf("Lookup after Unmount: %v", e)
		}
		p := filepath.Join(t.TempDir(), "seed.img")
		if err := os.WriteFile(p, dev, 0o644); err != nil {
			t.Fatal(err)
		}
		fsck(t, p)
		if out := debugfs(t, p, "ls -l /newdir"); !strings.Contains(out, "link") {
			t.Fatalf("ls -l /newdir after the changes:\n%s", out)
		}
	}
}
