package vfs

import (
	"syscall"
	"testing"
)

func must(t *testing.T, e syscall.Errno) {
	t.Helper()
	if e != 0 {
		t.Fatal(e)
	}
}

func TestBasicFileLifecycle(t *testing.T) {
	f := New()
	must(t, f.Mkdirat(AtFDCWD, "/tmp", 0o755))
	h, e := f.Openat(AtFDCWD, "/tmp/a", syscall.O_RDWR|syscall.O_CREAT|syscall.O_EXCL, 0o644)
	must(t, e)
	if n, e := f.Write(h, []byte("hello world")); e != 0 || n != 11 {
		t.Fatalf("write: %d %v", n, e)
	}
	buf := make([]byte, 5)
	if n, e := f.Pread(h, buf, 6); e != 0 || string(buf[:n]) != "world" {
		t.Fatalf("pread: %q %v", buf[:n], e)
	}
	var st syscall.Stat_t
	must(t, f.Fstatat(AtFDCWD, "/tmp/../tmp/./a", &st, 0))
	if st.Size != 11 || st.Mode != syscall.S_IFREG|0o644 || st.Nlink != 1 {
		t.Fatalf("stat: %+v", st)
	}
	must(t, f.Chdir("/tmp"))
	if wd, e := f.Getcwd(); e != 0 || wd != "/tmp" {
		t.Fatalf("getcwd %q %v", wd, e)
	}
	must(t, f.Unlinkat(AtFDCWD, "a", 0))
	must(t, f.Fstat(h, &st))
	if st.Nlink != 0 || st.Size != 11 {
		t.Fatalf("fstat after unlink: %+v", st)
	}
	must(t, f.Close(h))
	if e := f.Close(h); e != syscall.EBADF {
		t.Fatalf("double close: %v", e)
	}
}
