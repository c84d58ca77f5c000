package vfs_test

import (
	"bytes"
	"syscall"
	"testing"

	"github.com/xairrosx/xairrosx/fs/tmpfs"
	"github.com/xairrosx/xairrosx/fs/vfs"
)

func TestTmpfsSizeLimit(t *testing.T) {
	f := vfs.New()
	tf := tmpfs.New(tmpfs.Options{SizeLimit: 3 * tmpfs.PageSize, Clock: f.Now})
	if err := f.Mount("/tmp", tf); err != nil {
		t.Fatal(err)
	}
	h, e := f.Openat(vfs.AtFDCWD, "/tmp/big", syscall.O_RDWR|syscall.O_CREAT, 0o644)
	if e != 0 {
		t.Fatal(e)
	}
	chunk := bytes.Repeat([]byte{'x'}, 5000)
	if n, e := f.Write(h, chunk); n != 5000 || e != 0 {
		t.Fatalf("first write %d %v", n, e)
	}
	if n, e := f.Write(h, chunk); n != 5000 || e != 0 {
		t.Fatalf("second write %d %v", n, e)
	}
	if n, e := f.Write(h, chunk); n != 3*tmpfs.PageSize-10000 || e != 0 {
		t.Fatalf("short write %d %v", n, e)
	}
	if n, e := f.Write(h, chunk); n != 0 || e != syscall.ENOSPC {
		t.Fatalf("full write %d %v", n, e)
	}
	var st syscall.Stat_t
	f.Fstat(h, &st)
	if st.Size != 3*tmpfs.PageSize || st.Blocks != 3*tmpfs.PageSize/512 {
		t.Fatalf("size after ENOSPC: %+v", st)
	}
	// Sparse growth costs nothing; writing in the hole does.
	if e := f.Ftruncate(h, 1<<40); e != 0 {
		t.Fatal(e)
	}
	if _, e := f.Pwrite(h, []byte("y"), 1<<39); e != syscall.ENOSPC {
		t.Fatalf("write in hole of a full fs: %v", e)
	}
	// Unlinked while open: space comes back at close, not before.
	if e := f.Unlinkat(vfs.AtFDCWD, "/tmp/big", 0); e != 0 {
		t.Fatal(e)
	}
	if tf.Used() != 3*tmpfs.PageSize {
		t.Fatalf("used while open: %d", tf.Used())
	}
	f.Close(h)
	if tf.Used() != 0 {
		t.Fatalf("used after close: %d", tf.Used())
	}
	var sf syscall.Statfs_t
	if e := f.Statfs("/tmp", &sf); e != 0 || sf.Type != tmpfs.Magic || sf.Bfree != 3 || sf.Blocks != 3 {
		t.Fatalf("statfs %+v %v", sf, e)
	}
}
