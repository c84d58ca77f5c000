package ext2

import (
	"bytes"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"

	"github.com/xairrosx/xairrosx/fs/backend"
	"github.com/xairrosx/xairrosx/fs/vfs"
)

// recDev is an in-memory device that records every write and flush, so
// that a test can rebuild what a disk may hold after a power cut at any
// point: everything written before some flush, plus any subset of the
// sectors written after it.
type recDev struct {
	memDev
	mu      sync.Mutex // the writes of a phase come concurrently
	log     []devWrite
	flushes int
}

type devWrite struct {
	off   int64
	data  []byte
	flush bool // a flush marker, not a write
}

func (d *recDev) WriteAt(p []byte, off int64) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.log = append(d.log, devWrite{off: off, data: append([]byte(nil), p...)})
	return d.memDev.WriteAt(p, off)
}

func (d *recDev) Flush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.log = append(d.log, devWrite{flush: true})
	d.flushes++
	return nil
}

// crashImage returns base with the writes before the cut-th flush applied,
// and each 512-byte sector of the writes after it (up to the next flush)
// applied with probability 1/2.
func crashImage(base []byte, log []devWrite, cut int, rng *rand.Rand) memDev {
	img := append(memDev(nil), base...)
	seen := 0
	for _, w := range log {
		if w.flush {
			seen++
			if seen > cut {
				break
			}
			continue
		}
		if seen < cut {
			copy(img[w.off:], w.data)
			continue
		}
		for s := 0; s < len(w.data); s += 512 {
			if rng.IntN(2) == 0 {
				copy(img[w.off+int64(s):], w.data[s:min(len(w.data), s+512)])
			}
		}
	}
	return img
}

// synced is what the workload knew to be durable after a flush count.
type synced struct {
	flushes int
	logLen  int // bytes of "journal" fsync'd
	version int // the "CURRENT" version fsync'd and renamed into place
}

