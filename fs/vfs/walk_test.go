package vfs

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/fs/procfs"
	"github.com/xairrosx/xairrosx/fs/tmpfs"
)

func ino(t *testing.T, f *FS, path string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	must(t, f.Fstatat(AtFDCWD, path, &st, 0))
	return st.Ino
}

func TestDotDotNeverEscapesRoot(t *testing.T) {
	f := New()
	must(t, f.Mkdirat(AtFDCWD, "/a", 0o755))
	must(t, f.Mkdirat(AtFDCWD, "/a/b", 0o755))
	must(t, f.Symlinkat("/../../..", AtFDCWD, "/a/b/up"))
	must(t, f.Symlinkat("../../../../../a", AtFDCWD, "/a/b/rel"))
	root := ino(t, f, "/")
	for _, p := range []string{"/..", "/../..", "/a/../../..", "/a/b/up", "/a/b/up/..", "/a/b/rel/.."} {
		if got := ino(t, f, p); got != root {
			t.Errorf("%s: ino %d, root is %d", p, got, root)
		}
	}
	must(t, f.Chdir("/a/b"))
	if got := ino(t, f, strings.Repeat("../", 50)); got != root {
		t.Errorf("relative ../ x50 left the root")
	}
	h, e := f.Openat(AtFDCWD, "rel", syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	must(t, e)
	var st syscall.Stat_t
	must(t, f.Fstatat(h, "../../..", &st, 0))
	if st.Ino != root {
		t.Errorf("openat dir .. chain left the root")
	}
	must(t, f.Close(h))
	if wd, e := f.Getcwd(); wd != "/a/b" || e != 0 {
		t.Errorf("getcwd %q %v", wd, e)
	}
	must(t, f.Renameat(AtFDCWD, "/a", AtFDCWD, "/z"))
	if wd, e := f.Getcwd(); wd != "/z/b" || e != 0 {
		t.Errorf("getcwd after parent rename %q %v", wd, e)
	}
	must(t, f.Unlinkat(AtFDCWD, "up", 0))
	must(t, f.Unlinkat(AtFDCWD, "rel", 0))
	must(t, f.Unlinkat(AtFDCWD, "/z/b", AtRemoveDir))
	if _, e := f.Getcwd(); e != syscall.ENOENT {
		t.Errorf("getcwd of removed dir: %v", e)
	}
	if _, e := f.Openat(AtFDCWD, "new", syscall.O_CREAT|syscall.O_WRONLY, 0o644); e != syscall.ENOENT {
		t.Errorf("create in removed cwd: %v", e)
	}
	must(t, f.Chdir(".."))
	if wd, _ := f.Getcwd(); wd != "/z" {
		t.Errorf("chdir .. from removed dir: %q", wd)
	}
}

func TestSymlinkLimit(t *testing.T) {
	f := New()
	// A chain of 40 links resolves; 41 is ELOOP (Linux MAXSYMLINKS).
	must(t, f.Mkdirat(AtFDCWD, "/t", 0o755))
	for i := 1; i <= 41; i++ {
		prev := "/t"
		if i > 1 {
			prev = "l" + string(rune('0'+(i-1)/10)) + string(rune('0'+(i-1)%10))
		}
		must(t, f.Symlinkat(prev, AtFDCWD, "l"+string(rune('0'+i/10))+string(rune('0'+i%10))))
	}
	var st syscall.Stat_t
	must(t, f.Fstatat(AtFDCWD, "/l40", &st, 0))
	if e := f.Fstatat(AtFDCWD, "/l41", &st, 0); e != syscall.ELOOP {
		t.Fatalf("41 links: %v", e)
	}
	if e := f.Fstatat(AtFDCWD, "/l40/", &st, 0); e != 0 {
		t.Fatalf("40 links with slash: %v", e)
	}
}

func TestMountTable(t *testing.T) {
	f := New()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	f.SetClock(func() time.Time { return now })
	tmp := tmpfs.New(tmpfs.Options{Clock: f.Now})
	if err := f.Mount("/var/tmp/", tmp); err != nil {
		t.Fatal(err)
	}
	h, e := f.Openat(AtFDCWD, "/var/tmp/f", syscall.O_CREAT|syscall.O_WRONLY, 0o644)
	must(t, e)
	var st, root syscall.Stat_t
	must(t, f.Fstat(h, &st))
	must(t, f.Fstatat(AtFDCWD, "/", &root, 0))
	if st.Dev == root.Dev {
		t.Error("mounted tmpfs shares the root's dev")
	}
	if st.Mtim.Sec != now.Unix() {
		t.Errorf("mtime %d, clock %d", st.Mtim.Sec, now.Unix())
	}
	// Mountpoints cannot be removed or renamed; links cannot cross.
	if e := f.Renameat(AtFDCWD, "/var/tmp", AtFDCWD, "/x"); e != syscall.EBUSY {
		t.Errorf("rename mountpoint: %v", e)
	}
	if e := f.Linkat(AtFDCWD, "/var/tmp/f", AtFDCWD, "/f", 0); e != syscall.EXDEV {
		t.Errorf("link across mounts: %v", e)
	}
	// Stacked mount hides the first one until... it stays (no unmount).
	p := procfs.New()
	p.File("x", procfs.Text("x"))
	if err := f.Mount("/var/tmp", p); err != nil {
		t.Fatal(err)
	}
	if e := f.Fstatat(AtFDCWD, "/var/tmp/x", &st, 0); e != 0 {
		t.Errorf("stacked mount not visible: %v", e)
	}
	// The open file on the covered tmpfs still works.
	if n, e := f.Write(h, []byte("ok")); n != 2 || e != 0 {
		t.Errorf("write on covered mount: %d %v", n, e)
	}
	f.Close(h)
	for _, bad := range []string{"relative", "/var/tmp/x/y"} {
		if err := f.Mount(bad, tmpfs.New(tmpfs.Options{})); err == nil {
			t.Errorf("mount %q accepted", bad)
		}
	}
	if err := f.Mount("/", tmpfs.New(tmpfs.Options{})); err == nil {
		t.Error("replacing / with mounts present accepted")
	}
	if err := f.Mount("/y", nil); err == nil {
		t.Error("nil backend accepted")
	}
	mi := string(f.Mountinfo())
	if strings.Count(mi, "\n") != 3 || !strings.Contains(mi, " /var/tmp rw,relatime - tmpfs") {
		t.Errorf("mountinfo:\n%s", mi)
	}
	// A fresh FS may replace its root, e.g. with a read-only tree.
	g := New()
	if err := g.Mount("/", p); err != nil {
		t.Fatal(err)
	}
	if e := g.Fstatat(AtFDCWD, "/x", &st, 0); e != 0 {
		t.Errorf("new root: %v", e)
	}
}

func TestUtimensAndChmod(t *testing.T) {
	f := New()
	now := time.Unix(1000, 0)
	f.SetClock(func() time.Time { return now })
	h, e := f.Openat(AtFDCWD, "/f", syscall.O_CREAT|syscall.O_RDWR, 0o644)
	must(t, e)
	ts := [2]syscall.Timespec{{Sec: 5, Nsec: 6}, {Sec: 7, Nsec: UtimeOmit}}
	must(t, f.Utimensat(AtFDCWD, "/f", &ts, 0))
	var st syscall.Stat_t
	must(t, f.Fstat(h, &st))
	if st.Atim.Sec != 5 || st.Atim.Nsec != 6 || st.Mtim.Sec != 1000 {
		t.Errorf("times %+v %+v", st.Atim, st.Mtim)
	}
	now = time.Unix(2000, 0)
	must(t, f.Utimensat(h, "", nil, 0))
	must(t, f.Fstat(h, &st))
	if st.Atim.Sec != 2000 || st.Mtim.Sec != 2000 {
		t.Errorf("futimens now: %+v %+v", st.Atim, st.Mtim)
	}
	bad := [2]syscall.Timespec{{Nsec: 2e9}, {}}
	if e := f.Utimensat(AtFDCWD, "/f", &bad, 0); e != syscall.EINVAL {
		t.Errorf("bad nsec: %v", e)
	}
	if e := f.Utimensat(AtFDCWD, "/nope", nil, 0); e != syscall.ENOENT {
		t.Errorf("missing file: %v", e)
	}
	must(t, f.Fchmod(h, 0o4711))
	must(t, f.Fstat(h, &st))
	if st.Mode != syscall.S_IFREG|0o4711 {
		t.Errorf("mode %o", st.Mode)
	}
	if old := f.Umask(0o077); old != 0o022 {
		t.Errorf("umask %o", old)
	}
	must(t, f.Mkdirat(AtFDCWD, "/d", 0o777))
	must(t, f.Fstatat(AtFDCWD, "/d", &st, 0))
	if st.Mode != syscall.S_IFDIR|0o700 {
		t.Errorf("umask not applied: %o", st.Mode)
	}
	f.Close(h)
}

func TestBadHandles(t *testing.T) {
	f := New()
	buf := make([]byte, 8)
	var st syscall.Stat_t
	var sf syscall.Statfs_t
	for _, h := range []Handle{-1, 0, 7, AtFDCWD, 1 << 30} {
		checks := map[string]syscall.Errno{
			"close":     f.Close(h),
			"fstat":     f.Fstat(h, &st),
			"fsync":     f.Fsync(h),
			"ftruncate": f.Ftruncate(h, 0),
			"flock":     f.Flock(h, LockEX),
			"fchmod":    f.Fchmod(h, 0),
			"fstatfs":   f.Fstatfs(h, &sf),
			"fchdir":    f.Fchdir(h),
			"setflags":  f.SetFlags(h, 0),
		}
		_, checks["read"] = f.Read(h, buf)
		_, checks["write"] = f.Write(h, buf)
		_, checks["pread"] = f.Pread(h, buf, 0)
		_, checks["pwrite"] = f.Pwrite(h, buf, 0)
		_, checks["seek"] = f.Seek(h, 0, 0)
		_, checks["getdents"] = f.Getdents64(h, buf)
		_, checks["dup"] = f.Dup(h)
		_, checks["getflags"] = f.GetFlags(h)
		for name, e := range checks {
			if e != syscall.EBADF {
				t.Errorf("%s(%d) = %v, want EBADF", name, h, e)
			}
		}
		if h != AtFDCWD {
			if _, e := f.Openat(h, "x", syscall.O_RDONLY, 0); e != syscall.EBADF {
				t.Errorf("openat(%d, relative) = %v", h, e)
			}
			if e := f.Mkdirat(h, "x", 0); e != syscall.EBADF {
				t.Errorf("mkdirat(%d) = %v", h, e)
			}
		}
		if r, w := f.Readiness(h); r || w || f.IsDir(h) {
			t.Errorf("readiness/isdir of bad handle %d", h)
		}
	}
	// Absolute paths ignore the directory handle, like Linux.
	if e := f.Mkdirat(-1, "/abs", 0o755); e != 0 {
		t.Errorf("absolute mkdirat with bad dir: %v", e)
	}
}

func TestMountOnReadOnlyRoot(t *testing.T) {
	f := New()
	root := procfs.New() // any read-only tree
	root.File("etc/hostname", procfs.Text("x\n"))
	if err := f.Mount("/", root); err != nil {
		t.Fatal(err)
	}
	if e := f.Mkdirat(AtFDCWD, "/tmp", 0o755); e != syscall.EROFS {
		t.Fatalf("mkdir on read-only root: %v", e)
	}
	if err := f.Mount("/tmp", tmpfs.New(tmpfs.Options{})); err != nil {
		t.Fatalf("mount on a missing dir of a read-only root: %v", err)
	}
	if err := f.Mount("/etc/hostname/x", tmpfs.New(tmpfs.Options{})); err == nil {
		t.Fatal("mount below a file accepted")
	}
	h, e := f.Openat(AtFDCWD, "/tmp/f", syscall.O_CREAT|syscall.O_RDWR, 0o644)
	must(t, e)
	f.Close(h)
	if _, e := f.Openat(AtFDCWD, "/g", syscall.O_CREAT|syscall.O_RDWR, 0o644); e != syscall.EROFS {
		t.Fatalf("create on read-only root: %v", e)
	}
}
