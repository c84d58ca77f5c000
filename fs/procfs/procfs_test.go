package procfs_test

import (
	"io/fs"
	"strings"
	"syscall"
	"testing"

	"github.com/xairrosx/xairrosx/fs/procfs"
	"github.com/xairrosx/xairrosx/fs/vfs"
)

// readFile reads a whole file through the FS's io/fs view.
func readFile(f *vfs.FS, p string) (string, error) {
	b, err := fs.ReadFile(vfs.IOFS(f, "/"), strings.TrimPrefix(p, "/"))
	return string(b), err
}

func TestGeneratedFiles(t *testing.T) {
	f := vfs.New()
	p := procfs.New()
	calls := 0
	if err := p.File("self/cgroup", func() []byte { calls++; return []byte("0::/\n") }); err != nil {
		t.Fatal(err)
	}
	if err := p.File("self/mountinfo", f.Mountinfo); err != nil {
		t.Fatal(err)
	}
	if err := p.Symlink("self/exe", "/bin/app"); err != nil {
		t.Fatal(err)
	}
	if err := f.Mount("/proc", p); err != nil {
		t.Fatal(err)
	}
	s := procfs.NewSys()
	if err := s.File("kernel/mm/transparent_hugepage/hpage_pmd_size", procfs.Text("2097152\n")); err != nil {
		t.Fatal(err)
	}
	if err := f.Mount("/sys", s); err != nil {
		t.Fatal(err)
	}
	if got, e := readFile(f, "/proc/self/cgroup"); e != nil || got != "0::/\n" || calls != 1 {
		t.Fatalf("cgroup: %q %v calls=%d", got, e, calls)
	}
	if got, e := readFile(f, "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"); e != nil || got != "2097152\n" {
		t.Fatalf("hpage: %q %v", got, e)
	}
	mi, err := readFile(f, "/proc/self/mountinfo")
	if err != nil || !strings.Contains(mi, " /proc ro,relatime - proc proc ro") || !strings.Contains(mi, " / rw,relatime - tmpfs") {
		t.Fatalf("mountinfo: %q %v", mi, err)
	}
	buf := make([]byte, 64)
	if n, e := f.Readlinkat(vfs.AtFDCWD, "/proc/self/exe", buf); e != 0 || string(buf[:n]) != "/bin/app" {
		t.Fatalf("readlink: %q %v", buf[:n], e)
	}
	// Writes are refused, the mount's ".." leads back to the root tmpfs.
	if _, e := f.Openat(vfs.AtFDCWD, "/proc/self/cgroup", syscall.O_WRONLY, 0); e != syscall.EROFS {
		t.Fatalf("write open: %v", e)
	}
	if e := f.Mkdirat(vfs.AtFDCWD, "/proc/x", 0o755); e != syscall.EROFS {
		t.Fatalf("mkdir in proc: %v", e)
	}
	if e := f.Chdir("/proc/self"); e != 0 {
		t.Fatal(e)
	}
	if wd, e := f.Getcwd(); e != 0 || wd != "/proc/self" {
		t.Fatalf("getcwd: %q %v", wd, e)
	}
	var a, b syscall.Stat_t
	if e := f.Fstatat(vfs.AtFDCWD, "../../sys/..", &a, 0); e != 0 {
		t.Fatal(e)
	}
	if e := f.Fstatat(vfs.AtFDCWD, "/", &b, 0); e != 0 {
		t.Fatal(e)
	}
	if a.Ino != b.Ino || a.Dev != b.Dev {
		t.Fatalf(".. across mounts: %d/%d vs %d/%d", a.Dev, a.Ino, b.Dev, b.Ino)
	}
	if e := f.Renameat(vfs.AtFDCWD, "/proc/self/cgroup", vfs.AtFDCWD, "/tmpfile"); e != syscall.EXDEV {
		t.Fatalf("rename across mounts: %v", e)
	}
	if e := f.Unlinkat(vfs.AtFDCWD, "/proc", vfs.AtRemoveDir); e != syscall.EBUSY {
		t.Fatalf("rmdir mountpoint: %v", e)
	}
	var sf syscall.Statfs_t
	if e := f.Statfs("/proc/self", &sf); e != 0 || sf.Type != procfs.ProcMagic || sf.Flags&1 == 0 {
		t.Fatalf("statfs: %+v %v", sf, e)
	}
}
