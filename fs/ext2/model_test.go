package ext2

import (
	"bytes"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/xairrosx/xairrosx/fs/tmpfs"
	"github.com/xairrosx/xairrosx/fs/vfs"
)

// op is one random operation, applied the same way to the file system
// under test and to the model; it returns the errno it met.
type op struct {
	desc string
	do   func(v *vfs.FS) syscall.Errno
}

var modelDirs = []string{"", "d0", "d1", "d0/d2", "d1/d3", "d0/d2/d4"}

// randomOp draws an operation on paths from a small name space, so that
// names collide and every error case comes up too.
func randomOp(rng *rand.Rand, bs int) op {
	pick := func() string {
		d := ""
		if rng.IntN(3) > 0 {
			d = modelDirs[rng.IntN(len(modelDirs))]
		}
		var name string
		switch rng.IntN(3) {
		case 0:
			name = fmt.Sprintf("d%d", rng.IntN(5))
		default:
			name = fmt.Sprintf("f%d", rng.IntN(6))
		}
		return "/mnt/" + strings.TrimPrefix(d+"/"+name, "/")
	}
	p, q := pick(), pick()
	off := int64(rng.IntN(16 * bs))
	if rng.IntN(20) == 0 {
		off = int64(12+bs/4+rng.IntN(3)) * int64(bs) // into the double-indirect range
	}
	data := randBytes(rng, rng.IntN(3*bs))
	size := int64(rng.IntN(20 * bs))
	mode := uint32(rng.IntN(0o1000))
	switch rng.IntN(14) {
	case 0, 1, 2:
		return op{fmt.Sprintf("pwrite %s %d@%d", p, len(data), off), func(v *vfs.FS) syscall.Errno {
			h, e := v.Openat(vfs.AtFDCWD, p, syscall.O_CREAT|syscall.O_RDWR, 0o644)
			if e != 0 {
				return e
			}
			defer v.Close(h)
			_, e = v.Pwrite(h, data, off)
			return e
		}}
	case 3:
		return op{fmt.Sprintf("append %s %d", p, len(data)), func(v *vfs.FS) syscall.Errno {
			h, e := v.Openat(vfs.AtFDCWD, p, syscall.O_CREAT|syscall.O_WRONLY|syscall.O_APPEND, 0o600)
			if e != 0 {
				return e
			}
			defer v.Close(h)
			_, e = v.Write(h, data)
			if e == 0 {
				e = v.Fsync(h)
			}
			return e
		}}
	case 4:
		return op{fmt.Sprintf("truncate %s %d", p, size), func(v *vfs.FS) syscall.Errno { return v.Truncate(p, size) }}
	case 5, 6:
		if rng.IntN(2) == 0 {
			p = "/mnt/" + modelDirs[1+rng.IntN(len(modelDirs)-1)]
		}
		return op{"mkdir " + p, func(v *vfs.FS) syscall.Errno { return v.Mkdirat(vfs.AtFDCWD, p, mode|0o700) }}
	case 7:
		return op{"unlink " + p, func(v *vfs.FS) syscall.Errno { return v.Unlinkat(vfs.AtFDCWD, p, 0) }}
	case 8:
		return op{"rmdir " + p, func(v *vfs.FS) syscall.Errno { return v.Unlinkat(vfs.AtFDCWD, p, vfs.AtRemoveDir) }}
	case 9, 10:
		return op{"rename " + p + " " + q, func(v *vfs.FS) syscall.Errno { return v.Renameat(vfs.AtFDCWD, p, vfs.AtFDCWD, q) }}
	case 11:
		return op{"link " + p + " " + q, func(v *vfs.FS) syscall.Errno { return v.Linkat(vfs.AtFDCWD, p, vfs.AtFDCWD, q, 0) }}
	case 12:
		target := strings.Repeat("t", 1+rng.IntN(120))
		return op{"symlink " + q, func(v *vfs.FS) syscall.Errno { return v.Symlinkat(target, vfs.AtFDCWD, q) }}
	default:
		return op{fmt.Sprintf("chmod %s %o", p, mode), func(v *vfs.FS) syscall.Errno {
			return v.Fchmodat(vfs.AtFDCWD, p, mode|0o700, vfs.AtSymlinkNofollow)
		}}
	}
}

