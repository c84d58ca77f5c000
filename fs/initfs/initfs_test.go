package initfs_test

import (
	"archive/tar"
	"bytes"
	"io"
	"io/fs"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/xairrosx/xairrosx/fs/initfs"
	"github.com/xairrosx/xairrosx/fs/vfs"
)

// readFile reads a whole file through the FS's io/fs view.
func readFile(f *vfs.FS, p string) (string, error) {
	b, err := fs.ReadFile(vfs.IOFS(f, "/"), strings.TrimPrefix(p, "/"))
	return string(b), err
}

func TestFromTarAndFS(t *testing.T) {
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
	if got, e := readFile(f, "/app/etc/current"); e != nil || got != "port = 26656\n" {
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
	if got, e := readFile(f, "/app2/etc/link"); e != nil || got != "port = 26656\n" {
		t.Fatalf("FromFS symlink: %q %v", got, e)
	}
}

func TestBadTar(t *testing.T) {
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
