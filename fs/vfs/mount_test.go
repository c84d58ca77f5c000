package vfs_test

import (
	"archive/tar"
	"bytes"
	"io"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/xairrosx/xairrosx/fs/initfs"
	"github.com/xairrosx/xairrosx/fs/procfs"
	"github.com/xairrosx/xairrosx/fs/tmpfs"
	"github.com/xairrosx/xairrosx/fs/vfs"
)

// readFile reads a whole file through the FS.
func readFile(t *testing.T, f *vfs.FS, path string) (string, syscall.Errno) {
	t.Helper()
	h, e := f.Openat(vfs.AtFDCWD, path, syscall.O_RDONLY, 0)
	if e != 0 {
		return "", e
	}
	defer f.Close(h)
	var out []byte
	buf := make([]byte, 7)
	for {
		n, e := f.Read(h, buf)
		if e != 0 {
			return "", e
		}
		if n == 0 {
			return string(out), 0
		}
		out = append(out, buf[:n]...)
	}
}

func TestProcfsGeneratedFiles(t *testing.T) {
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
	if got, e := readFile(t, f, "/proc/self/cgroup"); e != 0 || got != "0::/\n" || calls != 1 {
		t.Fatalf("cgroup: %q %v calls=%d", got, e, calls)
	}
	if got, e := readFile(t, f, "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size"); e != 0 || got != "2097152\n" {
		t.Fatalf("hpage: %q %v", got, e)
	}
	mi, e := readFile(t, f, "/proc/self/mountinfo")
	if e != 0 || !strings.Contains(mi, " /proc ro,relatime - proc proc ro") || !strings.Contains(mi, " / rw,relatime - tmpfs") {
		t.Fatalf("mountinfo: %q %v", mi, e)
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

func TestInitfsFromTarAndFS(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	mt := time.Unix(1700000000, 0)
	add := func(h *tar.Header, body string) {
		h.ModTime = mt
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		io.WriteString(tw, body)
	}
	add(&tar.Header{Name: "etc/", Typeflag: tar.TypeDir, Mode: 0o755}, "")
	add(&tar.Header{Name: "etc/app.toml", Typeflag: tar.TypeReg, Mode: 0o644}, "port = 26656\n")
	add(&tar.Header{Name: "data/model.bin", Typeflag: tar.TypeReg, Mode: 0o600}, "\x00\x01\x02")
	add(&tar.Header{Name: "etc/current", Typeflag: tar.TypeSymlink, Linkname: "app.toml"}, "")
	add(&tar.Header{Name: "etc/hard", Typeflag: tar.TypeLink, Linkname: "etc/app.toml"}, "")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	ifs, err := initfs.FromTar(&buf)
	if err != nil {
		t.Fatal(err)
	}
	f := vfs.New()
	if err := f.Mount("/app", ifs); err != nil {
		t.Fatal(err)
	}
	if got, e := readFile(t, f, "/app/etc/current"); e != 0 || got != "port = 26656\n" {
		t.Fatalf("through symlink: %q %v", got, e)
	}
	var st syscall.Stat_t
	if e := f.Fstatat(vfs.AtFDCWD, "/app/etc/hard", &st, 0); e != 0 || st.Nlink != 2 || st.Size != 13 || st.Mtim.Sec != mt.Unix() || st.Mode != syscall.S_IFREG|0o644 {
		t.Fatalf("hard link stat: %+v %v", st, e)
	}
	if err := fstest.TestFS(vfs.IOFS(f, "/app"), "etc/app.toml", "etc/hard", "etc/current", "data/model.bin"); err != nil {
		t.Fatal(err)
	}
	if e := f.Fstatat(vfs.AtFDCWD, "/app/data", &st, 0); e != 0 || st.Mode != syscall.S_IFDIR|0o555 {
		t.Fatalf("implicit dir: %o %v", st.Mode, e)
	}
	for _, p := range []string{"/app/etc/app.toml", "/app/etc/new"} {
		if _, e := f.Openat(vfs.AtFDCWD, p, syscall.O_RDWR|syscall.O_CREAT, 0o644); e != syscall.EROFS {
			t.Fatalf("open %s for writing: %v", p, e)
		}
	}
	if e := f.Unlinkat(vfs.AtFDCWD, "/app/etc/app.toml", 0); e != syscall.EROFS {
		t.Fatalf("unlink: %v", e)
	}
	if e := f.Access(vfs.AtFDCWD, "/app/etc/app.toml", vfs.WOK, 0); e != syscall.EROFS {
		t.Fatalf("access W_OK: %v", e)
	}

	// The same tree from an fstest.MapFS.
	m := fstest.MapFS{
		"etc/app.toml": {Data: []byte("port = 26656\n"), Mode: 0o644, ModTime: mt},
		"etc/link":     {Data: []byte("app.toml"), Mode: 0o777 | 0o1000000000 /* fs.ModeSymlink */},
	}
	ifs2, err := initfs.FromFS(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Mount("/app2", ifs2); err != nil {
		t.Fatal(err)
	}
	if got, e := readFile(t, f, "/app2/etc/link"); e != 0 || got != "port = 26656\n" {
		t.Fatalf("FromFS symlink: %q %v", got, e)
	}
}

func TestInitfsBadTar(t *testing.T) {
	cases := map[string]func(tw *tar.Writer){
		"dotdot": func(tw *tar.Writer) {
			tw.WriteHeader(&tar.Header{Name: "../evil", Typeflag: tar.TypeReg})
		},
		"file-then-child": func(tw *tar.Writer) {
			tw.WriteHeader(&tar.Header{Name: "a", Typeflag: tar.TypeReg})
			tw.WriteHeader(&tar.Header{Name: "a/b", Typeflag: tar.TypeReg})
		},
		"fifo": func(tw *tar.Writer) {
			tw.WriteHeader(&tar.Header{Name: "p", Typeflag: tar.TypeFifo})
		},
		"hardlink-missing": func(tw *tar.Writer) {
			tw.WriteHeader(&tar.Header{Name: "h", Typeflag: tar.TypeLink, Linkname: "nope"})
		},
	}
	for name, build := range cases {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		build(tw)
		tw.Close()
		if _, err := initfs.FromTar(&buf); err == nil {
			t.Errorf("%s: no error", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
	// Truncated archive.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Size: 100})
	tw.Write(make([]byte, 100))
	tw.Close()
	if _, err := initfs.FromTar(bytes.NewReader(buf.Bytes()[:600])); err == nil {
		t.Error("truncated archive: no error")
	}
}

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
