package vfs

import (
	"encoding/binary"
	"strings"
	"syscall"
	"testing"

	"github.com/xairrosx/xairrosx/fs/tmpfs"
)

// fuzzLimit is the size limit of the tmpfs the fuzzer mounts at /m.
const fuzzLimit = 16 * tmpfs.PageSize

// pathPool holds the components fuzzed paths are made of.
var pathPool = [8]string{"a", "b", "..", ".", "m", "l", "c", ""}

// fuzzPath makes a path of 1 to 4 components from two bytes.
func fuzzPath(x, y byte) string {
	v := uint16(x)<<8 | uint16(y)
	n := int(v&3) + 1
	var parts []string
	for i := 0; i < n; i++ {
		parts = append(parts, pathPool[(v>>(2+3*i))&7])
	}
	p := strings.Join(parts, "/")
	if v&0x8000 != 0 {
		p = "/" + p
	}
	return p
}

var fuzzFlags = []int{syscall.O_CREAT, syscall.O_EXCL, syscall.O_TRUNC, syscall.O_APPEND,
	syscall.O_DIRECTORY, syscall.O_NOFOLLOW, syscall.O_NONBLOCK}

// fuzzMachine runs fuzzed operation sequences on one FS.
type fuzzMachine struct {
	t       *testing.T
	f       *FS
	tmp     *tmpfs.FS
	handles []Handle
}

func (m *fuzzMachine) handle(b byte) Handle {
	if len(m.handles) == 0 || b == 255 {
		return Handle(b) // mostly invalid handles
	}
	return m.handles[int(b)%len(m.handles)]
}

func (m *fuzzMachine) keep(h Handle, e syscall.Errno) {
	if e == 0 {
		m.handles = append(m.handles, h)
	}
}

// step runs one operation given by 5 bytes.
func (m *fuzzMachine) step(op, x, y, z, w byte) {
	f := m.f
	p, q := fuzzPath(x, y), fuzzPath(z, w)
	h := m.handle(x)
	buf := make([]byte, int(z)*37)
	for i := range buf {
		buf[i] = byte(i) ^ w
	}
	var st syscall.Stat_t
	switch op % 20 {
	case 0:
		f.Mkdirat(AtFDCWD, p, uint32(z)<<1)
	case 1:
		fl := int(w) & 3
		for i, b := range fuzzFlags {
			if z>>i&1 != 0 {
				fl |= b
			}
		}
		m.keep(f.Openat(AtFDCWD, p, fl, 0o644))
	case 2:
		f.Write(h, buf)
	case 3:
		f.Pwrite(h, buf, int64(w)<<9)
	case 4:
		f.Read(h, buf)
	case 5:
		f.Pread(h, buf, int64(w)<<8)
	case 6:
		f.Ftruncate(h, int64(z)*int64(w)*3)
	case 7:
		f.Unlinkat(AtFDCWD, p, 0)
	case 8:
		f.Unlinkat(AtFDCWD, p, AtRemoveDir)
	case 9:
		f.Renameat(AtFDCWD, p, AtFDCWD, q)
	case 10:
		f.Linkat(AtFDCWD, p, AtFDCWD, q, 0)
	case 11:
		f.Symlinkat(p, AtFDCWD, q)
	case 12:
		if len(m.handles) > 0 {
			i := int(x) % len(m.handles)
			f.Close(m.handles[i])
			m.handles = append(m.handles[:i], m.handles[i+1:]...)
		}
	case 13:
		m.keep(f.Dup(h))
	case 14:
		f.Chdir(p)
	case 15:
		f.Getdents64(h, buf)
	case 16:
		f.Seek(h, int64(int8(w))*100, int(z)%5)
	case 17:
		f.Flock(h, int(z)%16|LockNB) // a blocking lock held by this program would never be released
	case 18:
		f.Fstatat(AtFDCWD, p, &st, int(z&1)*AtSymlinkNofollow)
		f.Readlinkat(AtFDCWD, p, buf[:min(len(buf), 10)])
		f.Access(AtFDCWD, p, uint32(w)&7, 0)
	case 19:
		if r, wr, e := f.Pipe2(syscall.O_NONBLOCK); e == 0 {
			m.handles = append(m.handles, r, wr)
		}
	}
}

type fileKey struct{ dev, ino uint64 }