// crashWorkload writes like a database: 4 KiB-ish records appended to a
// journal and fsync'd; a small file replaced by writing a temporary,
// fsyncing it, renaming it over the old one and fsyncing the directory;
// plus unsynced churn (files created, grown, truncated, removed).
func crashWorkload(t *testing.T, v *vfs.FS, d *recDev, rng *rand.Rand) (journal []byte, versions [][]byte, marks []synced) {
	must := func(what string, e syscall.Errno) {
		t.Helper()
		if e != 0 {
			t.Fatalf("%s: %v", what, e)
		}
	}
	if e := v.Mkdirat(vfs.AtFDCWD, "/mnt/db", 0o755); e != 0 {
		t.Fatal(e)
	}
	dir, e := v.Openat(vfs.AtFDCWD, "/mnt/db", syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	must("open dir", e)
	j, e := v.Openat(vfs.AtFDCWD, "/mnt/db/journal", syscall.O_CREAT|syscall.O_WRONLY|syscall.O_APPEND, 0o644)
	must("open journal", e)
	for i := range 40 {
		rec := randBytes(rng, 1000+rng.IntN(5000))
		_, e := v.Write(j, rec)
		must("append", e)
		journal = append(journal, rec...)
		if i%3 != 2 {
			must("fsync", v.Fsync(j))
			marks = append(marks, synced{flushes: d.flushes, logLen: len(journal), version: len(versions) - 1})
		}
		if i%5 == 0 {
			cur := []byte(fmt.Sprintf("MANIFEST-%06d\n", i))
			h, e := v.Openat(vfs.AtFDCWD, "/mnt/db/CURRENT.tmp", syscall.O_CREAT|syscall.O_TRUNC|syscall.O_WRONLY, 0o644)
			must("open tmp", e)
			_, e = v.Write(h, cur)
			must("write tmp", e)
			must("fsync tmp", v.Fsync(h))
			v.Close(h)
			must("rename", v.Renameat(vfs.AtFDCWD, "/mnt/db/CURRENT.tmp", vfs.AtFDCWD, "/mnt/db/CURRENT"))
			versions = append(versions, cur)
			must("fsync dir", v.Fsync(dir))
			marks = append(marks, synced{flushes: d.flushes, logLen: len(journal), version: len(versions) - 1})
		}
		// Unsynced churn in two other directories: files and
		// directories created, grown, truncated, moved and removed.
		for range 2 {
			churn := func() string {
				return fmt.Sprintf("/mnt/churn%d/%c%d", rng.IntN(2), "fd"[rng.IntN(2)], rng.IntN(6))
			}
			name := churn()
			switch rng.IntN(7) {
			case 0:
				v.Mkdirat(vfs.AtFDCWD, fmt.Sprintf("/mnt/churn%d", rng.IntN(2)), 0o755)
			case 1:
				v.Unlinkat(vfs.AtFDCWD, name, 0)
				v.Unlinkat(vfs.AtFDCWD, name, vfs.AtRemoveDir)
			case 2:
				v.Truncate(name, int64(rng.IntN(20000)))
			case 3:
				v.Mkdirat(vfs.AtFDCWD, name, 0o755)
			case 4:
				v.Renameat(vfs.AtFDCWD, name, vfs.AtFDCWD, churn())
			default:
				if h, e := v.Openat(vfs.AtFDCWD, name, syscall.O_CREAT|syscall.O_WRONLY, 0o644); e == 0 {
					v.Pwrite(h, randBytes(rng, rng.IntN(30000)), int64(rng.IntN(300000)))
					v.Close(h)
				}
			}
		}
	}
	v.Close(j)
	v.Close(dir)
	return journal, versions, marks
}

// TestCrash runs the workload on a recording device, then rebuilds the
// disk as a power cut at sampled flushes (with torn writes after them)
// would leave it, mounts it (recovery), checks that every fsync'd byte is
// there, unmounts and checks the image with e2fsck.
func TestCrash(t *testing.T) {
	for _, bs := range []int{1024, 4096} {
		t.Run(fmt.Sprint(bs), func(t *testing.T) {
			base := dirtyImage(t, bs)
			d := &recDev{memDev: append(memDev(nil), base...)}
			e, err := Open(d, Options{ReadWrite: true, CacheBytes: 64 << 10})
			if err != nil {
				t.Fatal(err)
			}
			v := vfs.New()
			if err := v.Mount("/mnt", e); err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(3, uint64(bs)))
			journal, versions, marks := crashWorkload(t, v, d, rng)
			total := d.flushes
			t.Logf("%d writes, %d flushes, %d fsyncs", len(d.log)-total, total, len(marks))
			tmp := filepath.Join(t.TempDir(), "crash.img")
			recovered := 0
			samples := 0
			for cut := 0; cut <= total; cut++ {
				samples++
				img := crashImage(base, d.log, cut, rng)
				got, err := Open(img, Options{ReadWrite: true})
				if err != nil {
					t.Fatalf("cut at flush %d: mount: %v", cut, err)
				}
				if got.Recovered() {
					recovered++
				}
				want := synced{version: -1}
				for _, m := range marks {
					if m.flushes <= cut {
						want = m
					}
				}
				checkCrash(t, cut, got, want, journal, versions)
				if err := got.Unmount(); err != nil {
					t.Fatalf("cut at flush %d: unmount: %v", cut, err)
				}
				if err := os.WriteFile(tmp, img, 0o644); err != nil {
					t.Fatal(err)
				}
				fsck(t, tmp)
			}
			if recovered < samples/2 {
				t.Fatalf("only %d of %d crash images needed recovery", recovered, samples)
			}
			t.Logf("%d cut points checked, %d recovered", samples, recovered)
		})
	}
}

