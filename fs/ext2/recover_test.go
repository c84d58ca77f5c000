package ext2

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/xairrosx/xairrosx/fs/vfs"
)

// setState writes s_state of the image file (0: not cleanly unmounted).
func setState(t *testing.T, img string, state uint16) {
	t.Helper()
	f, err := os.OpenFile(img, os.O_RDWR, 0)
	must(t, err)
	defer f.Close()
	var b [2]byte
	binary.LittleEndian.PutUint16(b[:], state)
	_, err = f.WriteAt(b[:], superOff+58)
	must(t, err)
}

// bitmaps returns the block and inode bitmap blocks of every group.
func bitmaps(t *testing.T, img string) []byte {
	t.Helper()
	b, err := os.ReadFile(img)
	must(t, err)
	f, err := Mount(memDev(b))
	must(t, err)
	var out []byte
	for _, g := range f.groups {
		for _, blk := range []uint32{g.blockBitmap, g.inodeBitmap} {
			out = append(out, b[int64(blk)*f.bs:int64(blk+1)*f.bs]...)
		}
	}
	return out
}

// TestRecoveryIdentity runs recovery on consistent mkfs.ext2 images (a
// full tree, 1 and 4 KiB blocks, revision 0) marked not clean: it must
// rebuild exactly the bitmaps mkfs.ext2 wrote and change no file.
func TestRecoveryIdentity(t *testing.T) {
	for _, c := range []struct {
		bs    int
		extra []string
	}{{1024, nil}, {4096, nil}, {1024, []string{"-r", "0"}}, {1024, []string{"-O", "^sparse_super,^resize_inode"}}} {
		t.Run(fmt.Sprint(c.bs, c.extra), func(t *testing.T) {
			src := buildTree(t, c.bs)
			img := mkfs(t, src, c.bs, c.extra...)
			want := bitmaps(t, img)
			setState(t, img, 0)
			m := openRW(t, img, nil)
			if !m.e.Recovered() {
				t.Fatal("no recovery on an image marked not clean")
			}
			compareTree(t, src, vfs.IOFS(m.v, "/mnt"))
			m.unmount()
			if got := bitmaps(t, img); !bytes.Equal(got, want) {
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("bitmaps differ from mkfs.ext2's at byte %d: %#x, want %#x", i, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestRecoveryRepairs damages what recovery rebuilds (with debugfs on an
// image left not clean): link counts, bitmaps, free counts, a directory
// entry's file type, an orphan inode; the mount must repair all of it.
func TestRecoveryRepairs(t *testing.T) {
	img := newImage(t, 1024, "8M")
	m := openRW(t, img, nil)
	m.write("a", 0, bytes.Repeat([]byte("a"), 5000))
	m.ok("mkdir", m.v.Mkdirat(vfs.AtFDCWD, "/mnt/d", 0o755))
	m.write("d/b", 0, []byte("b"))
	m.write("orphan", 0, bytes.Repeat([]byte("o"), 3000))
	m.ok("link", m.v.Linkat(vfs.AtFDCWD, "/mnt/a", vfs.AtFDCWD, "/mnt/d/a2", 0))
	m.unmount()
	orphan := strings.Fields(debugfs(t, img, "stat /orphan"))[1]
	for _, req := range []string{
		"sif /a links_count 7",
		"sif /d links_count 9",
		"freeb 300 200",
		"setb 3000 100",
		"freei /d/b",
		"unlink /orphan",
		"ssv free_blocks_count 12",
		"ssv state 0",
	} {
		if out, err := exec.Command(tool(t, "debugfs"), "-w", "-R", req, img).CombinedOutput(); err != nil {
			t.Fatalf("debugfs -w -R %q: %v\n%s", req, err, out)
		}
	}
	if out, err := exec.Command(tool(t, "e2fsck"), "-fn", img).CombinedOutput(); err == nil {
		t.Fatalf("e2fsck finds the damaged image clean:\n%s", out)
	}
	m = openRW(t, img, nil)
	if !m.e.Recovered() {
		t.Fatal("no recovery")
	}
	var st syscall.Stat_t
	m.ok("stat", m.v.Fstatat(vfs.AtFDCWD, "/mnt/a", &st, 0))
	if st.Nlink != 2 || st.Size != 5000 {
		t.Fatalf("a: nlink %d size %d after recovery", st.Nlink, st.Size)
	}
	m.ok("stat", m.v.Fstatat(vfs.AtFDCWD, "/mnt/d", &st, 0))
	if st.Nlink != 2 {
		t.Fatalf("d: nlink %d after recovery", st.Nlink)
	}
	if got := m.read("d/b", 0, 10); string(got) != "b" {
		t.Fatalf("d/b = %q", got)
	}
	m.unmount()
	if out := debugfs(t, img, "testi <"+orphan+">"); !strings.Contains(out, "not in use") {
		t.Fatalf("the orphan inode %s is still in use: %s", orphan, out)
	}
}

// TestRecoveryRefuses: damage recovery cannot explain is refused at mount
// with a message, never guessed at.
func TestRecoveryRefuses(t *testing.T) {
	img := newImage(t, 1024, "4M")
	m := openRW(t, img, nil)
	m.write("x", 0, bytes.Repeat([]byte("x"), 3000))
	m.write("y", 0, bytes.Repeat([]byte("y"), 3000))
	m.unmount()
	b, err := os.ReadFile(img)
	must(t, err)
	f, err := Mount(memDev(b))
	must(t, err)
	root, _ := f.iget(rootIno)
	rootBlk, _ := f.bmap(root, 0)
	x, _ := f.Root().Lookup("x")
	y, _ := f.Root().Lookup("y")
	xi, _ := f.iget(x.(*node).ino)
	yi, _ := f.iget(y.(*node).ino)
	xb, yb := xi.block[0], yi.block[0]
	inodeOff := func(ino uint32) int64 {
		blk, off := f.inodePos(ino)
		return int64(blk)*f.bs + off
	}
	for _, c := range []struct {
		name string
		off  int64
		val  []byte
		want string
	}{
		{"rec_len", int64(rootBlk)*f.bs + 4, []byte{3, 0}, "directory inode 2 is malformed"},
		{"twice", inodeOff(yi.ino) + 40, binary.LittleEndian.AppendUint32(nil, xb), "claimed twice"},
		{"range", inodeOff(yi.ino) + 44, binary.LittleEndian.AppendUint32(nil, 1<<30), "outside the file system"},
	} {
		d := append(memDev(nil), b...)
		copy(d[c.off:], c.val)
		binary.LittleEndian.PutUint16(d[superOff+58:], 0)
		_, err := Open(d, Options{ReadWrite: true})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Open error %v, want one containing %q", c.name, err, c.want)
		}
	}
	_ = yb
}

// TestENOSPC fills a tiny file system: writes stop with a short count or
// ENOSPC, creating fails with ENOSPC when blocks or inodes run out,
// nothing written before is damaged, e2fsck finds it clean, and removing
// files makes room again.
func TestENOSPC(t *testing.T) {
	for _, c := range []struct {
		bs, inodes, chunk int
		out               string // what runs out
	}{{1024, 256, 20000, "blocks"}, {4096, 256, 20000, "blocks"}, {1024, 32, 10, "inodes"}, {4096, 32, 10, "inodes"}} {
		t.Run(fmt.Sprint(c.bs, c.out), func(t *testing.T) {
			bs := c.bs
			img := newImage(t, bs, "1M", "-N", fmt.Sprint(c.inodes))
			m := openRW(t, img, nil)
			keep := bytes.Repeat([]byte("keep"), 5000)
			m.write("keep", 0, keep)
			chunk := bytes.Repeat([]byte{0x5A}, c.chunk)
			var full syscall.Errno
			files := 0
		fill:
			for i := 0; ; i++ {
				h, e := m.v.Openat(vfs.AtFDCWD, fmt.Sprintf("/mnt/f%d", i), syscall.O_CREAT|syscall.O_WRONLY, 0o644)
				if e != 0 {
					full = e
					break
				}
				files++
				for j := 0; j < 1000; j++ {
					n, e := m.v.Write(h, chunk)
					if e != 0 || n < len(chunk) {
						m.v.Close(h)
						if e != 0 && e != syscall.ENOSPC {
							t.Fatalf("write: %v", e)
						}
						continue fill
					}
					if c.out == "inodes" {
						break
					}
				}
				m.v.Close(h)
			}
			if full != syscall.ENOSPC {
				t.Fatalf("creating on a full file system: %v, want ENOSPC", full)
			}
			var st syscall.Statfs_t
			m.ok("statfs", m.v.Statfs("/mnt", &st))
			if c.out == "blocks" && st.Bfree > 3 || c.out == "inodes" && (st.Ffree > 0 || st.Bfree < 10) {
				t.Fatalf("want %s to run out: %d blocks and %d inodes free", c.out, st.Bfree, st.Ffree)
			}
			t.Logf("full after %d files: %d blocks and %d inodes free", files, st.Bfree, st.Ffree)
			if e := m.v.Mkdirat(vfs.AtFDCWD, "/mnt/newdir", 0o755); e != syscall.ENOSPC {
				t.Fatalf("mkdir on a full file system: %v", e)
			}
			if got := m.read("keep", 0, len(keep)+1); !bytes.Equal(got, keep) {
				t.Fatal("keep damaged")
			}
			// Removing files makes room (their blocks are freed by the
			// checkpoint the allocator forces).
			for i := range files {
				m.ok("unlink", m.v.Unlinkat(vfs.AtFDCWD, fmt.Sprintf("/mnt/f%d", i), 0))
			}
			m.write("after", 0, chunk)
			m.ok("mkdir", m.v.Mkdirat(vfs.AtFDCWD, "/mnt/newdir", 0o755))
			m.unmount()
			m = openRW(t, img, nil)
			if got := m.read("keep", 0, len(keep)+1); !bytes.Equal(got, keep) {
				t.Fatal("keep damaged after remount")
			}
			m.unmount()
		})
	}
}

// TestLevelDBOperations exercises what goleveldb does to its files: O_APPEND
// writes, reads at offsets, flock, truncate, fsync of files and of the
// directory, rename over an existing file, removal of open files.
func TestLevelDBOperations(t *testing.T) {
	img := newImage(t, 4096, "8M")
	m := openRW(t, img, nil)
	v := m.v
	m.ok("mkdir", v.Mkdirat(vfs.AtFDCWD, "/mnt/db", 0o755))
	lock, e := v.Openat(vfs.AtFDCWD, "/mnt/db/LOCK", syscall.O_CREAT|syscall.O_RDWR, 0o644)
	m.ok("open LOCK", e)
	m.ok("flock", v.Flock(lock, vfs.LockEX|vfs.LockNB))
	other, e := v.Openat(vfs.AtFDCWD, "/mnt/db/LOCK", syscall.O_RDWR, 0)
	m.ok("open LOCK", e)
	if e := v.Flock(other, vfs.LockEX|vfs.LockNB); e != syscall.EWOULDBLOCK {
		t.Fatalf("second flock: %v", e)
	}
	log, e := v.Openat(vfs.AtFDCWD, "/mnt/db/000001.log", syscall.O_CREAT|syscall.O_WRONLY|syscall.O_APPEND, 0o644)
	m.ok("open log", e)
	var want []byte
	for i := range 100 {
		rec := bytes.Repeat([]byte{byte(i)}, 100+i*37)
		_, e := v.Write(log, rec)
		m.ok("append", e)
		want = append(want, rec...)
		if i%10 == 0 {
			m.ok("fsync", v.Fsync(log))
		}
	}
	if got := m.read("db/000001.log", 1234, 5000); !bytes.Equal(got, want[1234:6234]) {
		t.Fatal("read at offset differs")
	}
	m.ok("truncate", v.Ftruncate(log, 3000))
	m.ok("close", v.Close(log))
	for _, ver := range []string{"MANIFEST-000002\n", "MANIFEST-000005\n"} {
		h, e := v.Openat(vfs.AtFDCWD, "/mnt/db/CURRENT.tmp", syscall.O_CREAT|syscall.O_TRUNC|syscall.O_WRONLY, 0o644)
		m.ok("open", e)
		_, e = v.Write(h, []byte(ver))
		m.ok("write", e)
		m.ok("fsync", v.Fsync(h))
		m.ok("close", v.Close(h))
		m.ok("rename", v.Renameat(vfs.AtFDCWD, "/mnt/db/CURRENT.tmp", vfs.AtFDCWD, "/mnt/db/CURRENT"))
		d, e := v.Openat(vfs.AtFDCWD, "/mnt/db", syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
		m.ok("open dir", e)
		m.ok("fsync dir", v.Fsync(d))
		m.ok("close", v.Close(d))
	}
	r, e := v.Openat(vfs.AtFDCWD, "/mnt/db/000001.log", syscall.O_RDONLY, 0)
	m.ok("open", e)
	m.ok("unlink open", v.Unlinkat(vfs.AtFDCWD, "/mnt/db/000001.log", 0))
	buf := make([]byte, 4000)
	if n, _ := v.Pread(r, buf, 0); n != 3000 || !bytes.Equal(buf[:n], want[:3000]) {
		t.Fatalf("removed open file reads %d bytes", n)
	}
	m.ok("close", v.Close(r))
	m.ok("close", v.Close(lock))
	m.ok("close", v.Close(other))
	m.unmount()
	if got := debugfs(t, img, "cat /db/CURRENT"); got != "MANIFEST-000005\n" {
		t.Fatalf("CURRENT = %q", got)
	}
	if ls := debugfs(t, img, "ls /db"); strings.Contains(ls, "000001.log") || strings.Contains(ls, "CURRENT.tmp") {
		t.Fatalf("ls /db:\n%s", ls)
	}
}

// TestUnmounted: after Unmount every call fails cleanly.
func TestUnmounted(t *testing.T) {
	img := newImage(t, 1024, "2M")
	m := openRW(t, img, nil)
	root := m.e.Root()
	m.unmount()
	if _, e := root.Create("x", 0o644); e != syscall.EIO {
		t.Fatalf("Create after Unmount: %v", e)
	}
	if err := m.e.Sync(); !errors.Is(err, ErrUnmounted) {
		t.Fatalf("Sync after Unmount: %v", err)
	}
}

// failDev fails every write and flush while broken is set.
type failDev struct {
	memDev
	broken bool
}

func (d *failDev) WriteAt(p []byte, off int64) (int, error) {
	if d.broken {
		return 0, errors.New("injected write error")
	}
	return d.memDev.WriteAt(p, off)
}

func (d *failDev) Flush() error {
	if d.broken {
		return errors.New("injected flush error")
	}
	return nil
}

// TestDeviceErrors: while the device fails, fsync and Sync report EIO and
// nothing panics; once it works again the next Sync writes what was left,
// and the image is clean after Unmount.
func TestDeviceErrors(t *testing.T) {
	img := newImage(t, 1024, "4M")
	b, err := os.ReadFile(img)
	must(t, err)
	d := &failDev{memDev: b}
	e, err := Open(d, Options{ReadWrite: true, CacheBytes: 8 << 10})
	must(t, err)
	v := vfs.New()
	must(t, v.Mount("/mnt", e))
	h, errno := v.Openat(vfs.AtFDCWD, "/mnt/f", syscall.O_CREAT|syscall.O_RDWR, 0o644)
	if errno != 0 {
		t.Fatal(errno)
	}
	d.broken = true
	data := bytes.Repeat([]byte("data"), 10000) // past the cache bound: checkpoints fail inside the write
	if n, errno := v.Pwrite(h, data, 0); errno != 0 && errno != syscall.EIO || n == 0 {
		t.Fatalf("write on a failing device: %d, %v", n, errno)
	}
	if errno := v.Fsync(h); errno != syscall.EIO {
		t.Fatalf("fsync on a failing device: %v, want EIO", errno)
	}
	v.Mkdirat(vfs.AtFDCWD, "/mnt/d", 0o755)
	v.Unlinkat(vfs.AtFDCWD, "/mnt/f", 0)
	if err := e.Unmount(); err == nil {
		t.Fatal("Unmount on a failing device succeeded")
	}
	d.broken = false
	if err := e.Sync(); err != nil {
		t.Fatal(err)
	}
	v.Close(h)
	if err := e.Unmount(); err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(img, d.memDev, 0o644))
	fsck(t, img)
	ro, err := Mount(d.memDev)
	must(t, err)
	if c, errno := ro.Root().Lookup("d"); errno != 0 || c.Attr().Mode&syscall.S_IFMT != syscall.S_IFDIR {
		t.Fatalf("d after the device recovered: %v", errno)
	}
	if _, errno := ro.Root().Lookup("f"); errno != syscall.ENOENT {
		t.Fatalf("f after the device recovered: %v, want ENOENT", errno)
	}
}

// TestCorruptPointerLoops: removing a file whose double-indirect block
// points at one indirect block from every slot, and at itself, frees each
// block once (no quadratic or looping walk, no double free).
func TestCorruptPointerLoops(t *testing.T) {
	img := newImage(t, 1024, "4M")
	m := openRW(t, img, nil)
	p := 256
	m.write("big", 0, make([]byte, (12+p+2*p)*1024))
	m.unmount()
	b, err := os.ReadFile(img)
	must(t, err)
	ro, err := Mount(memDev(b))
	must(t, err)
	n, e := ro.Root().Lookup("big")
	if e != 0 {
		t.Fatal(e)
	}
	in, _ := ro.iget(n.(*node).ino)
	dind := int64(in.block[13]) * 1024
	first := binary.LittleEndian.Uint32(b[dind:])
	for i := 1; i < p; i++ {
		binary.LittleEndian.PutUint32(b[dind+int64(4*i):], first)
	}
	binary.LittleEndian.PutUint32(b[dind+4:], in.block[13]) // and itself
	f, err := Open(memDev(b), Options{ReadWrite: true})
	must(t, err)
	if e := f.Root().Remove("big"); e != 0 {
		t.Fatal(e)
	}
	seen := map[uint32]bool{}
	for _, blk := range f.c.pendBlocks {
		if seen[blk] {
			t.Fatalf("block %d freed twice", blk)
		}
		seen[blk] = true
	}
	if len(seen) > 12+1+p+1+1+p {
		t.Fatalf("%d blocks freed", len(seen))
	}
	if err := f.Unmount(); err != nil {
		t.Fatal(err)
	}
}