// check verifies the invariants of the whole tree through the public API:
// "." and ".." entries, directory and file link counts, file sizes, the
// tmpfs space accounting, getcwd, and that ".." at the root stays there.
func (m *fuzzMachine) check() {
	t, f := m.t, m.f
	var root, up syscall.Stat_t
	if e := f.Fstatat(AtFDCWD, "/", &root, 0); e != 0 {
		t.Fatalf("stat /: %v", e)
	}
	if e := f.Fstatat(AtFDCWD, "/../..", &up, 0); e != 0 || up.Ino != root.Ino || up.Dev != root.Dev {
		t.Fatalf("/../.. is not /: %v", e)
	}
	names := map[fileKey]int{}
	nlink := map[fileKey]uint64{}
	blocks := map[fileKey]int64{}
	seenDir := map[fileKey]bool{}
	var walk func(path string, parentIno uint64)
	walk = func(path string, parentIno uint64) {
		h, e := f.Openat(AtFDCWD, path, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
		if e != 0 {
			t.Fatalf("open dir %s: %v", path, e)
		}
		defer f.Close(h)
		var dst syscall.Stat_t
		f.Fstat(h, &dst)
		k := fileKey{dst.Dev, dst.Ino}
		if seenDir[k] {
			t.Fatalf("directory %s reached twice (cycle)", path)
		}
		seenDir[k] = true
		buf := make([]byte, 100)
		seen := map[string]bool{}
		subdirs := uint64(0)
		for {
			n, e := f.Getdents64(h, buf)
			if e != 0 {
				t.Fatalf("getdents %s: %v", path, e)
			}
			if n == 0 {
				break
			}
			for off := 0; off < n; {
				reclen := int(binary.LittleEndian.Uint16(buf[off+16:]))
				dino := binary.LittleEndian.Uint64(buf[off:])
				name := strings.TrimRight(string(buf[off+19:off+reclen]), "\x00")
				typ := buf[off+18]
				off += reclen
				if seen[name] {
					t.Fatalf("%s: entry %q listed twice", path, name)
				}
				seen[name] = true
				switch name {
				case ".":
					if dino != dst.Ino {
						t.Fatalf("%s: . has ino %d, dir is %d", path, dino, dst.Ino)
					}
					continue
				case "..":
					if dino != parentIno {
						t.Fatalf("%s: .. has ino %d, parent is %d", path, dino, parentIno)
					}
					continue
				}
				child := path + "/" + name
				if path == "/" {
					child = "/" + name
				}
				var st syscall.Stat_t
				if e := f.Fstatat(AtFDCWD, child, &st, AtSymlinkNofollow); e != 0 {
					t.Fatalf("lstat %s: %v", child, e)
				}
				if uint32(typ) != st.Mode>>12&15 {
					t.Fatalf("%s: d_type %d, mode %o", child, typ, st.Mode)
				}
				if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
					subdirs++
					walk(child, dst.Ino)
					continue
				}
				ck := fileKey{st.Dev, st.Ino}
				names[ck]++
				nlink[ck] = st.Nlink
				blocks[ck] = st.Blocks
				if st.Mode&syscall.S_IFMT == syscall.S_IFREG {
					m.checkSize(child, st.Size)
				}
			}
		}
		if !seen["."] || !seen[".."] {
			t.Fatalf("%s: . or .. missing", path)
		}
		if dst.Nlink != 2+subdirs {
			t.Fatalf("%s: nlink %d with %d subdirectories", path, dst.Nlink, subdirs)
		}
	}
	walk("/", root.Ino)
	var used int64
	var tmpDev uint64
	var mst syscall.Stat_t
	if e := f.Fstatat(AtFDCWD, "/m", &mst, AtSymlinkNofollow); e == 0 {
		tmpDev = mst.Dev
	}
	for k, n := range names {
		if uint64(n) != nlink[k] {
			t.Fatalf("inode %d: %d names, nlink %d", k.ino, n, nlink[k])
		}
		if k.dev == tmpDev {
			used += blocks[k] * 512
		}
	}
	// Open files with no name left still hold their pages.
	counted := map[fileKey]bool{}
	for _, h := range m.handles {
		var st syscall.Stat_t
		if f.Fstat(h, &st) == 0 && st.Nlink == 0 && st.Dev == tmpDev && !counted[fileKey{st.Dev, st.Ino}] {
			counted[fileKey{st.Dev, st.Ino}] = true
			used += st.Blocks * 512
		}
	}
	if m.tmp.Used() != used || used > fuzzLimit {
		t.Fatalf("tmpfs used %d, files hold %d, limit %d", m.tmp.Used(), used, fuzzLimit)
	}
	if wd, e := f.Getcwd(); e == 0 {
		var a, b syscall.Stat_t
		if e1, e2 := f.Fstatat(AtFDCWD, wd, &a, 0), f.Fstatat(AtFDCWD, ".", &b, 0); e1 != 0 || e2 != 0 || a.Ino != b.Ino || a.Dev != b.Dev {
			t.Fatalf("getcwd %q does not name the cwd (%v %v)", wd, e1, e2)
		}
	} else if e != syscall.ENOENT {
		t.Fatalf("getcwd: %v", e)
	}
}

