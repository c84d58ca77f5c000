package ext2

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
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

// countDev counts the device requests of a benchmark.
type countDev struct {
	FileDevice
	writes, flushes atomic.Int64
}

func (d *countDev) WriteAt(p []byte, off int64) (int, error) {
	d.writes.Add(1)
	return d.FileDevice.WriteAt(p, off)
}

func (d *countDev) Flush() error {
	d.flushes.Add(1)
	return d.FileDevice.Flush()
}

// report adds the device writes and flushes per operation to b's results
// (from the counts at the start of the timed loop, w0 and f0).
func (d *countDev) report(b *testing.B, w0, f0 int64) {
	b.ReportMetric(float64(d.writes.Load()-w0)/float64(b.N), "writes/op")
	b.ReportMetric(float64(d.flushes.Load()-f0)/float64(b.N), "flushes/op")
}

// benchFS mounts a fresh 64 MiB image (block size bs) read-write from a
// host file, through a device that counts requests.
func benchFS(b *testing.B, bs int) (*FS, *countDev) {
	img := newImage(b, bs, "64M")
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	dev := &countDev{FileDevice: FileDevice{f}}
	fsys, err := Open(dev, Options{ReadWrite: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { fsys.Unmount() })
	return fsys, dev
}

// BenchmarkFsync appends 4 KiB records to a file, each followed by
// fsync (a checkpoint: data, then the inode, each phase ending in a
// device flush), on ext2 images on a host file and, as the baseline, to
// a plain host file with write + fsync.
func BenchmarkFsync(b *testing.B) {
	rec := make([]byte, 4096)
	b.Run("host-file", func(b *testing.B) {
		f, err := os.Create(filepath.Join(b.TempDir(), "log"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		b.SetBytes(int64(len(rec)))
		for range b.N {
			if _, err := f.Write(rec); err != nil {
				b.Fatal(err)
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, bs := range []int{1024, 4096} {
		b.Run(fmt.Sprintf("bs=%d", bs), func(b *testing.B) {
			fsys, dev := benchFS(b, bs)
			n, h := createOpen(b, fsys, "log")
			defer h.Release()
			b.SetBytes(int64(len(rec)))
			b.ResetTimer()
			w0, f0 := dev.writes.Load(), dev.flushes.Load()
			defer func() { dev.report(b, w0, f0) }()
			appendSync(b, n, h, rec)
		})
	}
}

// BenchmarkSeqWrite writes an 8 MiB file in 64 KiB calls and syncs it,
// on ext2 images on a host file and, as the baseline, to a plain host
// file with write + fsync.
func BenchmarkSeqWrite(b *testing.B) {
	const size = 8 << 20
	buf := make([]byte, 64<<10)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	b.Run("host-file", func(b *testing.B) {
		dir := b.TempDir()
		b.SetBytes(size)
		for i := range b.N {
			p := filepath.Join(dir, fmt.Sprint("f", i%2))
			f, err := os.Create(p)
			if err != nil {
				b.Fatal(err)
			}
			for off := int64(0); off < size; off += int64(len(buf)) {
				if _, err := f.WriteAt(buf, off); err != nil {
					b.Fatal(err)
				}
			}
			if err := f.Sync(); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	for _, bs := range []int{1024, 4096} {
		b.Run(fmt.Sprintf("bs=%d", bs), func(b *testing.B) {
			fsys, dev := benchFS(b, bs)
			root := fsys.Root()
			b.SetBytes(size)
			b.ResetTimer()
			w0, f0 := dev.writes.Load(), dev.flushes.Load()
			defer func() { dev.report(b, w0, f0) }()
			for i := range b.N {
				name := fmt.Sprint("f", i%2)
				root.Remove(name)
				n, e := root.Create(name, 0o644)
				if e != 0 {
					b.Fatal(e)
				}
				h, e := n.Open(os.O_WRONLY)
				if e != 0 {
					b.Fatal(e)
				}
				for off := int64(0); off < size; off += int64(len(buf)) {
					if m, e := h.WriteAt(buf, off); e != 0 || m != len(buf) {
						b.Fatal(m, e)
					}
				}
				if e := n.Sync(); e != 0 {
					b.Fatal(e)
				}
				h.Release()
			}
		})
	}
}

// BenchmarkFsyncMem is BenchmarkFsync at 4 KiB blocks on an in-memory
// device: the file system's own CPU time and allocations per append +
// fsync, which the device time hides on a host file (and which a TCG
// guest multiplies).
func BenchmarkFsyncMem(b *testing.B) {
	raw, err := os.ReadFile(newImage(b, 4096, "64M"))
	if err != nil {
		b.Fatal(err)
	}
	fsys, err := Open(memDev(raw), Options{ReadWrite: true})
	if err != nil {
		b.Fatal(err)
	}
	n, h := createOpen(b, fsys, "log")
	defer h.Release()
	rec := make([]byte, 4096)
	b.ReportAllocs()
	b.SetBytes(int64(len(rec)))
	b.ResetTimer()
	appendSync(b, n, h, rec)
}

// appendSync appends rec to the file n (open as h) and fsyncs it, b.N
// times; the file is truncated after 48 MiB, to stay inside the image.
func appendSync(b *testing.B, n backend.Node, h backend.File, rec []byte) {
	off := int64(0)
	for range b.N {
		if m, e := h.WriteAt(rec, off); e != 0 || m != len(rec) {
			b.Fatal(m, e)
		}
		off += int64(len(rec))
		if e := n.Sync(); e != 0 {
			b.Fatal(e)
		}
		if off >= 48<<20 {
			n.Truncate(0)
			off = 0
		}
	}
}
