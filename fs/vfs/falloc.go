package vfs

import (
	"math"
	"syscall"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// fallocate modes (Linux values).
const (
	FallocKeepSize  = 0x01
	FallocPunchHole = 0x02
	FallocZeroRange = 0x10
)

// rangeDesc returns h's description for an operation on a byte range of a
// regular file (fallocate, fadvise, sync_file_range): ESPIPE for pipes,
// EISDIR for directories, ENODEV for other non-regular files.
func (f *FS) rangeDesc(h Handle, off, length int64) (*desc, syscall.Errno) {
	d, e := f.fileDesc(h)
	switch {
	case e != 0:
		return nil, e
	case d.pipe != nil:
		return nil, syscall.ESPIPE
	case d.loc.isDir():
		return nil, syscall.EISDIR
	case d.loc.typ() != backend.TypeReg:
		return nil, syscall.ENODEV
	case off < 0 || length < 0:
		return nil, syscall.EINVAL
	case length > math.MaxInt64-off:
		return nil, syscall.EFBIG
	}
	return d, 0
}

// Fallocate reserves or clears a byte range of an open regular file
// (fallocate(2)): mode 0 allocates and extends the size, FallocKeepSize
// allocates only, FallocPunchHole|FallocKeepSize and FallocZeroRange zero
// the range (as reads see it). Other modes give EOPNOTSUPP. Errors come in
// the order of Linux's vfs_fallocate.
func (f *FS) Fallocate(h Handle, mode int, off, length int64) syscall.Errno {
	f.lock()
	defer f.unlock()
	d, e := f.fileDesc(h) // O_PATH handles are not files here
	switch {
	case e != 0:
		return e
	case off < 0 || length <= 0:
		return syscall.EINVAL
	case mode&FallocPunchHole != 0 && mode&FallocZeroRange != 0,
		mode&FallocPunchHole != 0 && mode&FallocKeepSize == 0:
		return syscall.EOPNOTSUPP
	case !d.writable():
		return syscall.EBADF
	case d.pipe != nil:
		return syscall.ESPIPE
	case d.loc.isDir():
		return syscall.EISDIR
	case d.loc.typ() != backend.TypeReg:
		return syscall.ENODEV
	case length > math.MaxInt64-off:
		return syscall.EFBIG
	case d.loc.m.ro:
		return syscall.EROFS
	}
	size := d.loc.attr().Size
	switch mode {
	case 0, FallocKeepSize, FallocZeroRange, FallocZeroRange | FallocKeepSize:
		if a, ok := d.file.(backend.Allocator); ok {
			if e := a.Allocate(off, length); e != 0 {
				return e
			}
		}
		if mode&FallocZeroRange != 0 {
			if e := f.zero(d, off, min(off+length, size)); e != 0 {
				return e
			}
		}
		if mode&FallocKeepSize == 0 && off+length > size {
			return d.loc.n.Truncate(off + length)
		}
		return 0
	case FallocPunchHole | FallocKeepSize:
		return f.zero(d, off, min(off+length, size))
	}
	return syscall.EOPNOTSUPP
}

// zero writes zeros over [from, to) of d's file.
func (f *FS) zero(d *desc, from, to int64) syscall.Errno {
	var z [4096]byte
	for off := from; off < to; {
		n, e := d.file.WriteAt(z[:min(int64(len(z)), to-off)], off)
		if e != 0 {
			return e
		}
		if n == 0 {
			return syscall.ENOSPC
		}
		off += int64(n)
	}
	return 0
}

// Fadvise checks the arguments of posix_fadvise(2); the advice itself
// changes nothing for in-memory files.
func (f *FS) Fadvise(h Handle, off, length int64, advice int) syscall.Errno {
	f.lock()
	defer f.unlock()
	if _, e := f.rangeDesc(h, off, max(length, 0)); e != 0 && e != syscall.EISDIR && e != syscall.ENODEV {
		return e
	}
	if advice < 0 || advice > 5 || length < 0 {
		return syscall.EINVAL
	}
	return 0
}

// SyncFileRange is sync_file_range(2): it syncs the whole file.
func (f *FS) SyncFileRange(h Handle, off, length int64, flags int) syscall.Errno {
	f.lock()
	defer f.unlock()
	if flags&^7 != 0 {
		return syscall.EINVAL
	}
	d, e := f.rangeDesc(h, off, length)
	if e == syscall.EISDIR || e == syscall.ENODEV {
		return 0
	}
	if e != 0 {
		return e
	}
	return d.loc.n.Sync()
}
