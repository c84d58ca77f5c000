package ext2

import (
	"bytes"
	"syscall"
	"testing"
)

// TestPrealloc checks the blocks an append preallocates: held (i_blocks,
// free count) while the file is open, zeros when the file grows over
// them, freed at the last close, given up when another file needs the
// space, and trimmed by Unmount for a file still open (e2fsck clean).
func TestPrealloc(t *testing.T) {
	const bs = 4096
	img := newImage(t, bs, "4M")
	m := openRW(t, img, nil)
	free := func() uint64 {
		var st syscall.Statfs_t
		m.e.Statfs(&st)
		return st.Bfree
	}
	free0 := free()
	n, h := createOpen(t, m.e, "log")
	if _, e := h.WriteAt(bytes.Repeat([]byte{1}, 100), 0); e != 0 {
		t.Fatal(e)
	}
	// Up to the last direct block: the next would need an indirect one.
	const pre = min(preallocBlocks, 12)
	if got := n.Attr().Blocks; got != pre*bs/512 {
		t.Errorf("open after one append: %d sectors allocated, want %d", got, pre*bs/512)
	}
	if got := free0 - free(); got != pre {
		t.Errorf("open after one append: %d blocks taken, want %d", got, pre)
	}
	// Growing over preallocated blocks shows zeros, also after a sync
	// (which wrote them) and a write further on.
	m.ok("sync", n.Sync())
	if _, e := h.WriteAt([]byte{2}, 5*bs+7); e != 0 {
		t.Fatal(e)
	}
	m.ok("sync", n.Sync())
	got := make([]byte, 5*bs+8)
	if k, e := h.ReadAt(got, 0); e != 0 || k != len(got) {
		t.Fatalf("read: %d, %v", k, e)
	}
	want := make([]byte, len(got))
	copy(want, bytes.Repeat([]byte{1}, 100))
	want[5*bs+7] = 2
	if !bytes.Equal(got, want) {
		t.Fatal("preallocated blocks do not read as zeros")
	}
	h.Release()
	if got := n.Attr().Blocks; got != 6*bs/512 {
		t.Errorf("closed: %d sectors allocated, want %d", got, 6*bs/512)
	}
	m.ok("sync", n.Sync())
	if got := free0 - free(); got != 6 {
		t.Errorf("closed: %d blocks taken, want 6", got)
	}

	// A file held open with its preallocation; another file must still
	// get every other free block.
	n2, h2 := createOpen(t, m.e, "held")
	if _, e := h2.WriteAt([]byte{3}, 0); e != 0 {
		t.Fatal(e)
	}
	if n2.Attr().Blocks <= bs/512 {
		t.Fatal("no preallocation for the held file")
	}
	// Every free block, and those preallocated past the held file's
	// one, less the indirect block of the filling file.
	rest := int(free()) + pre - 1 - 1
	_, h3 := createOpen(t, m.e, "fill")
	buf := make([]byte, bs)
	written := 0
	for {
		k, e := h3.WriteAt(buf, int64(written))
		written += k
		if e == syscall.ENOSPC || k < len(buf) {
			break
		}
		if e != 0 {
			t.Fatal(e)
		}
	}
	if blocks := written / bs; blocks != rest {
		t.Errorf("filled %d blocks with another file's preallocation held, want %d", blocks, rest)
	}
	h3.Release()
	// Unmount with "held" still open: its preallocation is trimmed.
	m.unmount()
	h2.Release()
}
