package ext2

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/xairrosx/xairrosx/fs/vfs"
)

// newImage makes an empty ext2 image of size (mkfs.ext2 size syntax).
func newImage(t testing.TB, bs int, size string, extra ...string) string {
	t.Helper()
	img := t.TempDir() + "/disk.img"
	args := append([]string{"-q", "-F", "-t", "ext2", "-b", fmt.Sprint(bs)}, extra...)
	args = append(args, img, size)
	if out, err := exec.Command(tool(t, "mkfs.ext2"), args...).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext2 %v: %v\n%s", args, err, out)
	}
	return img
}

// fsck runs e2fsck -fn on img and fails the test, printing its report,
// unless it finds the file system clean.
func fsck(t testing.TB, img string) {
	t.Helper()
	out, err := exec.Command(tool(t, "e2fsck"), "-fn", img).CombinedOutput()
	if err != nil {
		t.Fatalf("e2fsck -fn: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	t.Logf("e2fsck: %s", lines[len(lines)-1])
}

// debugfs runs one debugfs request on img and returns its output.
func debugfs(t testing.TB, img, req string) string {
	t.Helper()
	out, err := exec.Command(tool(t, "debugfs"), "-R", req, img).Output()
	if err != nil {
		t.Fatalf("debugfs -R %q: %v", req, err)
	}
	return string(out)
}

// rw is a read-write mount of an image file through the VFS at /mnt.
type rw struct {
	t    testing.TB
	img  string
	file *os.File
	e    *FS
	v    *vfs.FS
}

func openRW(t testing.TB, img string, dev func(Device) Device) *rw {
	t.Helper()
	file, err := os.OpenFile(img, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var d Device = FileDevice{file}
	if dev != nil {
		d = dev(d)
	}
	e, err := Open(d, Options{ReadWrite: true, CacheBytes: 256 << 10})
	if err != nil {
		file.Close()
		t.Fatalf("Open %s: %v", img, err)
	}
	v := vfs.New()
	if err := v.Mount("/mnt", e); err != nil {
		t.Fatal(err)
	}
	m := &rw{t: t, img: img, file: file, e: e, v: v}
	t.Cleanup(func() { file.Close() })
	return m
}

// unmount unmounts cleanly and checks the image with e2fsck.
func (m *rw) unmount() {
	m.t.Helper()
	if err := m.e.Unmount(); err != nil {
		m.t.Fatal(err)
	}
	m.file.Close()
	fsck(m.t, m.img)
}

func (m *rw) ok(what string, e syscall.Errno) {
	m.t.Helper()
	if e != 0 {
		m.t.Fatalf("%s: %v", what, e)
	}
}

// write writes data at off of path, creating it.
func (m *rw) write(p string, off int64, data []byte) {
	m.t.Helper()
	h, e := m.v.Openat(vfs.AtFDCWD, "/mnt/"+p, syscall.O_CREAT|syscall.O_WRONLY, 0o644)
	m.ok("open "+p, e)
	n, e := m.v.Pwrite(h, data, off)
	m.ok("write "+p, e)
	if n != len(data) {
		m.t.Fatalf("write %s: %d of %d bytes", p, n, len(data))
	}
	m.ok("close", m.v.Close(h))
}

// read returns size bytes at off of path.
func (m *rw) read(p string, off int64, size int) []byte {
	m.t.Helper()
	h, e := m.v.Openat(vfs.AtFDCWD, "/mnt/"+p, syscall.O_RDONLY, 0)
	m.ok("open "+p, e)
	defer m.v.Close(h)
	buf := make([]byte, size)
	n, e := m.v.Pread(h, buf, off)
	m.ok("read "+p, e)
	return buf[:n]
}

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// TestWriteTree builds a tree with every kind of change through the VFS,
// checks it with e2fsck and debugfs after Unmount, and reads it back
// after mounting again.
func TestWriteTree(t *testing.T) {
	for _, bs := range []int{1024, 2048, 4096} {
		t.Run(fmt.Sprint(bs), func(t *testing.T) {
			img := newImage(t, bs, "32M")
			rng := rand.New(rand.NewPCG(7, uint64(bs)))
			m := openRW(t, img, nil)
			p := int64(bs / 4)
			small := []byte("hello, ext2\n")
			double := randBytes(rng, int(12+p+5)*bs+100) // into the double-indirect range
			tripleOff := (12 + p + p*p + 3) * int64(bs)  // a block in the triple-indirect range
			m.ok("mkdir", m.v.Mkdirat(vfs.AtFDCWD, "/mnt/a", 0o755))
			m.ok("mkdir", m.v.Mkdirat(vfs.AtFDCWD, "/mnt/a/b", 0o700))
			m.write("small", 0, small)
			m.write("a/double", 0, double)
			m.write("a/b/sparse", 0, []byte("start"))
			m.write("a/b/sparse", tripleOff, []byte("far away"))
			m.write("hole", 5*int64(bs)+7, []byte("after a hole"))
			m.ok("symlink", m.v.Symlinkat("small", vfs.AtFDCWD, "/mnt/fast"))
			long := strings.Repeat("long/", 40) + "target"
			m.ok("symlink", m.v.Symlinkat(long, vfs.AtFDCWD, "/mnt/a/slow"))
			m.ok("link", m.v.Linkat(vfs.AtFDCWD, "/mnt/small", vfs.AtFDCWD, "/mnt/a/b/hard", 0))
			// Many names: the directory grows past one block, then loses
			// some entries whose space is reused.
			m.ok("mkdir", m.v.Mkdirat(vfs.AtFDCWD, "/mnt/many", 0o755))
			for i := range 300 {
				m.write(fmt.Sprintf("many/file-%03d-with-a-longer-name", i), 0, []byte(fmt.Sprint(i)))
			}
			for i := 0; i < 300; i += 3 {
				m.ok("unlink", m.v.Unlinkat(vfs.AtFDCWD, fmt.Sprintf("/mnt/many/file-%03d-with-a-longer-name", i), 0))
			}
			for i := range 50 {
				m.write(fmt.Sprintf("many/n%d", i), 0, []byte("new"))
			}
			// Truncate: shrink through the indirect blocks, grow, shrink
			// to mid-block (the tail must read as zeros when regrown).
			m.write("trunc", 0, randBytes(rng, int(12+p+3)*bs))
			m.ok("truncate", m.v.Truncate("/mnt/trunc", int64(bs)*3+10))
			m.ok("truncate", m.v.Truncate("/mnt/trunc", int64(bs)*4))
			// Rename: plain, over an existing file, a directory to
			// another parent, a directory over an empty directory.
			m.write("r1", 0, []byte("one"))
			m.write("r2", 0, []byte("two"))
			m.ok("rename", m.v.Renameat(vfs.AtFDCWD, "/mnt/r1", vfs.AtFDCWD, "/mnt/r2"))
			m.ok("rename", m.v.Renameat(vfs.AtFDCWD, "/mnt/a/b", vfs.AtFDCWD, "/mnt/b"))
			m.ok("mkdir", m.v.Mkdirat(vfs.AtFDCWD, "/mnt/empty", 0o755))
			m.ok("mkdir", m.v.Mkdirat(vfs.AtFDCWD, "/mnt/c", 0o755))
			m.ok("rename", m.v.Renameat(vfs.AtFDCWD, "/mnt/c", vfs.AtFDCWD, "/mnt/empty"))
			m.ok("mkdir", m.v.Mkdirat(vfs.AtFDCWD, "/mnt/gone", 0o755))
			m.ok("rmdir", m.v.Unlinkat(vfs.AtFDCWD, "/mnt/gone", vfs.AtRemoveDir))
			m.ok("chmod", m.v.Fchmodat(vfs.AtFDCWD, "/mnt/small", 0o640, 0))
			m.ok("chown", m.v.Fchownat(vfs.AtFDCWD, "/mnt/small", 1000, 70000, 0))
			ts := [2]syscall.Timespec{{Sec: 1000000000}, {Sec: 1234567890}}
			m.ok("utimes", m.v.Utimensat(vfs.AtFDCWD, "/mnt/small", &ts, 0))
			// A file removed while open keeps its data until closed.
			m.write("open-unlinked", 0, []byte("still here"))
			h, e := m.v.Openat(vfs.AtFDCWD, "/mnt/open-unlinked", syscall.O_RDWR, 0)
			m.ok("open", e)
			m.ok("unlink", m.v.Unlinkat(vfs.AtFDCWD, "/mnt/open-unlinked", 0))
			buf := make([]byte, 20)
			if n, _ := m.v.Pread(h, buf, 0); string(buf[:n]) != "still here" {
				t.Fatalf("open unlinked file reads %q", buf[:n])
			}
			m.ok("close", m.v.Close(h))

			check := func(m *rw) {
				t.Helper()
				if got := m.read("small", 0, 100); !bytes.Equal(got, small) {
					t.Fatalf("small = %q", got)
				}
				if got := m.read("b/hard", 0, 100); !bytes.Equal(got, small) {
					t.Fatalf("hard link = %q", got)
				}
				if got := m.read("a/double", 0, len(double)+10); !bytes.Equal(got, double) {
					t.Fatalf("a/double differs (%d bytes)", len(got))
				}
				if got := m.read("b/sparse", tripleOff, 100); string(got) != "far away" {
					t.Fatalf("b/sparse far = %q", got)
				}
				if got := m.read("b/sparse", 0, 10); string(got) != "start\x00\x00\x00\x00\x00" {
					t.Fatalf("b/sparse start = %q", got)
				}
				if got := m.read("hole", 0, 6*bs); len(got) != 5*bs+7+12 || !bytes.Equal(got[:5*bs+7], make([]byte, 5*bs+7)) {
					t.Fatalf("hole reads %d bytes", len(got))
				}
				want := make([]byte, 4*bs)
				tr := m.read("trunc", 0, 5*bs)
				copy(want, tr[:3*bs+10])
				if !bytes.Equal(tr, want) {
					t.Fatalf("trunc: %d bytes, tail not zero", len(tr))
				}
				if got := m.read("r2", 0, 10); string(got) != "one" {
					t.Fatalf("r2 = %q", got)
				}
				var st syscall.Stat_t
				m.ok("stat", m.v.Fstatat(vfs.AtFDCWD, "/mnt/small", &st, 0))
				if st.Mode != syscall.S_IFREG|0o640 || st.Nlink != 2 || st.Uid != 1000 || st.Gid != 70000 || st.Mtim.Sec != 1234567890 {
					t.Fatalf("small: %+v", st)
				}
				m.ok("stat", m.v.Fstatat(vfs.AtFDCWD, "/mnt/b", &st, 0))
				if st.Nlink != 2 || st.Mode != syscall.S_IFDIR|0o700 {
					t.Fatalf("b: nlink %d mode %#o", st.Nlink, st.Mode)
				}
				m.ok("stat", m.v.Fstatat(vfs.AtFDCWD, "/mnt/a", &st, 0))
				if st.Nlink != 2 {
					t.Fatalf("a: nlink %d after moving b out", st.Nlink)
				}
				buf := make([]byte, 300)
				n, e := m.v.Readlinkat(vfs.AtFDCWD, "/mnt/a/slow", buf)
				if e != 0 || string(buf[:n]) != long {
					t.Fatalf("readlink a/slow = %q %v", buf[:n], e)
				}
				n, e = m.v.Readlinkat(vfs.AtFDCWD, "/mnt/fast", buf)
				if e != 0 || string(buf[:n]) != "small" {
					t.Fatalf("readlink fast = %q %v", buf[:n], e)
				}
				for _, gone := range []string{"r1", "c", "gone", "open-unlinked", "a/b", "many/file-000-with-a-longer-name"} {
					if e := m.v.Fstatat(vfs.AtFDCWD, "/mnt/"+gone, &st, vfs.AtSymlinkNofollow); e != syscall.ENOENT {
						t.Fatalf("%s: %v, want ENOENT", gone, e)
					}
				}
				for i := range 300 {
					if i%3 == 0 {
						continue
					}
					if got := m.read(fmt.Sprintf("many/file-%03d-with-a-longer-name", i), 0, 10); string(got) != fmt.Sprint(i) {
						t.Fatalf("many/file-%03d = %q", i, got)
					}
				}
				ents, err := fs.ReadDir(vfs.IOFS(m.v, "/mnt"), "many")
				if err != nil || len(ents) != 250 {
					t.Fatalf("many: %d entries, %v", len(ents), err)
				}
			}
			check(m)
			m.unmount()
			if got := debugfs(t, img, "cat /small"); got != string(small) {
				t.Fatalf("debugfs cat /small = %q", got)
			}
			if got := debugfs(t, img, "cat /r2"); got != "one" {
				t.Fatalf("debugfs cat /r2 = %q", got)
			}
			ls := debugfs(t, img, "ls -l /b")
			if !strings.Contains(ls, "sparse") || !strings.Contains(ls, "hard") {
				t.Fatalf("debugfs ls -l /b:\n%s", ls)
			}
			m = openRW(t, img, nil)
			if m.e.Recovered() {
				t.Fatal("a cleanly unmounted image needed recovery")
			}
			check(m)
			m.unmount()
		})
	}
}

// TestModifyMkfsTree changes a tree that mkfs.ext2 -d wrote (hash-indexed
// directory, files through the triple-indirect block, links): it adds,
// removes and renames entries of the large directory, frees the sparse
// triple-indirect file and shrinks the double-indirect one; e2fsck must
// find the result clean, and a remount must read it back. Revision 0
// images (no filetype feature) are covered too.
func TestModifyMkfsTree(t *testing.T) {
	for _, c := range []struct {
		bs    int
		extra []string
	}{{1024, nil}, {4096, nil}, {1024, []string{"-r", "0"}}} {
		t.Run(fmt.Sprint(c.bs, c.extra), func(t *testing.T) {
			src := buildTree(t, c.bs)
			img := mkfs(t, src, c.bs, c.extra...)
			if c.extra == nil {
				// e2fsck -D gives the large directory a hash index.
				out, err := exec.Command(tool(t, "e2fsck"), "-fyD", img).CombinedOutput()
				if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() > 1) {
					t.Fatalf("e2fsck -fyD: %v\n%s", err, out)
				}
				if st := debugfs(t, img, "stat /many"); !strings.Contains(st, "Flags: 0x1000") {
					t.Fatalf("/many has no hash index:\n%s", st)
				}
			}
			m := openRW(t, img, nil)
			for i := range 150 {
				name := fmt.Sprintf("/mnt/many/file-with-a-longish-name-%03d", i)
				switch i % 5 {
				case 0:
					m.ok("unlink", m.v.Unlinkat(vfs.AtFDCWD, name, 0))
				case 1:
					m.ok("rename", m.v.Renameat(vfs.AtFDCWD, name, vfs.AtFDCWD, fmt.Sprintf("/mnt/many/r%d", i)))
				}
			}
			for i := range 60 {
				m.write(fmt.Sprintf("many/added-%d", i), 0, []byte(fmt.Sprint(i)))
			}
			m.ok("unlink", m.v.Unlinkat(vfs.AtFDCWD, "/mnt/sparse", 0))
			m.ok("truncate", m.v.Truncate("/mnt/a/double", int64(c.bs)*13))
			m.ok("unlink", m.v.Unlinkat(vfs.AtFDCWD, "/mnt/a/hardlink", 0))
			m.unmount()
			m = openRW(t, img, nil)
			ents, err := fs.ReadDir(vfs.IOFS(m.v, "/mnt"), "many")
			if err != nil || len(ents) != 150-30+60 {
				t.Fatalf("many: %d entries, %v", len(ents), err)
			}
			for i := range 60 {
				if got := m.read(fmt.Sprintf("many/added-%d", i), 0, 10); string(got) != fmt.Sprint(i) {
					t.Fatalf("added-%d = %q", i, got)
				}
			}
			if got := m.read("many/r6", 0, 100); len(got) != 6 {
				t.Fatalf("many/r6: %d bytes, want 6", len(got))
			}
			want, err := os.ReadFile(src + "/a/double")
			must(t, err)
			if got := m.read("a/double", 0, len(want)); !bytes.Equal(got, want[:13*c.bs]) {
				t.Fatalf("a/double after truncate: %d bytes", len(got))
			}
			var st syscall.Stat_t
			m.ok("stat", m.v.Fstatat(vfs.AtFDCWD, "/mnt/small.txt", &st, 0))
			if st.Nlink != 1 {
				t.Fatalf("small.txt nlink %d after removing its hard link", st.Nlink)
			}
			m.unmount()
		})
	}
}

// TestFileSizeLimit: the last byte the block pointers address can be
// written (through the triple-indirect block); one more is EFBIG.
func TestFileSizeLimit(t *testing.T) {
	img := newImage(t, 1024, "4M")
	m := openRW(t, img, nil)
	limit := m.e.maxSize()
	if p := int64(256); limit != (12+p+p*p+p*p*p)*1024 {
		t.Fatalf("max size %d with 1 KiB blocks", limit)
	}
	h, e := m.v.Openat(vfs.AtFDCWD, "/mnt/big", syscall.O_CREAT|syscall.O_RDWR, 0o644)
	m.ok("open", e)
	if n, e := m.v.Pwrite(h, []byte("z"), limit-1); n != 1 || e != 0 {
		t.Fatalf("write of the last byte: %d, %v", n, e)
	}
	if _, e := m.v.Pwrite(h, []byte("z"), limit); e != syscall.EFBIG {
		t.Fatalf("write past the limit: %v, want EFBIG", e)
	}
	if e := m.v.Ftruncate(h, limit+1); e != syscall.EFBIG {
		t.Fatalf("truncate past the limit: %v, want EFBIG", e)
	}
	m.ok("close", m.v.Close(h))
	if got := m.read("big", limit-1, 10); string(got) != "z" {
		t.Fatalf("last byte reads %q", got)
	}
	m.unmount()
	if st := debugfs(t, img, "stat /big"); !strings.Contains(st, "Size: 17247252480") {
		t.Fatalf("debugfs stat /big:\n%s", st)
	}
}

// TestContiguous: files appended side by side (as a database appends its
// log and tables) get runs of blocks, not alternating blocks.
func TestContiguous(t *testing.T) {
	img := newImage(t, 1024, "16M")
	m := openRW(t, img, nil)
	var hs []vfs.Handle
	for i := range 4 {
		h, e := m.v.Openat(vfs.AtFDCWD, fmt.Sprintf("/mnt/f%d", i), syscall.O_CREAT|syscall.O_WRONLY|syscall.O_APPEND, 0o644)
		m.ok("open", e)
		hs = append(hs, h)
	}
	rec := make([]byte, 4096)
	for range 100 {
		for _, h := range hs {
			_, e := m.v.Write(h, rec)
			m.ok("write", e)
		}
	}
	for i, h := range hs {
		m.ok("close", m.v.Close(h))
		n, e := m.e.Root().Lookup(fmt.Sprintf("f%d", i))
		m.ok("lookup", e)
		in, _ := m.e.iget(n.(*node).ino)
		runs, prev := 0, uint32(0)
		for lb := range int64(400) {
			pb, e := m.e.bmap(in, lb)
			m.ok("bmap", e)
			if pb != prev+1 {
				runs++
			}
			prev = pb
		}
		if runs > 400/spreadRun+4 {
			t.Errorf("f%d: 400 blocks in %d runs", i, runs)
		}
	}
	m.unmount()
}

// TestConcurrentSync: goroutines write through the VFS while another
// calls Sync on the backend directly (as sync(2) does from outside the
// VFS); run under -race this checks the locking.
func TestConcurrentSync(t *testing.T) {
	img := newImage(t, 1024, "8M")
	m := openRW(t, img, nil)
	done := make(chan bool)
	for w := range 3 {
		go func() {
			defer func() { done <- true }()
			for i := range 30 {
				p := fmt.Sprintf("/mnt/w%d-%d", w, i%5)
				h, e := m.v.Openat(vfs.AtFDCWD, p, syscall.O_CREAT|syscall.O_RDWR, 0o644)
				if e != 0 {
					t.Error(e)
					return
				}
				m.v.Pwrite(h, bytes.Repeat([]byte{byte(i)}, 3000), int64(i)*100)
				if i%7 == 0 {
					m.v.Fsync(h)
				}
				m.v.Close(h)
				if i%5 == 4 {
					m.v.Unlinkat(vfs.AtFDCWD, p, 0)
				}
			}
		}()
	}
	go func() {
		defer func() { done <- true }()
		for range 20 {
			if err := m.e.Sync(); err != nil {
				t.Error(err)
				return
			}
			var st syscall.Statfs_t
			m.v.Statfs("/mnt", &st)
		}
	}()
	for range 4 {
		<-done
	}
	m.unmount()
}
