package vfs

import (
	"encoding/binary"
	"strings"
	"syscall"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// dirent is one entry of a directory snapshot.
type dirent struct {
	name string
	ino  uint64
	typ  uint32 // type bits
}

// direntHeader is the fixed part of struct linux_dirent64: d_ino (8),
// d_off (8), d_reclen (2), d_type (1).
const direntHeader = 19

// Getdents64 fills buf with struct linux_dirent64 records ("." and ".."
// first, then the entries sorted by name); 0 at the end of the directory.
// d_off of each record is the offset to seek to for the next one.
func (f *FS) Getdents64(h Handle, buf []byte) (int, syscall.Errno) {
	f.lock()
	defer f.unlock()
	d, e := f.fileDesc(h)
	if e != 0 {
		return 0, e
	}
	if d.pipe != nil || !d.loc.isDir() {
		return 0, syscall.ENOTDIR
	}
	if d.loc.attr().Nlink == 0 {
		return 0, syscall.ENOENT // removed directory
	}
	if !d.dirValid {
		list, e := f.snapshot(d.loc)
		if e != 0 {
			return 0, e
		}
		d.dir, d.dirValid = list, true
	}
	n := 0
	for d.off >= 0 && d.off < int64(len(d.dir)) {
		de := d.dir[d.off]
		reclen := (direntHeader + len(de.name) + 1 + 7) &^ 7
		if n+reclen > len(buf) {
			if n == 0 {
				return 0, syscall.EINVAL
			}
			break
		}
		r := buf[n : n+reclen]
		binary.LittleEndian.PutUint64(r[0:], de.ino)
		binary.LittleEndian.PutUint64(r[8:], uint64(d.off+1))
		binary.LittleEndian.PutUint16(r[16:], uint16(reclen))
		r[18] = byte(de.typ >> 12)
		copy(r[direntHeader:], de.name)
		clear(r[direntHeader+len(de.name):])
		n += reclen
		d.off++
	}
	return n, 0
}

// snapshot lists directory l with "." and "..".
func (f *FS) snapshot(l loc) ([]dirent, syscall.Errno) {
	ents, e := l.n.ReadDir()
	if e != 0 {
		return nil, e
	}
	p, e := f.parentOf(l)
	if e != 0 {
		p = l
	}
	out := make([]dirent, 0, len(ents)+2)
	out = append(out, dirent{".", l.ino(), backend.TypeDir}, dirent{"..", p.ino(), backend.TypeDir})
	for _, de := range ents {
		out = append(out, dirent{de.Name, de.Ino, de.Type})
	}
	return out, 0
}

// isEmpty reports whether directory l has no entries.
func isEmpty(l loc) (bool, syscall.Errno) {
	ents, e := l.n.ReadDir()
	return len(ents) == 0, e
}

// Mkdirat makes a directory (mkdir, mkdirat).
func (f *FS) Mkdirat(dir Handle, path string, mode uint32) syscall.Errno {
	f.lock()
	defer f.unlock()
	r, e := f.walk(dir, path, neverFollow)
	if e != 0 {
		return e
	}
	if r.dot || r.node.n != nil {
		return syscall.EEXIST
	}
	if r.parent.m.ro {
		return syscall.EROFS
	}
	_, e = r.parent.n.Mkdir(r.name, mode&^f.umask&0o1777) // mkdir ignores set-id bits
	return e
}

// Unlinkat removes a name (unlink, unlinkat; AtRemoveDir for rmdir).
func (f *FS) Unlinkat(dir Handle, path string, flags int) syscall.Errno {
	f.lock()
	defer f.unlock()
	if flags&^AtRemoveDir != 0 {
		return syscall.EINVAL
	}
	r, e := f.walk(dir, path, neverFollow)
	if e != 0 {
		return e
	}
	rmdir := flags&AtRemoveDir != 0
	if r.dot {
		switch {
		case !rmdir:
			return syscall.EISDIR
		case r.name == ".":
			return syscall.EINVAL
		case r.name == "..":
			return syscall.ENOTEMPTY
		default:
			return syscall.EBUSY
		}
	}
	if r.parent.m.ro {
		return syscall.EROFS
	}
	l := r.node
	if l.n == nil {
		return syscall.ENOENT
	}
	if rmdir {
		if !l.isDir() {
			return syscall.ENOTDIR
		}
		if f.isMountPoint(l) {
			return syscall.EBUSY
		}
		if empty, e := isEmpty(l); e != 0 {
			return e
		} else if !empty {
			return syscall.ENOTEMPTY
		}
	} else if l.isDir() {
		return syscall.EISDIR
	} else if r.slash {
		return syscall.ENOTDIR
	}
	return r.parent.n.Remove(r.name)
}

// Renameat moves opath to npath, replacing what npath names.
func (f *FS) Renameat(odir Handle, opath string, ndir Handle, npath string) syscall.Errno {
	return f.Renameat2(odir, opath, ndir, npath, 0)
}

// RenameNoreplace is renameat2's RENAME_NOREPLACE flag.
const RenameNoreplace = 1

// Renameat2 is Renameat with renameat2(2) flags: RenameNoreplace answers
// EEXIST when npath exists. RENAME_EXCHANGE and RENAME_WHITEOUT are not
// supported (EINVAL).
func (f *FS) Renameat2(odir Handle, opath string, ndir Handle, npath string, flags uint) syscall.Errno {
	if flags&^RenameNoreplace != 0 {
		return syscall.EINVAL
	}
	f.lock()
	defer f.unlock()
	o, e := f.walk(odir, opath, neverFollow)
	if e != 0 {
		return e
	}
	n, e := f.walk(ndir, npath, neverFollow)
	if e != 0 {
		return e
	}
	if o.dot || n.dot {
		return syscall.EBUSY
	}
	if o.node.n == nil {
		return syscall.ENOENT
	}
	if o.parent.m != n.parent.m {
		return syscall.EXDEV
	}
	if o.parent.m.ro {
		return syscall.EROFS
	}
	src := o.node
	if !src.isDir() && (o.slash || n.slash) {
		return syscall.ENOTDIR
	}
	if f.isMountPoint(src) {
		return syscall.EBUSY
	}
	if src.isDir() {
		// The new parent must not be the source or below it. The climb is
		// bounded, so a backend whose ".." links form a cycle gives EIO
		// instead of a hang.
		at := n.parent
		for steps := 0; ; steps++ {
			if at.same(src) {
				return syscall.EINVAL
			}
			if at.m != src.m || at.ino() == at.m.rootIno {
				break
			}
			p, e := at.n.Lookup("..")
			if e != 0 || p == nil {
				break
			}
			if steps == PathMax {
				return syscall.EIO
			}
			at = loc{at.m, p}
		}
	}
	if dst := n.node; dst.n != nil {
		if flags&RenameNoreplace != 0 {
			return syscall.EEXIST
		}
		if n.slash && !dst.isDir() {
			return syscall.ENOTDIR
		}
		if dst.same(src) {
			return 0
		}
		switch {
		case src.isDir() && !dst.isDir():
			return syscall.ENOTDIR
		case !src.isDir() && dst.isDir():
			return syscall.EISDIR
		}
		if f.isMountPoint(dst) {
			return syscall.EBUSY
		}
		if dst.isDir() {
			if empty, e := isEmpty(dst); e != 0 {
				return e
			} else if !empty {
				return syscall.ENOTEMPTY
			}
		}
	}
	return o.parent.n.Rename(o.name, n.parent.n, n.name)
}

// Linkat makes npath a new name for opath (link, linkat; flags take
// AtSymlinkFollow and AtEmptyPath).
func (f *FS) Linkat(odir Handle, opath string, ndir Handle, npath string, flags int) syscall.Errno {
	f.lock()
	defer f.unlock()
	if flags&^(AtSymlinkFollow|AtEmptyPath) != 0 {
		return syscall.EINVAL
	}
	var src loc
	if opath == "" && flags&AtEmptyPath != 0 {
		d := f.handles[odir]
		if d == nil || d.pipe != nil {
			return syscall.EBADF
		}
		src = d.loc
	} else {
		var e syscall.Errno
		if src, e = f.existing(odir, opath, followIf(flags&AtSymlinkFollow != 0)); e != 0 {
			return e
		}
	}
	n, e := f.newName(ndir, npath)
	if e != 0 {
		return e
	}
	if src.m != n.parent.m {
		return syscall.EXDEV
	}
	if src.isDir() {
		return syscall.EPERM
	}
	if src.m.ro {
		return syscall.EROFS
	}
	if src.attr().Nlink == 0 {
		return syscall.ENOENT
	}
	return n.parent.n.Link(n.name, src.n)
}

// Symlinkat makes path a symbolic link to target (symlink, symlinkat).
func (f *FS) Symlinkat(target string, dir Handle, path string) syscall.Errno {
	f.lock()
	defer f.unlock()
	if target == "" {
		return syscall.ENOENT
	}
	if len(target) >= PathMax {
		return syscall.ENAMETOOLONG
	}
	r, e := f.newName(dir, path)
	if e != 0 {
		return e
	}
	if r.parent.m.ro {
		return syscall.EROFS
	}
	_, e = r.parent.n.Symlink(r.name, target)
	return e
}

// Readlinkat copies a symbolic link's target into buf (truncating
// silently, like Linux) and returns its length.
func (f *FS) Readlinkat(dir Handle, path string, buf []byte) (int, syscall.Errno) {
	f.lock()
	defer f.unlock()
	if len(buf) == 0 {
		return 0, syscall.EINVAL
	}
	var l loc
	if path == "" {
		d := f.handles[dir]
		if dir == AtFDCWD || d == nil {
			if dir == AtFDCWD {
				return 0, syscall.ENOENT
			}
			return 0, syscall.EBADF
		}
		if d.pipe != nil || d.loc.typ() != backend.TypeLink {
			return 0, syscall.ENOENT
		}
		l = d.loc
	} else {
		node, e := f.existing(dir, path, noFollow)
		if e != 0 {
			return 0, e
		}
		l = node
	}
	if l.typ() != backend.TypeLink {
		return 0, syscall.EINVAL
	}
	t, e := l.n.Readlink()
	if e != 0 {
		return 0, e
	}
	return copy(buf, t), 0
}

// Chdir sets the current directory.
func (f *FS) Chdir(path string) syscall.Errno {
	f.lock()
	defer f.unlock()
	node, e := f.existing(AtFDCWD, path, follow)
	if e != 0 {
		return e
	}
	if !node.isDir() {
		return syscall.ENOTDIR
	}
	f.cwd = node
	return 0
}

// Fchdir sets the current directory to an open directory.
func (f *FS) Fchdir(h Handle) syscall.Errno {
	f.lock()
	defer f.unlock()
	d := f.handles[h]
	if d == nil {
		return syscall.EBADF
	}
	if d.pipe != nil || !d.loc.isDir() {
		return syscall.ENOTDIR
	}
	f.cwd = d.loc
	return 0
}

// Getcwd returns the absolute path of the current directory, or ENOENT
// when it has been removed.
func (f *FS) Getcwd() (string, syscall.Errno) {
	f.lock()
	defer f.unlock()
	cur := f.cwd
	if cur.attr().Nlink == 0 {
		return "", syscall.ENOENT
	}
	var parts []string
	for range PathMax {
		cur = f.up(cur)
		if f.isRoot(cur) {
			var b strings.Builder
			for i := len(parts) - 1; i >= 0; i-- {
				b.WriteByte('/')
				b.WriteString(parts[i])
			}
			if b.Len() == 0 {
				return "/", 0
			}
			if b.Len() >= PathMax {
				return "", syscall.ENAMETOOLONG
			}
			return b.String(), 0
		}
		if cur.ino() == cur.m.rootIno {
			return "", syscall.ENOENT // a detached mount
		}
		p, e := cur.n.Lookup("..")
		if e != 0 || p == nil {
			return "", syscall.ENOENT
		}
		ents, e := p.ReadDir()
		if e != 0 {
			return "", e
		}
		ino, name := cur.ino(), ""
		for _, de := range ents {
			if de.Ino == ino {
				name = de.Name
				break
			}
		}
		if name == "" {
			return "", syscall.ENOENT
		}
		parts = append(parts, name)
		cur = loc{cur.m, p}
	}
	return "", syscall.ENAMETOOLONG
}
