package ext2

import (
	"os"
	"testing"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// FuzzMount mounts corrupted images (the seed is a small mkfs.ext2 image in
// testdata) and walks what mounts: nothing may panic or hang.
func FuzzMount(f *testing.F) {
	img, err := os.ReadFile("testdata/small.ext2")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(img)
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys, err := Mount(memDev(data))
		if err != nil {
			return
		}
		budget := 200
		walk(fsys.Root(), 0, &budget)
	})
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
}