// dirtyImage returns a fresh image whose free blocks hold 0xEE bytes and
// whose free inodes held files, so that a block or inode used before it
// was written shows up as garbage rather than zeros.
func dirtyImage(t *testing.T, bs int) memDev {
	img := newImage(t, bs, "8M")
	m := openRW(t, img, nil)
	var st syscall.Statfs_t
	m.ok("statfs", m.v.Statfs("/mnt", &st))
	fill := bytes.Repeat([]byte{0xEE}, int(st.Bfree-150-st.Bfree/100)*bs)
	m.write("fill", 0, fill)
	for i := range 100 {
		m.write(fmt.Sprintf("f%d", i), 0, []byte("x"))
	}
	m.unmount()
	m = openRW(t, img, nil)
	m.ok("unlink", m.v.Unlinkat(vfs.AtFDCWD, "/mnt/fill", 0))
	for i := range 100 {
		m.ok("unlink", m.v.Unlinkat(vfs.AtFDCWD, fmt.Sprintf("/mnt/f%d", i), 0))
	}
	m.unmount()
	b, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkCrash checks the durable state of the workload on a mounted crash
// image: the journal holds at least the fsync'd bytes and nothing but
// what was written (or zeros past the synced part); CURRENT is a complete version no older than the last
// one synced.
func checkCrash(t *testing.T, cut int, f *FS, want synced, journal []byte, versions [][]byte) {
	t.Helper()
	v := vfs.New()
	if err := v.Mount("/mnt", f); err != nil {
		t.Fatal(err)
	}
	fsys := vfs.IOFS(v, "/mnt")
	jb, err := fs.ReadFile(fsys, "db/journal")
	if want.logLen > 0 && err != nil {
		t.Fatalf("cut at flush %d: journal: %v (want %d bytes)", cut, err, want.logLen)
	}
	// Past the synced length, a cut between an inode (new size) and an
	// indirect block (new pointer) may leave a hole: zeros, never other
	// bytes.
	if len(jb) < want.logLen || len(jb) > len(journal) || !bytes.Equal(jb[:want.logLen], journal[:want.logLen]) {
		t.Fatalf("cut at flush %d: journal has %d bytes, %d synced, synced part matches: %v",
			cut, len(jb), want.logLen, len(jb) >= want.logLen && bytes.Equal(jb[:want.logLen], journal[:want.logLen]))
	}
	for i := want.logLen; i < len(jb); i++ {
		if jb[i] != journal[i] && jb[i] != 0 {
			t.Fatalf("cut at flush %d: journal byte %d (past the %d synced) is %#x, want %#x or 0", cut, i, want.logLen, jb[i], journal[i])
		}
	}
	cur, err := fs.ReadFile(fsys, "db/CURRENT")
	if want.version >= 0 && err != nil {
		t.Fatalf("cut at flush %d: CURRENT: %v (want version %d)", cut, err, want.version)
	}
	if err == nil {
		found := -1
		for i, ver := range versions {
			if bytes.Equal(cur, ver) {
				found = i
			}
		}
		if found < want.version {
			t.Fatalf("cut at flush %d: CURRENT = %q, want version %d (%q) or later", cut, cur, want.version, versions[want.version])
		}
	}
}

// TestCrashRegrow checks the fsync that writes data and size in one phase
// (no block allocated: FS.mergeable) on a file whose last block held more
// than its size: shrunk, then grown again in the same epoch (by truncate
// or by a write past the end), and
// preallocated blocks filled by appends. Every epoch ends with an fsync
// and makes the file longer, so after a cut the size tells which version
// the inode on the device is; each byte must be that version's or zero
// (a sector not written yet), never a shrunk-away byte of an older one in
// the part of the last block that the shrink kept. (In blocks the shrink
// freed, an inode torn from an older indirect block of the same phase may
// still point to the old block: old bytes of the same file, as before
// the merge - docs/ext2.md.)
func TestCrashRegrow(t *testing.T) {
	for _, bs := range []int{1024, 4096} {
		t.Run(fmt.Sprint(bs), func(t *testing.T) {
			base := dirtyImage(t, bs)
			d := &recDev{memDev: append(memDev(nil), base...)}
			e, err := Open(d, Options{ReadWrite: true})
			if err != nil {
				t.Fatal(err)
			}
			n, h := createOpen(t, e, "f")
			must := func(what string, errno syscall.Errno) {
				t.Helper()
				if errno != 0 {
					t.Fatalf("%s: %v", what, errno)
				}
			}
			var model []byte // the file's contents
			write := func(b []byte, off int64) {
				t.Helper()
				_, errno := h.WriteAt(b, off)
				must("write", errno)
				if end := int(off) + len(b); end > len(model) {
					model = append(model, make([]byte, end-len(model))...)
				}
				copy(model[off:], b)
			}
			// versions[k] is the file as the k-th fsync left it, synced
			// at flush count flushes[k].
			var versions [][]byte
			var flushes []int
			freed := []int{} // where the blocks the epoch of a version freed begin
			shrunk := math.MaxInt
			sync := func() {
				t.Helper()
				must("fsync", n.Sync())
				versions = append(versions, append([]byte(nil), model...))
				flushes = append(flushes, d.flushes)
				freed = append(freed, shrunk)
				shrunk = math.MaxInt
			}
			write(bytes.Repeat([]byte{0xAA}, 3*bs-100), 0)
			if err := e.Sync(); err != nil {
				t.Fatal(err)
			}
			sync()
			rng := rand.New(rand.NewPCG(7, uint64(bs)))
			for round := range 6 {
				// Shrink into a block, then grow past the old size.
				size := len(model)
				cut := size - bs - rng.IntN(bs)
				must("truncate", n.Truncate(int64(cut)))
				model = model[:cut]
				shrunk = (cut + bs - 1) / bs * bs
				if round%2 == 0 {
					// A hole: no block allocated, so data and size
					// may go in one phase.
					grow := size + rng.IntN(bs)
					must("truncate", n.Truncate(int64(grow)))
					model = append(model, make([]byte, grow-cut)...)
				} else {
					write([]byte{byte(0x10 + round)}, int64(size+rng.IntN(bs)))
				}
				sync()
				// Appends into the preallocated blocks.
				for range 3 {
					write(bytes.Repeat([]byte{byte(0x40 + round)}, bs/3+rng.IntN(bs)), int64(len(model)))
					sync()
				}
			}
			h.Release()
			t.Logf("%d writes, %d flushes, %d fsyncs", len(d.log)-d.flushes, d.flushes, len(versions))
			for cut := flushes[0]; cut <= d.flushes; cut++ {
				for try := range 4 {
					img := crashImage(base, d.log, cut, rand.New(rand.NewPCG(uint64(cut), uint64(try))))
					got, err := Open(img, Options{ReadWrite: true})
					if err != nil {
						t.Fatalf("cut at flush %d: mount: %v", cut, err)
					}
					b, err := fs.ReadFile(vfsOf(t, got), "f")
					if err != nil {
						t.Fatalf("cut at flush %d: %v", cut, err)
					}
					last := 0 // the last version synced at the cut
					for k, fl := range flushes {
						if fl <= cut {
							last = k
						}
					}
					k := slices.IndexFunc(versions, func(v []byte) bool { return len(v) == len(b) })
					if k != last && k != last+1 {
						t.Fatalf("cut at flush %d: %d bytes, the size of neither version %d (synced) nor the next", cut, len(b), last)
					}
					older := func(i int, c byte) bool {
						for _, v := range versions[:k] {
							if i < len(v) && v[i] == c {
								return true
							}
						}
						return false
					}
					for i, c := range b {
						if c != versions[k][i] && c != 0 && !(i >= freed[k] && older(i, c)) {
							t.Fatalf("cut at flush %d: byte %d of version %d is %#x, want %#x or 0", cut, i, k, c, versions[k][i])
						}
					}
					if err := got.Unmount(); err != nil {
						t.Fatal(err)
					}
				}
			}
		})
	}
}

// vfsOf mounts f in a fresh VFS and returns it as an fs.FS.
func vfsOf(t *testing.T, f *FS) fs.FS {
	v := vfs.New()
	if err := v.Mount("/mnt", f); err != nil {
		t.Fatal(err)
	}
	return vfs.IOFS(v, "/mnt")
}

// createOpen creates the file name in the root of f and opens it for
// reading and writing.
func createOpen(t testing.TB, f *FS, name string) (backend.Node, backend.File) {
	t.Helper()
	n, e := f.Root().Create(name, 0o644)
	if e != 0 {
		t.Fatalf("create %s: %v", name, e)
	}
	h, e := n.Open(os.O_RDWR)
	if e != 0 {
		t.Fatalf("open %s: %v", name, e)
	}
	return n, h
}