// compareTrees checks that got and want hold the same names, types,
// modes, link counts, sizes, contents and link targets.
func compareTrees(t *testing.T, got, want *vfs.FS) {
	t.Helper()
	gf, wf := vfs.IOFS(got, "/mnt"), vfs.IOFS(want, "/mnt")
	err := fs.WalkDir(wf, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		wi, err := wf.(fs.ReadLinkFS).Lstat(name)
		if err != nil {
			return err
		}
		gi, err := gf.(fs.ReadLinkFS).Lstat(name)
		if err != nil {
			return fmt.Errorf("lstat %s: %w", name, err)
		}
		ws, gs := wi.Sys().(*syscall.Stat_t), gi.Sys().(*syscall.Stat_t)
		if ws.Mode != gs.Mode || ws.Nlink != gs.Nlink {
			return fmt.Errorf("%s: mode %#o nlink %d, want %#o %d", name, gs.Mode, gs.Nlink, ws.Mode, ws.Nlink)
		}
		switch {
		case d.IsDir():
			we, _ := fs.ReadDir(wf, name)
			ge, err := fs.ReadDir(gf, name)
			if err != nil {
				return fmt.Errorf("readdir %s: %w", name, err)
			}
			var wn, gn []string
			for _, e := range we {
				wn = append(wn, e.Name())
			}
			for _, e := range ge {
				gn = append(gn, e.Name())
			}
			slices.Sort(gn)
			if fmt.Sprint(wn) != fmt.Sprint(gn) {
				return fmt.Errorf("readdir %s = %v, want %v", name, gn, wn)
			}
		case d.Type()&fs.ModeSymlink != 0:
			wl, _ := wf.(fs.ReadLinkFS).ReadLink(name)
			gl, err := gf.(fs.ReadLinkFS).ReadLink(name)
			if err != nil || gl != wl {
				return fmt.Errorf("readlink %s = %q %v, want %q", name, gl, err, wl)
			}
		default:
			if ws.Size != gs.Size {
				return fmt.Errorf("%s: size %d, want %d", name, gs.Size, ws.Size)
			}
			wb, _ := fs.ReadFile(wf, name)
			gb, err := fs.ReadFile(gf, name)
			if err != nil || !bytes.Equal(wb, gb) {
				return fmt.Errorf("%s: content differs (%v)", name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestModel applies random operation sequences to ext2 and to tmpfs (the
// model) through the VFS, compares errors and trees, and checks the image
// with e2fsck at every remount.
func TestModel(t *testing.T) {
	for _, bs := range []int{1024, 4096} {
		for seed := range 2 {
			t.Run(fmt.Sprintf("%d/%d", bs, seed), func(t *testing.T) {
				img := newImage(t, bs, "16M")
				m := openRW(t, img, nil)
				model := vfs.New()
				if err := model.Mount("/mnt", tmpfs.New(tmpfs.Options{})); err != nil {
					t.Fatal(err)
				}
				if e := model.Mkdirat(vfs.AtFDCWD, "/mnt/lost+found", 0o700); e != 0 {
					t.Fatal(e)
				}
				rng := rand.New(rand.NewPCG(uint64(seed), uint64(bs)))
				var log []string
				const steps = 1200
				succeeded := 0
				for step := range steps {
					o := randomOp(rng, bs)
					log = append(log, o.desc)
					g, w := o.do(m.v), o.do(model)
					if g != w {
						t.Fatalf("step %d: %s: %v, model %v\nlast ops:\n%s", step, o.desc, g, w, strings.Join(log[max(0, len(log)-15):], "\n"))
					}
					if g == 0 {
						succeeded++
					}
					if step%300 == 299 {
						compareTrees(t, m.v, model)
						m.unmount()
						m = openRW(t, img, nil)
						compareTrees(t, m.v, model)
					}
				}
				m.unmount()
				if succeeded < steps/5 {
					t.Fatalf("only %d of %d operations succeeded", succeeded, steps)
				}
				t.Logf("%d of %d operations succeeded", succeeded, steps)
			})
		}
	}
}
