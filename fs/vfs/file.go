package vfs

import (
	"math"
	"strings"
	"syscall"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// desc is an open file description, shared by the Handles Dup makes.
type desc struct {
	refs  int
	loc   loc
	file  backend.File // nil for O_PATH and pipes
	flags int          // access mode and status flags
	off   int64

	dir      []dirent // directory listing snapshot, taken when reading from offset 0
	dirValid bool

	pipe   *pipe
	writer bool // the write end of pipe

	lock int // flock held: 0, LockSH or LockEX
}

const (
	statusFlags  = syscall.O_APPEND | syscall.O_NONBLOCK | syscall.O_ASYNC | syscall.O_DIRECT | syscall.O_NOATIME
	droppedFlags = syscall.O_CREAT | syscall.O_EXCL | syscall.O_NOCTTY | syscall.O_TRUNC | syscall.O_CLOEXEC
)

func (d *desc) readable() bool {
	return d.flags&OPath == 0 && d.flags&syscall.O_ACCMODE != syscall.O_WRONLY
}

func (d *desc) writable() bool {
	a := d.flags & syscall.O_ACCMODE
	return d.flags&OPath == 0 && (a == syscall.O_WRONLY || a == syscall.O_RDWR)
}

// fileDesc returns h's description, or EBADF when h is not open or is an
// O_PATH handle (good only for fstat, fchdir, close and as a directory).
func (f *FS) fileDesc(h Handle) (*desc, syscall.Errno) {
	d := f.handles[h]
	if d == nil || d.flags&OPath != 0 {
		return nil, syscall.EBADF
	}
	return d, 0
}

// nodeDesc is fileDesc for operations on the file's node: for a pipe it
// returns nil and onPipe, the pipe's answer.
func (f *FS) nodeDesc(h Handle, onPipe syscall.Errno) (*desc, syscall.Errno) {
	d, e := f.fileDesc(h)
	if e != 0 {
		return nil, e
	}
	if d.pipe != nil {
		return nil, onPipe
	}
	return d, 0
}

// install gives d a new Handle.
func (f *FS) install(d *desc) (Handle, syscall.Errno) {
	if len(f.handles) >= math.MaxInt32-1 {
		return -1, syscall.EMFILE
	}
	for {
		h := f.nextHandle
		f.nextHandle++
		if f.nextHandle <= 0 {
			f.nextHandle = 1
		}
		if _, used := f.handles[h]; !used {
			f.handles[h] = d
			d.refs++
			return h, 0
		}
	}
}

// Openat opens path relative to dir (open(2), openat(2)).
func (f *FS) Openat(dir Handle, path string, flags int, mode uint32) (Handle, syscall.Errno) {
	f.lock()
	defer f.unlock()
	if flags&OTmpfile == OTmpfile {
		return -1, syscall.EOPNOTSUPP
	}
	creat := flags&syscall.O_CREAT != 0
	excl := creat && flags&syscall.O_EXCL != 0
	if creat && flags&syscall.O_DIRECTORY != 0 {
		return -1, syscall.EINVAL
	}
	how := followIf(flags&syscall.O_NOFOLLOW == 0 && !excl)
	if creat && strings.HasSuffix(path, "/") {
		how = neverFollow
	}
	r, e := f.walk(dir, path, how)
	if e != 0 {
		return -1, e
	}
	if creat && r.slash && !r.dot {
		return -1, syscall.EISDIR // a trailing slash on a name to create
	}
	l := r.node
	if l.n == nil {
		if !creat {
			return -1, syscall.ENOENT
		}
		if r.slash {
			return -1, syscall.EISDIR
		}
		if r.parent.m.ro {
			return -1, syscall.EROFS
		}
		n, e := r.parent.n.Create(r.name, mode&^f.umask&backend.PermMask)
		if e != 0 {
			return -1, e
		}
		l = loc{r.parent.m, n}
	} else {
		if excl {
			return -1, syscall.EEXIST
		}
		if creat && l.isDir() {
			return -1, syscall.EISDIR
		}
		if flags&syscall.O_DIRECTORY != 0 && !l.isDir() {
			return -1, syscall.ENOTDIR
		}
		if flags&OPath == 0 {
			switch l.typ() {
			case backend.TypeLink:
				return -1, syscall.ELOOP
			case backend.TypeDir:
				if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 {
					return -1, syscall.EISDIR
				}
			}
		}
		if flags&OPath == 0 {
			a := flags & syscall.O_ACCMODE
			wants := a == syscall.O_WRONLY || a == syscall.O_RDWR || flags&syscall.O_TRUNC != 0
			if wants && l.m.ro {
				return -1, syscall.EROFS
			}
			if flags&syscall.O_TRUNC != 0 && l.typ() == backend.TypeReg {
				if e := l.n.Truncate(0); e != 0 {
					return -1, e
				}
			}
		}
	}
	if l.typ() != backend.TypeDir && flags&syscall.O_DIRECTORY != 0 {
		return -1, syscall.ENOTDIR
	}
	d := &desc{loc: l, flags: flags &^ droppedFlags}
	if flags&OPath != 0 {
		d.flags = OPath | flags&(syscall.O_DIRECTORY|syscall.O_NOFOLLOW)
	} else {
		file, e := l.n.Open(flags)
		if e != 0 {
			return -1, e
		}
		d.file = file
	}
	h, e := f.install(d)
	if e != 0 {
		f.release(d)
	}
	return h, e
}

// Close drops h; the description ends with its last Handle.
func (f *FS) Close(h Handle) syscall.Errno {
	f.lock()
	defer f.unlock()
	d := f.handles[h]
	if d == nil {
		return syscall.EBADF
	}
	delete(f.handles, h)
	d.refs--
	if d.refs == 0 {
		f.release(d)
	}
	return 0
}

// release ends a description: its flock, backend file and pipe end.
func (f *FS) release(d *desc) {
	if d.lock != 0 {
		f.unlockFile(d)
	}
	if d.file != nil {
		d.file.Release()
		d.file = nil
	}
	if d.pipe != nil {
		d.pipe.closeEnd(d.writer)
		f.dirty = true
		f.cond.Broadcast()
	}
}

// Dup returns a new Handle for h's description (shared offset and flags).
func (f *FS) Dup(h Handle) (Handle, syscall.Errno) {
	f.lock()
	defer f.unlock()
	d := f.handles[h]
	if d == nil {
		return -1, syscall.EBADF
	}
	return f.install(d)
}

// Read reads at the description's offset and advances it. On an empty
// pipe with a writer it blocks, unless the handle has O_NONBLOCK (EAGAIN).
func (f *FS) Read(h Handle, p []byte) (int, syscall.Errno) { return f.read(h, p, 0, false, false) }

// ReadNonblock is Read that answers EAGAIN instead of blocking, whatever
// the handle's flags: a kernel that parks the calling thread itself uses
// it, with Readiness and SetNotify to know when to retry.
func (f *FS) ReadNonblock(h Handle, p []byte) (int, syscall.Errno) {
	return f.read(h, p, 0, false, true)
}

// Pread reads at off without moving the offset.
func (f *FS) Pread(h Handle, p []byte, off int64) (int, syscall.Errno) {
	return f.read(h, p, off, true, false)
}

// ioDesc returns the description a read or write on h goes to, checking
// the access mode, that positional I/O is not on a pipe, that it is not a
// directory, and that a positional offset is not negative.
func (f *FS) ioDesc(h Handle, write, positional bool, off int64) (*desc, syscall.Errno) {
	d := f.handles[h]
	switch {
	case d == nil, write && !d.writable(), !write && !d.readable():
		return nil, syscall.EBADF
	case d.pipe != nil && positional:
		return nil, syscall.ESPIPE
	case d.pipe != nil:
		return d, 0
	case d.loc.isDir():
		return nil, syscall.EISDIR
	case positional && off < 0:
		return nil, syscall.EINVAL
	}
	return d, 0
}

// read is Read (at the description's offset) or Pread (positional).
func (f *FS) read(h Handle, p []byte, off int64, positional, nonblock bool) (int, syscall.Errno) {
	f.lock()
	defer f.unlock()
	d, e := f.ioDesc(h, false, positional, off)
	if e != 0 {
		return 0, e
	}
	if d.pipe != nil {
		return f.pipeRead(d, p, nonblock)
	}
	if !positional {
		off = d.off
	}
	n, e := d.file.ReadAt(p, off)
	if !positional {
		d.off += int64(n)
	}
	return n, e
}

// Write writes at the description's offset (the end with O_APPEND) and
// advances it. On a full pipe it blocks, unless the handle has O_NONBLOCK.
func (f *FS) Write(h Handle, p []byte) (int, syscall.Errno) { return f.write(h, p, 0, false, false) }

// WriteNonblock is Write that answers EAGAIN (or a short count) instead of
// blocking, whatever the handle's flags.
func (f *FS) WriteNonblock(h Handle, p []byte) (int, syscall.Errno) {
	return f.write(h, p, 0, false, true)
}

// Pwrite writes at off without moving the offset (like Linux, O_APPEND
// still appends).
func (f *FS) Pwrite(h Handle, p []byte, off int64) (int, syscall.Errno) {
	return f.write(h, p, off, true, false)
}

// write is Write (at the description's offset) or Pwrite (positional).
func (f *FS) write(h Handle, p []byte, off int64, positional, nonblock bool) (int, syscall.Errno) {
	f.lock()
	defer f.unlock()
	d, e := f.ioDesc(h, true, positional, off)
	if e != 0 {
		return 0, e
	}
	if d.pipe != nil {
		return f.pipeWrite(d, p, nonblock)
	}
	if !positional {
		off = d.off
	}
	if d.flags&syscall.O_APPEND != 0 {
		off = d.loc.attr().Size
	}
	if len(p) == 0 {
		return 0, 0
	}
	if int64(len(p)) > math.MaxInt64-off {
		return 0, syscall.EFBIG
	}
	n, e := d.file.WriteAt(p, off)
	if n == 0 && e == 0 {
		e = syscall.ENOSPC
	}
	if !positional && (n > 0 || e == 0) {
		d.off = off + int64(n)
	}
	return n, e
}

// Seek sets the offset (lseek(2); SEEK_DATA and SEEK_HOLE treat files as
// having no holes).
func (f *FS) Seek(h Handle, off int64, whence int) (int64, syscall.Errno) {
	f.lock()
	defer f.unlock()
	d, e := f.fileDesc(h)
	if e != 0 {
		return 0, e
	}
	if d.pipe != nil {
		return 0, syscall.ESPIPE
	}
	size := d.loc.attr().Size
	var pos int64
	switch whence {
	case 0:
		pos = off
	case 1:
		if (off > 0 && d.off > math.MaxInt64-off) || (off < 0 && d.off < math.MinInt64-off) {
			return 0, syscall.EOVERFLOW
		}
		pos = d.off + off
	case 2:
		if off > 0 && size > math.MaxInt64-off {
			return 0, syscall.EOVERFLOW
		}
		pos = size + off
	case 3, 4: // SEEK_DATA, SEEK_HOLE
		if d.loc.isDir() {
			return 0, syscall.EINVAL
		}
		if off < 0 {
			return 0, syscall.ENXIO
		}
		if off >= size {
			return 0, syscall.ENXIO
		}
		pos = off
		if whence == 4 {
			pos = size
		}
	default:
		return 0, syscall.EINVAL
	}
	if pos < 0 {
		return 0, syscall.EINVAL
	}
	if d.loc.isDir() && pos == 0 {
		d.dirValid = false
	}
	d.off = pos
	return pos, 0
}

// fill converts attributes to a Stat_t.
func fill(st *syscall.Stat_t, dev uint64, a backend.Attr) {
	*st = syscall.Stat_t{
		Dev:     dev,
		Ino:     a.Ino,
		Nlink:   uint64(a.Nlink),
		Mode:    a.Mode,
		Uid:     a.Uid,
		Gid:     a.Gid,
		Rdev:    a.Rdev,
		Size:    a.Size,
		Blksize: 4096,
		Blocks:  a.Blocks,
		Atim:    syscall.NsecToTimespec(a.Atime.UnixNano()),
		Mtim:    syscall.NsecToTimespec(a.Mtime.UnixNano()),
		Ctim:    syscall.NsecToTimespec(a.Ctime.UnixNano()),
	}
}

func (f *FS) statDesc(d *desc, st *syscall.Stat_t) {
	if d.pipe != nil {
		d.pipe.stat(st)
		return
	}
	fill(st, d.loc.m.dev, d.loc.attr())
}

// Fstat describes an open file.
func (f *FS) Fstat(h Handle, st *syscall.Stat_t) syscall.Errno {
	f.lock()
	defer f.unlock()
	d := f.handles[h]
	if d == nil {
		return syscall.EBADF
	}
	f.statDesc(d, st)
	return 0
}

// Fstatat describes path relative to dir (stat, lstat, newfstatat); flags
// take AtSymlinkNofollow and AtEmptyPath.
func (f *FS) Fstatat(dir Handle, path string, st *syscall.Stat_t, flags int) syscall.Errno {
	f.lock()
	defer f.unlock()
	if flags&^(AtSymlinkNofollow|AtEmptyPath|0x800 /* AT_NO_AUTOMOUNT */) != 0 {
		return syscall.EINVAL
	}
	if path == "" && flags&AtEmptyPath != 0 {
		if dir == AtFDCWD {
			fill(st, f.cwd.m.dev, f.cwd.attr())
			return 0
		}
		d := f.handles[dir]
		if d == nil {
			return syscall.EBADF
		}
		f.statDesc(d, st)
		return 0
	}
	node, e := f.existing(dir, path, followIf(flags&AtSymlinkNofollow == 0))
	if e != 0 {
		return e
	}
	fill(st, node.m.dev, node.attr())
	return 0
}

// IsDir reports whether h is an open directory.
func (f *FS) IsDir(h Handle) bool {
	f.lock()
	defer f.unlock()
	d := f.handles[h]
	return d != nil && d.pipe == nil && d.loc.isDir()
}

// GetFlags returns the access mode and status flags (fcntl F_GETFL).
func (f *FS) GetFlags(h Handle) (int, syscall.Errno) {
	f.lock()
	defer f.unlock()
	d := f.handles[h]
	if d == nil {
		return 0, syscall.EBADF
	}
	return d.flags, 0
}

// SetFlags changes the status flags O_APPEND, O_NONBLOCK, O_ASYNC, O_DIRECT
// and O_NOATIME (fcntl F_SETFL); other bits are ignored.
func (f *FS) SetFlags(h Handle, flags int) syscall.Errno {
	f.lock()
	defer f.unlock()
	d, e := f.fileDesc(h)
	if e != 0 {
		return e
	}
	d.flags = d.flags&^statusFlags | flags&statusFlags
	f.dirty = true
	return 0
}

// Readiness reports whether a read or write on h would not block: pipes
// by their buffer and ends, everything else is always ready for both.
func (f *FS) Readiness(h Handle) (readable, writable bool) {
	f.lock()
	defer f.unlock()
	d := f.handles[h]
	if d == nil {
		return false, false
	}
	if d.pipe != nil {
		return d.pipe.ready(d.writer)
	}
	return true, true
}

// Ftruncate sets the size of an open regular file.
func (f *FS) Ftruncate(h Handle, size int64) syscall.Errno {
	if size < 0 {
		return syscall.EINVAL // checked before the descriptor, as on Linux
	}
	f.lock()
	defer f.unlock()
	d, e := f.fileDesc(h)
	if e != 0 {
		return e
	}
	if d.pipe != nil || d.loc.typ() != backend.TypeReg || !d.writable() {
		return syscall.EINVAL
	}
	if d.loc.m.ro {
		return syscall.EROFS
	}
	return d.loc.n.Truncate(size)
}

// Truncate sets the size of the regular file at path (truncate(2)).
func (f *FS) Truncate(path string, size int64) syscall.Errno {
	f.lock()
	defer f.unlock()
	if size < 0 {
		return syscall.EINVAL
	}
	node, e := f.existing(AtFDCWD, path, follow)
	if e != 0 {
		return e
	}
	switch node.typ() {
	case backend.TypeDir:
		return syscall.EISDIR
	case backend.TypeReg:
	default:
		return syscall.EINVAL
	}
	if node.m.ro {
		return syscall.EROFS
	}
	return node.n.Truncate(size)
}

// Fsync flushes an open file (fsync, fdatasync).
func (f *FS) Fsync(h Handle) syscall.Errno {
	f.lock()
	defer f.unlock()
	d, e := f.nodeDesc(h, syscall.EINVAL)
	if d == nil {
		return e
	}
	return d.loc.n.Sync()
}
