package vfs_test

import (
	"fmt"
	"syscall"
	"testing"
)

// Benchmarks run each operation on the XairrosX FS ("vfs") and on the
// host kernel in a temporary directory ("host"), side by side, so
// scripts/bench-fs.sh can print their ratio.

func benchTargets(b *testing.B) []struct {
	name string
	tg   target
} {
	v, h := newTargets(b)
	return []struct {
		name string
		tg   target
	}{{"vfs", v}, {"host", h}}
}

func BenchmarkWrite(b *testing.B) {
	for _, size := range []int{4 << 10, 64 << 10, 1 << 20} {
		for _, t := range benchTargets(b) {
			b.Run(fmt.Sprintf("%dK/%s", size>>10, t.name), func(b *testing.B) {
				fd, e := t.tg.openat(t.tg.base(), "w", syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC, 0o644)
				if e != 0 {
					b.Fatal(e)
				}
				defer t.tg.close(fd)
				p := make([]byte, size)
				b.SetBytes(int64(size))
				for i := 0; b.Loop(); i++ {
					// Rewrite a 16 MiB window so memory stays bounded.
					off := int64(i%(16<<20/size)) * int64(size)
					if n, e := t.tg.pwrite(fd, p, off); n != size || e != 0 {
						b.Fatal(n, e)
					}
				}
			})
		}
	}
}

func BenchmarkRead(b *testing.B) {
	const fileSize = 16 << 20
	for _, size := range []int{4 << 10, 64 << 10, 1 << 20} {
		for _, t := range benchTargets(b) {
			b.Run(fmt.Sprintf("%dK/%s", size>>10, t.name), func(b *testing.B) {
				fd, e := t.tg.openat(t.tg.base(), "r", syscall.O_RDWR|syscall.O_CREAT|syscall.O_TRUNC, 0o644)
				if e != 0 {
					b.Fatal(e)
				}
				defer t.tg.close(fd)
				chunk := make([]byte, 1<<20)
				for off := int64(0); off < fileSize; off += int64(len(chunk)) {
					t.tg.pwrite(fd, chunk, off)
				}
				p := make([]byte, size)
				b.SetBytes(int64(size))
				for i := 0; b.Loop(); i++ {
					off := int64(i%(fileSize/size)) * int64(size)
					if n, e := t.tg.pread(fd, p, off); n != size || e != 0 {
						b.Fatal(n, e)
					}
				}
			})
		}
	}
}

// mkTree makes a/b/c/d/file below the target's base.
func mkTree(b *testing.B, tg target) {
	path := ""
	for _, c := range []string{"a", "b", "c", "d"} {
		path += c
		if e := tg.mkdirat(tg.base(), path, 0o755); e != 0 {
			b.Fatal(e)
		}
		path += "/"
	}
	fd, e := tg.openat(tg.base(), path+"file", syscall.O_WRONLY|syscall.O_CREAT, 0o644)
	if e != 0 {
		b.Fatal(e)
	}
	tg.close(fd)
}

func BenchmarkOpenClose(b *testing.B) {
	for _, t := range benchTargets(b) {
		mkTree(b, t.tg)
		b.Run(t.name, func(b *testing.B) {
			for b.Loop() {
				fd, e := t.tg.openat(t.tg.base(), "a/b/c/d/file", syscall.O_RDONLY, 0)
				if e != 0 {
					b.Fatal(e)
				}
				t.tg.close(fd)
			}
			if h, ok := t.tg.(*hostTarget); ok {
				h.fds = nil // all closed already
			}
		})
	}
}

func BenchmarkStat(b *testing.B) {
	for _, t := range benchTargets(b) {
		mkTree(b, t.tg)
		b.Run(t.name, func(b *testing.B) {
			var st syscall.Stat_t
			for b.Loop() {
				if e := t.tg.fstatat(t.tg.base(), "a/b/c/d/file", &st, 0); e != 0 {
					b.Fatal(e)
				}
			}
		})
	}
}

func BenchmarkCreateUnlink(b *testing.B) {
	for _, t := range benchTargets(b) {
		b.Run(t.name, func(b *testing.B) {
			for b.Loop() {
				fd, e := t.tg.openat(t.tg.base(), "tmpfile", syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL, 0o644)
				if e != 0 {
					b.Fatal(e)
				}
				t.tg.close(fd)
				if e := t.tg.unlinkat(t.tg.base(), "tmpfile", 0); e != 0 {
					b.Fatal(e)
				}
			}
			if h, ok := t.tg.(*hostTarget); ok {
				h.fds = nil
			}
		})
	}
}

// BenchmarkReadDir lists a directory of 1000 files (getdents64, 8 KiB
// buffers like os.ReadDir).
func BenchmarkReadDir(b *testing.B) {
	for _, t := range benchTargets(b) {
		if e := t.tg.mkdirat(t.tg.base(), "many", 0o755); e != 0 {
			b.Fatal(e)
		}
		for i := range 1000 {
			fd, e := t.tg.openat(t.tg.base(), fmt.Sprintf("many/f%04d", i), syscall.O_WRONLY|syscall.O_CREAT, 0o644)
			if e != 0 {
				b.Fatal(e)
			}
			t.tg.close(fd)
		}
		if h, ok := t.tg.(*hostTarget); ok {
			h.fds = nil
		}
		b.Run(t.name, func(b *testing.B) {
			for b.Loop() {
				fd, e := t.tg.openat(t.tg.base(), "many", syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
				if e != 0 {
					b.Fatal(e)
				}
				names, e, _ := listDir(t.tg, fd, 8192)
				t.tg.close(fd)
				if len(names) != 1002 {
					b.Fatal(len(names), e)
				}
			}
			if h, ok := t.tg.(*hostTarget); ok {
				h.fds = nil
			}
		})
	}
}
