package ext2

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// BenchmarkSeqRead reads an 8 MiB file sequentially through the backend in
// 64 KiB calls, from images with 1 KiB and 4 KiB blocks on a host file,
// and the same reads from a plain host file as the baseline.
func BenchmarkSeqRead(b *testing.B) {
	const size = 8 << 20
	b.Run("host-file", func(b *testing.B) {
		// Baseline: the same reads straight from a host file.
		p := filepath.Join(b.TempDir(), "big")
		if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
			b.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		buf := make([]byte, 64<<10)
		b.SetBytes(size)
		b.ResetTimer()
		for range b.N {
			for off := int64(0); off < size; off += int64(len(buf)) {
				if _, err := f.ReadAt(buf, off); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	for _, bs := range []int{1024, 4096} {
		b.Run(fmt.Sprintf("bs=%d", bs), func(b *testing.B) {
			src := b.TempDir()
			data := make([]byte, size)
			for i := range data {
				data[i] = byte(i * 7)
			}
			if err := os.WriteFile(filepath.Join(src, "big"), data, 0o644); err != nil {
				b.Fatal(err)
			}
			img := mkfs(b, src, bs)
			f, err := os.Open(img)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			fsys, err := Mount(FileDevice{f})
			if err != nil {
				b.Fatal(err)
			}
			n, e := fsys.Root().Lookup("big")
			if e != 0 {
				b.Fatal(e)
			}
			h, e := n.Open(0)
			if e != 0 {
				b.Fatal(e)
			}
			defer h.Release()
			buf := make([]byte, 64<<10)
			b.SetBytes(size)
			b.ResetTimer()
			for range b.N {
				readAll(b, h, buf)
			}
		})
	}
}

func readAll(b *testing.B, h backend.File, buf []byte) {
	for off := int64(0); ; {
		m, e := h.ReadAt(buf, off)
		if e != 0 {
			b.Fatal(e)
		}
		if m == 0 {
			return
		}
		off += int64(m)
	}
}
