package vfs

import (
	"syscall"
	"time"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// Special tv_nsec values of utimensat.
const (
	UtimeNow  = (1 << 30) - 1
	UtimeOmit = (1 << 30) - 2
)

// Access modes of access(2).
const (
	FOK = 0
	XOK = 1
	WOK = 2
	ROK = 4
)

// Statfs flags.
const stRdonly = 1

// setattr applies a to l.
func (f *FS) setattr(l loc, a backend.SetAttr) syscall.Errno {
	if l.m.ro {
		return syscall.EROFS
	}
	return l.n.SetAttr(a)
}

// Fchmod changes an open file's permission bits.
func (f *FS) Fchmod(h Handle, mode uint32) syscall.Errno {
	f.lock()
	defer f.unlock()
	d, e := f.nodeDesc(h, 0) // chmod of a pipe changes nothing
	if d == nil {
		return e
	}
	m := mode & 0o7777
	return f.setattr(d.loc, backend.SetAttr{Mode: &m})
}

// Fchmodat changes the permission bits of path (chmod, fchmodat);
// AtSymlinkNofollow on a symbolic link answers EOPNOTSUPP, as on Linux.
func (f *FS) Fchmodat(dir Handle, path string, mode uint32, flags int) syscall.Errno {
	f.lock()
	defer f.unlock()
	if flags&^AtSymlinkNofollow != 0 {
		return syscall.EINVAL
	}
	node, e := f.existing(dir, path, followIf(flags&AtSymlinkNofollow == 0))
	if e != 0 {
		return e
	}
	if node.typ() == backend.TypeLink {
		return syscall.EOPNOTSUPP
	}
	m := mode & 0o7777
	return f.setattr(node, backend.SetAttr{Mode: &m})
}

// Fchownat changes the owner and group of path (chown, lchown, fchownat;
// flags take AtSymlinkNofollow and AtEmptyPath); -1 leaves one unchanged.
func (f *FS) Fchownat(dir Handle, path string, uid, gid int, flags int) syscall.Errno {
	f.lock()
	defer f.unlock()
	if flags&^(AtSymlinkNofollow|AtEmptyPath) != 0 {
		return syscall.EINVAL
	}
	l, pipe, e := f.atFlags(dir, path, flags)
	if e != 0 || pipe {
		return e
	}
	return f.chown(l, uid, gid)
}

// Fchown changes the owner and group of an open file.
func (f *FS) Fchown(h Handle, uid, gid int) syscall.Errno {
	f.lock()
	defer f.unlock()
	d, e := f.nodeDesc(h, 0)
	if d == nil {
		return e
	}
	return f.chown(d.loc, uid, gid)
}

// chown sets both ids (-1 keeps the current one): like Linux, even a chown
// that changes nothing clears a file's set-user-ID bit.
func (f *FS) chown(l loc, uid, gid int) syscall.Errno {
	cur := l.attr()
	u, g := cur.Uid, cur.Gid
	if uid != -1 {
		u = uint32(uid)
	}
	if gid != -1 {
		g = uint32(gid)
	}
	return f.setattr(l, backend.SetAttr{Uid: &u, Gid: &g})
}

// Utimensat sets access and modification times (utimensat, futimens with
// an empty path and a Handle); times == nil means now for both, and the
// UtimeNow and UtimeOmit nanosecond values work as on Linux.
func (f *FS) Utimensat(dir Handle, path string, times *[2]syscall.Timespec, flags int) syscall.Errno {
	f.lock()
	defer f.unlock()
	if flags&^(AtSymlinkNofollow|AtEmptyPath) != 0 {
		return syscall.EINVAL
	}
	l, pipe, e := f.at(dir, path, followIf(flags&AtSymlinkNofollow == 0))
	if e != 0 || pipe {
		return e
	}
	now := f.now()
	var a backend.SetAttr
	pick := func(ts *syscall.Timespec) (*time.Time, syscall.Errno) {
		switch {
		case ts == nil || ts.Nsec == UtimeNow:
			return &now, 0
		case ts.Nsec == UtimeOmit:
			return nil, 0
		case ts.Nsec < 0 || ts.Nsec >= 1e9:
			return nil, syscall.EINVAL
		}
		t := time.Unix(ts.Sec, ts.Nsec)
		return &t, 0
	}
	if times == nil {
		a.Atime, a.Mtime = &now, &now
	} else {
		if a.Atime, e = pick(&times[0]); e != 0 {
			return e
		}
		if a.Mtime, e = pick(&times[1]); e != 0 {
			return e
		}
		if a.Atime == nil && a.Mtime == nil {
			return 0
		}
	}
	return f.setattr(l, a)
}

// Access checks whether path could be used with mode (access, faccessat).
// The process is root: only a read-only file system (W_OK) and a missing
// execute bit on a non-directory (X_OK) are refused.
func (f *FS) Access(dir Handle, path string, mode uint32, flags int) syscall.Errno {
	f.lock()
	defer f.unlock()
	if mode&^7 != 0 || flags&^(AtEaccess|AtSymlinkNofollow|AtEmptyPath) != 0 {
		return syscall.EINVAL
	}
	l, pipe, e := f.atFlags(dir, path, flags)
	if e != 0 || pipe {
		return e
	}
	if mode&WOK != 0 && l.m.ro {
		return syscall.EROFS
	}
	if mode&XOK != 0 && !l.isDir() && l.attr().Mode&0o111 == 0 {
		return syscall.EACCES
	}
	return 0
}

func (f *FS) statfs(m *mount, st *syscall.Statfs_t) {
	*st = syscall.Statfs_t{}
	m.b.Statfs(st)
	st.Fsid.X__val[0] = int32(m.dev)
	if m.ro {
		st.Flags |= stRdonly
	}
}

// Statfs describes the file system holding path.
func (f *FS) Statfs(path string, st *syscall.Statfs_t) syscall.Errno {
	f.lock()
	defer f.unlock()
	node, e := f.existing(AtFDCWD, path, follow)
	if e != 0 {
		return e
	}
	f.statfs(node.m, st)
	return 0
}

// Fstatfs describes the file system holding an open file.
func (f *FS) Fstatfs(h Handle, st *syscall.Statfs_t) syscall.Errno {
	f.lock()
	defer f.unlock()
	d := f.handles[h]
	if d == nil {
		return syscall.EBADF
	}
	if d.pipe != nil {
		*st = syscall.Statfs_t{Type: 0x50495045, Bsize: 4096, Frsize: 4096, Namelen: 255}
		return 0
	}
	f.statfs(d.loc.m, st)
	return 0
}