// checkSize reads the byte before the end and the end of a file.
func (m *fuzzMachine) checkSize(path string, size int64) {
	h, e := m.f.Openat(AtFDCWD, path, syscall.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if e != 0 {
		m.t.Fatalf("open %s: %v", path, e)
	}
	defer m.f.Close(h)
	b := make([]byte, 2)
	if size > 0 {
		if n, e := m.f.Pread(h, b, size-1); n != 1 || e != 0 {
			m.t.Fatalf("%s: size %d but pread at %d gives %d, %v", path, size, size-1, n, e)
		}
	}
	if n, e := m.f.Pread(h, b, size); n != 0 || e != 0 {
		m.t.Fatalf("%s: data past size %d", path, size)
	}
}

func runFuzzProgram(t *testing.T, prog []byte) {
	f := New()
	tmp := tmpfs.New(tmpfs.Options{SizeLimit: fuzzLimit})
	if err := f.Mount("/m", tmp); err != nil {
		t.Fatal(err)
	}
	m := &fuzzMachine{t: t, f: f, tmp: tmp}
	for i := 0; len(prog) >= 5 && i < 400; i++ {
		m.step(prog[0], prog[1], prog[2], prog[3], prog[4])
		prog = prog[5:]
		if i%16 == 15 {
			m.check()
		}
	}
	m.check()
	for _, h := range m.handles {
		f.Close(h)
	}
	if n := f.OpenHandles(); n != 0 {
		t.Fatalf("%d handles left after closing all", n)
	}
	if tmp.Used() > fuzzLimit {
		t.Fatalf("tmpfs over its limit: %d", tmp.Used())
	}
}

// FuzzOps runs random operation sequences and checks the invariants.
// Seeds are in testdata/fuzz/FuzzOps; run with
// go test -run '^$' -fuzz FuzzOps ./fs/vfs
func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 0x80, 0x04, 0, 0, 1, 0x80, 0x08, 0x01, 0x02, 2, 0, 0, 200, 7})
	f.Add([]byte{0, 0x80, 0x10, 0, 0, 11, 0x80, 0x00, 0x80, 0x14, 18, 0x80, 0x14, 0, 0, 14, 0x80, 0x10, 0, 0})
	f.Fuzz(runFuzzProgram)
}

// newPathFS builds the tree FuzzPath resolves paths in: symbolic link
// loops, links that climb above the root, a relative and an absolute link,
// and a mount.
func newPathFS() *FS {
	fs := New()
	fs.Mkdirat(AtFDCWD, "/a", 0o755)
	fs.Mkdirat(AtFDCWD, "/a/b", 0o755)
	fs.Mount("/m", tmpfs.New(tmpfs.Options{}))
	fs.Mkdirat(AtFDCWD, "/m/d", 0o755)
	fs.Symlinkat("loop2", AtFDCWD, "/loop")
	fs.Symlinkat("loop", AtFDCWD, "/loop2")
	fs.Symlinkat("self", AtFDCWD, "/self")
	fs.Symlinkat("/../../..", AtFDCWD, "/up")
	fs.Symlinkat("/a", AtFDCWD, "/abs")
	fs.Symlinkat("../..", AtFDCWD, "/a/b/rel")
	fs.Symlinkat("../../m/d", AtFDCWD, "/a/b/tom")
	h, _ := fs.Openat(AtFDCWD, "/a/file", syscall.O_CREAT|syscall.O_RDWR, 0o644)
	fs.Close(h)
	return fs
}

// FuzzPath resolves arbitrary paths in the newPathFS tree, checking that
// nothing panics or leaks, that a path and the same path below extra ".."
// at the root resolve alike, and that open agrees with stat.
func FuzzPath(f *testing.F) {
	for _, s := range []string{"/a/b/../../c", "loop/x", "up/../../..", "m/../a", "a//b/", strings.Repeat("../", 30) + "a", "self", "abs/b", "a/b/rel/rel/rel"} {
		f.Add(s)
	}
	fs := newPathFS()
	f.Fuzz(func(t *testing.T, p string) { checkPath(t, fs, p) })
}

// checkPath checks one path on a newPathFS tree whose cwd is "/".
func checkPath(t *testing.T, fs *FS, p string) {
	var a, b syscall.Stat_t
	e1 := fs.Fstatat(AtFDCWD, "/"+p, &a, 0)
	e2 := fs.Fstatat(AtFDCWD, "/../../"+p, &b, 0)
	if len(p)+7 < PathMax && (e1 != e2 || a.Ino != b.Ino || a.Dev != b.Dev) {
		t.Fatalf("%q: %v ino %d vs with ../../: %v ino %d", p, e1, a.Ino, e2, b.Ino)
	}
	// The cwd is "/", so p opens what "/"+p names.
	h, e := fs.Openat(AtFDCWD, p, syscall.O_RDONLY, 0)
	if p != "" && len(p)+1 < PathMax && e != e1 {
		t.Fatalf("%q: open gives %v, stat of /%s gives %v", p, e, p, e1)
	}
	if e == 0 {
		var st syscall.Stat_t
		ok := fs.Fstat(h, &st) == 0 && st.Ino == a.Ino && st.Dev == a.Dev
		fs.Close(h)
		if !ok {
			t.Fatalf("%q: fstat after open disagrees with stat", p)
		}
	}
	buf := make([]byte, 64)
	fs.Readlinkat(AtFDCWD, p, buf)
	fs.Access(AtFDCWD, p, 7, 0)
	if fs.OpenHandles() != 0 {
		t.Fatal("handle leaked")
	}
}
