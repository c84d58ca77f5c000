package ext2

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xairrosx/xairrosx/fs/vfs"
)

// buildTree writes a source tree covering every read path: empty, small,
// multi-block files, files reaching the single, double and (sparse) triple
// indirect blocks, fast and slow symlinks, hard links, a large directory.
func buildTree(t *testing.T, bs int) string {
	t.Helper()
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, uint64(bs)))
	data := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	write := func(name string, b []byte, mode os.FileMode) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("empty", nil, 0o644)
	write("small.txt", []byte("hello ext2\n"), 0o600)
	write("a/b/c/multi", data(5*bs+17), 0o755)
	write("direct12", data(12*bs), 0o644)
	write("indirect", data((12+bs/4)*bs+3), 0o644)      // into the double-indirect range
	write("a/double", data((12+bs/4+3)*bs+bs/2), 0o644) // a few double-indirect blocks
	for i := range 150 {
		write(fmt.Sprintf("many/file-with-a-longish-name-%03d", i), data(i), 0o644)
	}
	// Sparse file reaching the triple-indirect range: data at 0, in the
	// middle, and in the last block.
	p := int64(bs / 4)
	triple := (12 + p + p*p + 5) * int64(bs)
	sp, err := os.Create(filepath.Join(dir, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{0, triple / 2, triple - 100} {
		if _, err := sp.WriteAt([]byte(fmt.Sprintf("data at %d", off)), off); err != nil {
			t.Fatal(err)
		}
	}
	sp.Close()
	must(t, os.Symlink("small.txt", filepath.Join(dir, "fastlink")))
	must(t, os.Symlink(strings.Repeat("long/", 30)+"target", filepath.Join(dir, "a/slowlink")))
	must(t, os.Link(filepath.Join(dir, "small.txt"), filepath.Join(dir, "a/hardlink")))
	return dir
}

// tool finds an e2fsprogs command (installed by scripts/deps-ext2.sh) on
// PATH or in the sbin directories, which a non-root PATH may lack.
func tool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/sbin"} {
		if p := filepath.Join(dir, name); exec.Command(p, "-V").Run() == nil {
			return p
		}
	}
	t.Fatalf("%s not found: run scripts/deps-ext2.sh", name)
	return ""
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mkfs makes an ext2 image of the tree src with block size bs.
func mkfs(t testing.TB, src string, bs int, extra ...string) string {
	t.Helper()
	img := filepath.Join(t.TempDir(), "disk.img")
	args := append([]string{"-q", "-F", "-t", "ext2", "-b", fmt.Sprint(bs), "-d", src}, extra...)
	args = append(args, img, "16M")
	if out, err := exec.Command(tool(t, "mkfs.ext2"), args...).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext2 %v: %v\n%s", args, err, out)
	}
	return img
}

func mountImage(t *testing.T, img string) (*FS, *vfs.FS) {
	t.Helper()
	f, err := os.Open(img)
	must(t, err)
	t.Cleanup(func() { f.Close() })
	e, err := Mount(FileDevice{f})
	must(t, err)
	v := vfs.New()
	must(t, v.Mount("/mnt", e))
	return e, v
}

func TestReadTree(t *testing.T) {
	for _, bs := range []int{1024, 4096} {
		t.Run(fmt.Sprint(bs), func(t *testing.T) {
			src := buildTree(t, bs)
			img := mkfs(t, src, bs)
			_, v := mountImage(t, img)
			compareTree(t, src, vfs.IOFS(v, "/mnt"))
		})
	}
}

// TestRevision0 reads an original-format image: no filetype feature (16-bit
// name lengths, types from the inodes), 128-byte inodes.
func TestRevision0(t *testing.T) {
	src := buildTree(t, 1024)
	img := mkfs(t, src, 1024, "-r", "0")
	e, v := mountImage(t, img)
	if e.filetype || e.inodeSize != 128 {
		t.Fatalf("revision 0 image: filetype %v, inode size %d", e.filetype, e.inodeSize)
	}
	compareTree(t, src, vfs.IOFS(v, "/mnt"))
}

