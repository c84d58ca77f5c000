package vfs

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"
	"testing/fstest"
)

// TestIOFS checks the FS through io/fs with testing/fstest: directory
// listings (in one and in several ReadDir calls), Stat, Read, ReadAt and
// Seek must agree with each other.
func TestIOFS(t *testing.T) {
	f := New()
	var want []string
	mk := func(p string) { must(t, f.Mkdirat(AtFDCWD, p, 0o755)) }
	put := func(p, body string) {
		h, e := f.Openat(AtFDCWD, p, syscall.O_CREAT|syscall.O_WRONLY|syscall.O_EXCL, 0o644)
		must(t, e)
		f.Write(h, []byte(body))
		f.Close(h)
	}
	mk("/t")
	mk("/t/dir")
	mk("/t/dir/empty")
	for i := range 150 {
		name := fmt.Sprintf("dir/file-%03d.txt", i)
		put("/t/"+name, fmt.Sprintf("contents of %d\n", i))
		want = append(want, name)
	}
	put("/t/top", "top level")
	want = append(want, "top", "dir/empty")
	if err := fstest.TestFS(IOFS(f, "/t"), want...); err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Stat(IOFS(f, "/t"), "nope"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if f.OpenHandles() != 0 {
		t.Fatalf("%d handles left open", f.OpenHandles())
	}
}