// compareTree checks that every name, type, mode, size, mtime, link count,
// symlink target and file content under src is the same in got, and that
// got has nothing more (apart from lost+found).
func compareTree(t *testing.T, src string, got fs.FS) {
	t.Helper()
	srcFS := os.DirFS(src)
	seen := 0
	err := fs.WalkDir(srcFS, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		seen++
		want, err := os.Lstat(filepath.Join(src, name))
		if err != nil {
			return err
		}
		have, err := got.(fs.ReadLinkFS).Lstat(name)
		if err != nil {
			return fmt.Errorf("lstat %s: %w", name, err)
		}
		ws, hs := want.Sys().(*syscall.Stat_t), have.Sys().(*syscall.Stat_t)
		if ws.Mode != hs.Mode {
			return fmt.Errorf("%s: mode %#o, want %#o", name, hs.Mode, ws.Mode)
		}
		if name != "." && ws.Mtim.Sec != hs.Mtim.Sec {
			return fmt.Errorf("%s: mtime %d, want %d", name, hs.Mtim.Sec, ws.Mtim.Sec)
		}
		if !d.IsDir() && (ws.Size != hs.Size || ws.Nlink != hs.Nlink) {
			return fmt.Errorf("%s: size %d nlink %d, want %d %d", name, hs.Size, hs.Nlink, ws.Size, ws.Nlink)
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			wl, _ := os.Readlink(filepath.Join(src, name))
			hl, err := got.(fs.ReadLinkFS).ReadLink(name)
			if err != nil || hl != wl {
				return fmt.Errorf("readlink %s = %q, %v; want %q", name, hl, err, wl)
			}
		case d.IsDir():
			we, _ := fs.ReadDir(srcFS, name)
			he, err := fs.ReadDir(got, name)
			if err != nil {
				return fmt.Errorf("readdir %s: %w", name, err)
			}
			var wn, hn []string
			for _, e := range we {
				wn = append(wn, e.Name()+e.Type().String())
			}
			for _, e := range he {
				if name == "." && e.Name() == "lost+found" {
					continue
				}
				hn = append(hn, e.Name()+e.Type().String())
			}
			if fmt.Sprint(wn) != fmt.Sprint(hn) {
				return fmt.Errorf("readdir %s = %v, want %v", name, hn, wn)
			}
		case ws.Size > 8<<20:
			return compareSparse(got, src, name, ws.Size)
		default:
			wb, err := os.ReadFile(filepath.Join(src, name))
			if err != nil {
				return err
			}
			hb, err := fs.ReadFile(got, name)
			if err != nil {
				return fmt.Errorf("read %s: %w", name, err)
			}
			if !bytes.Equal(wb, hb) {
				return fmt.Errorf("%s: content differs (%d bytes read, %d want)", name, len(hb), len(wb))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen < 150 {
		t.Fatalf("walked only %d names", seen)
	}
}

func TestStatfsAndInodes(t *testing.T) {
	src := buildTree(t, 1024)
	img := mkfs(t, src, 1024)
	e, v := mountImage(t, img)
	var st syscall.Statfs_t
	if errno := v.Statfs("/mnt", &st); errno != 0 {
		t.Fatal(errno)
	}
	if st.Type != Magic || st.Bsize != 1024 || st.Blocks != 16*1024-1 || st.Bfree == 0 || st.Bfree >= st.Blocks {
		t.Fatalf("statfs %+v", st)
	}
	// The hard link and its original share an inode.
	a, err := fs.Stat(vfs.IOFS(v, "/mnt"), "small.txt")
	must(t, err)
	b, err := fs.Stat(vfs.IOFS(v, "/mnt"), "a/hardlink")
	must(t, err)
	if a.Sys().(*syscall.Stat_t).Ino != b.Sys().(*syscall.Stat_t).Ino {
		t.Fatal("hard links have different inode numbers")
	}
	if e.ReadOnly() != true || e.Type() != "ext2" {
		t.Fatal("type or read-only flag")
	}
}

// memDev is an in-memory Device.
type memDev []byte

func (m memDev) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(m)) {
		return 0, errors.New("out of range")
	}
	n := copy(p, m[off:])
	if n < len(p) {
		return n, errors.New("short read")
	}
	return n, nil
}
func (m memDev) WriteAt(p []byte, off int64) (int, error) {
	if off < 0 || off+int64(len(p)) > int64(len(m)) {
		return 0, errors.New("write out of range")
	}
	return copy(m[off:], p), nil
}
func (m memDev) Flush() error { return nil }
func (m memDev) Size() int64  { return int64(len(m)) }

func TestRefusesBadImages(t *testing.T) {
	src := t.TempDir()
	plain := mkfs(t, src, 1024)
	journal := filepath.Join(t.TempDir(), "j.img")
	if out, err := exec.Command(tool(t, "mkfs.ext3"), "-q", "-F", journal, "8M").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext3: %v\n%s", err, out)
	}
	ext4 := filepath.Join(t.TempDir(), "e4.img")
	if out, err := exec.Command(tool(t, "mkfs.ext4"), "-q", "-F", "-O", "^has_journal", ext4, "8M").CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4: %v\n%s", err, out)
	}
	load := func(p string) memDev { b, err := os.ReadFile(p); must(t, err); return b }
	poke := func(b memDev, off int, v ...byte) memDev { copy(b[off:], v); return b }
	cases := []struct {
		name string
		dev  memDev
		want string
	}{
		{"tiny", memDev(make([]byte, 100)), "too small"},
		{"magic", poke(load(plain), 1024+56, 0, 0), "bad magic"},
		{"journal", load(journal), "has_journal"},
		{"ext4", load(ext4), "extents"},
		{"revision", poke(load(plain), 1024+76, 7), "revision 7"},
		{"blocksize", poke(load(plain), 1024+24, 5), "block size"},
		{"truncated", load(plain)[:1<<20], "exceed the device"},
		{"ipg", poke(load(plain), 1024+40, 0, 0, 0, 0), "inodes per group"},
		{"inode table", poke(load(plain), 2048+8, 0xff, 0xff, 0xff, 0x7f), "inode table"},
	}
	for _, c := range cases {
		_, err := Mount(c.dev)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Mount error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// compareSparse compares 64 KiB windows of a large (sparse) file at its
// start, around its middle and at its end, instead of reading gigabytes.
func compareSparse(got fs.FS, src, name string, size int64) error {
	w, err := os.Open(filepath.Join(src, name))
	if err != nil {
		return err
	}
	defer w.Close()
	h, err := got.Open(name)
	if err != nil {
		return err
	}
	defer h.Close()
	ra, ok := h.(interface {
		ReadAt([]byte, int64) (int, error)
	})
	if !ok {
		return fmt.Errorf("%s: opened file has no ReadAt", name)
	}
	for _, off := range []int64{0, size/2 - 1000, size - 64<<10} {
		wb, hb := make([]byte, 64<<10), make([]byte, 64<<10)
		wn, _ := w.ReadAt(wb, off)
		hn, _ := ra.ReadAt(hb, off)
		if wn != hn || !bytes.Equal(wb[:wn], hb[:hn]) || bytes.Count(wb[:wn], []byte("data at")) != 1 {
			return fmt.Errorf("%s: window at %d differs (%d vs %d bytes)", name, off, hn, wn)
		}
	}
	return nil
}
