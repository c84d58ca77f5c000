package vfs_test

import (
	"encoding/binary"
	"runtime"
	"sort"
	"syscall"
	"testing"
	"unsafe"

	"github.com/xairrosx/xairrosx/fs/vfs"
)

// target is what the conformance script runs against: the XairrosX FS or
// the host kernel. Paths are relative to the target's base directory (or
// to an open directory slot); descriptors are plain ints.
type target interface {
	openat(dir int, path string, flags int, mode uint32) (int, syscall.Errno)
	close(fd int) syscall.Errno
	read(fd int, p []byte) (int, syscall.Errno)
	write(fd int, p []byte) (int, syscall.Errno)
	pread(fd int, p []byte, off int64) (int, syscall.Errno)
	pwrite(fd int, p []byte, off int64) (int, syscall.Errno)
	seek(fd int, off int64, whence int) (int64, syscall.Errno)
	fstat(fd int, st *syscall.Stat_t) syscall.Errno
	fstatat(dir int, path string, st *syscall.Stat_t, flags int) syscall.Errno
	getdents(fd int, buf []byte) (int, syscall.Errno)
	mkdirat(dir int, path string, mode uint32) syscall.Errno
	unlinkat(dir int, path string, flags int) syscall.Errno
	renameat(odir int, opath string, ndir int, npath string) syscall.Errno
	linkat(odir int, opath string, ndir int, npath string, flags int) syscall.Errno
	symlinkat(target string, dir int, path string) syscall.Errno
	readlinkat(dir int, path string, buf []byte) (int, syscall.Errno)
	ftruncate(fd int, size int64) syscall.Errno
	fsync(fd int) syscall.Errno
	dup(fd int) (int, syscall.Errno)
	flock(fd, how int) syscall.Errno
	fchmod(fd int, mode uint32) syscall.Errno
	fchmodat(dir int, path string, mode uint32) syscall.Errno
	faccessat(dir int, path string, mode uint32, flags int) syscall.Errno
	fallocate(fd, mode int, off, length int64) syscall.Errno
	fchownat(dir int, path string, uid, gid, flags int) syscall.Errno
	base() int // the base directory's descriptor
}

// vfsTarget runs operations on a vfs.FS.
type vfsTarget struct {
	f    *vfs.FS
	root vfs.Handle
}

func (v *vfsTarget) base() int { return int(v.root) }
func (v *vfsTarget) openat(dir int, path string, flags int, mode uint32) (int, syscall.Errno) {
	h, e := v.f.Openat(vfs.Handle(dir), path, flags, mode)
	return int(h), e
}
func (v *vfsTarget) close(fd int) syscall.Errno { return v.f.Close(vfs.Handle(fd)) }
func (v *vfsTarget) read(fd int, p []byte) (int, syscall.Errno) {
	return v.f.Read(vfs.Handle(fd), p)
}
func (v *vfsTarget) write(fd int, p []byte) (int, syscall.Errno) {
	return v.f.Write(vfs.Handle(fd), p)
}
func (v *vfsTarget) pread(fd int, p []byte, off int64) (int, syscall.Errno) {
	return v.f.Pread(vfs.Handle(fd), p, off)
}
func (v *vfsTarget) pwrite(fd int, p []byte, off int64) (int, syscall.Errno) {
	return v.f.Pwrite(vfs.Handle(fd), p, off)
}
func (v *vfsTarget) seek(fd int, off int64, whence int) (int64, syscall.Errno) {
	return v.f.Seek(vfs.Handle(fd), off, whence)
}
func (v *vfsTarget) fstat(fd int, st *syscall.Stat_t) syscall.Errno {
	return v.f.Fstat(vfs.Handle(fd), st)
}
func (v *vfsTarget) fstatat(dir int, path string, st *syscall.Stat_t, flags int) syscall.Errno {
	return v.f.Fstatat(vfs.Handle(dir), path, st, flags)
}
func (v *vfsTarget) getdents(fd int, buf []byte) (int, syscall.Errno) {
	return v.f.Getdents64(vfs.Handle(fd), buf)
}
func (v *vfsTarget) mkdirat(dir int, path string, mode uint32) syscall.Errno {
	return v.f.Mkdirat(vfs.Handle(dir), path, mode)
}
func (v *vfsTarget) unlinkat(dir int, path string, flags int) syscall.Errno {
	return v.f.Unlinkat(vfs.Handle(dir), path, flags)
}
func (v *vfsTarget) renameat(odir int, opath string, ndir int, npath string) syscall.Errno {
	return v.f.Renameat(vfs.Handle(odir), opath, vfs.Handle(ndir), npath)
}
func (v *vfsTarget) linkat(odir int, opath string, ndir int, npath string, flags int) syscall.Errno {
	return v.f.Linkat(vfs.Handle(odir), opath, vfs.Handle(ndir), npath, flags)
}
func (v *vfsTarget) symlinkat(target string, dir int, path string) syscall.Errno {
	return v.f.Symlinkat(target, vfs.Handle(dir), path)
}
func (v *vfsTarget) readlinkat(dir int, path string, buf []byte) (int, syscall.Errno) {
	return v.f.Readlinkat(vfs.Handle(dir), path, buf)
}
func (v *vfsTarget) ftruncate(fd int, size int64) syscall.Errno {
	return v.f.Ftruncate(vfs.Handle(fd), size)
}
func (v *vfsTarget) fsync(fd int) syscall.Errno { return v.f.Fsync(vfs.Handle(fd)) }
func (v *vfsTarget) fchownat(dir int, path string, uid, gid, flags int) syscall.Errno {
	return v.f.Fchownat(vfs.Handle(dir), path, uid, gid, flags)
}
func (v *vfsTarget) fallocate(fd, mode int, off, length int64) syscall.Errno {
	return v.f.Fallocate(vfs.Handle(fd), mode, off, length)
}
func (v *vfsTarget) dup(fd int) (int, syscall.Errno) {
	h, e := v.f.Dup(vfs.Handle(fd))
	return int(h), e
}
func (v *vfsTarget) flock(fd, how int) syscall.Errno { return v.f.Flock(vfs.Handle(fd), how) }
func (v *vfsTarget) fchmod(fd int, mode uint32) syscall.Errno {
	return v.f.Fchmod(vfs.Handle(fd), mode)
}
func (v *vfsTarget) fchmodat(dir int, path string, mode uint32) syscall.Errno {
	return v.f.Fchmodat(vfs.Handle(dir), path, mode, 0)
}
func (v *vfsTarget) faccessat(dir int, path string, mode uint32, flags int) syscall.Errno {
	return v.f.Access(vfs.Handle(dir), path, mode, flags)
}

// newTargets returns a fresh vfs.FS target based in /base and a host
// target based in a new temporary directory; both are closed at cleanup.
func newTargets(tb testing.TB) (*vfsTarget, *hostTarget) {
	f := vfs.New()
	if e := f.Mkdirat(vfs.AtFDCWD, "/base", 0o755); e != 0 {
		tb.Fatal(e)
	}
	vb, e := f.Openat(vfs.AtFDCWD, "/base", syscall.O_RDONLY|syscall.O_DIRECTORY, 0)
	if e != 0 {
		tb.Fatal(e)
	}
	hd, err := syscall.Open(tb.TempDir(), syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		tb.Fatal(err)
	}
	host := &hostTarget{dir: hd}
	tb.Cleanup(func() {
		for _, fd := range host.fds {
			syscall.Close(fd)
		}
		syscall.Close(hd)
	})
	return &vfsTarget{f: f, root: vb}, host
}

// hostTarget runs operations on the host kernel through package syscall.
type hostTarget struct {
	dir int
	fds []int // opened here, closed by cleanup
}

func (h *hostTarget) base() int { return h.dir }

// count is a host call's byte count and errno (0 bytes on error).
func count(n int, err error) (int, syscall.Errno) {
	if err != nil {
		return 0, errno(err)
	}
	return n, 0
}

func errno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	if e, ok := err.(syscall.Errno); ok {
		return e
	}
	return syscall.EIO
}

func bytePtr(s string) (*byte, syscall.Errno) {
	p, err := syscall.BytePtrFromString(s)
	return p, errno(err)
}

// raw makes a system call whose path arguments are given as strings.
func raw(trap uintptr, args ...any) (uintptr, syscall.Errno) {
	var a [6]uintptr
	var keep []*byte
	for i, x := range args {
		switch v := x.(type) {
		case string:
			p, e := bytePtr(v)
			if e != 0 {
				return 0, e
			}
			keep = append(keep, p)
			a[i] = uintptr(unsafe.Pointer(p))
		case []byte:
			if len(v) > 0 {
				a[i] = uintptr(unsafe.Pointer(&v[0]))
			}
		case int:
			a[i] = uintptr(v)
		case uint32:
			a[i] = uintptr(v)
		}
	}
	r, _, e := syscall.Syscall6(trap, a[0], a[1], a[2], a[3], a[4], a[5])
	runtime.KeepAlive(keep)
	runtime.KeepAlive(args)
	return r, e
}

func (h *hostTarget) openat(dir int, path string, flags int, mode uint32) (int, syscall.Errno) {
	fd, err := syscall.Openat(dir, path, flags|syscall.O_CLOEXEC, mode)
	if err == nil {
		h.fds = append(h.fds, fd)
	}
	return fd, errno(err)
}
func (h *hostTarget) close(fd int) syscall.Errno { return errno(syscall.Close(fd)) }
func (h *hostTarget) read(fd int, p []byte) (int, syscall.Errno) {
	n, e := count(syscall.Read(fd, p))
	var st syscall.Stat_t
	if e == syscall.EINVAL && syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		// After getdents, ext4 leaves a directory at its end-of-directory
		// cookie, 1<<63-1, and read fails the offset range check (EINVAL)
		// before reaching EISDIR; other file systems say EISDIR.
		e = syscall.EISDIR
	}
	return n, e
}
func (h *hostTarget) write(fd int, p []byte) (int, syscall.Errno) {
	return count(syscall.Write(fd, p))
}
func (h *hostTarget) pread(fd int, p []byte, off int64) (int, syscall.Errno) {
	return count(syscall.Pread(fd, p, off))
}
func (h *hostTarget) pwrite(fd int, p []byte, off int64) (int, syscall.Errno) {
	return count(syscall.Pwrite(fd, p, off))
}
func (h *hostTarget) seek(fd int, off int64, whence int) (int64, syscall.Errno) {
	n, err := syscall.Seek(fd, off, whence)
	return n, errno(err)
}
func (h *hostTarget) fstat(fd int, st *syscall.Stat_t) syscall.Errno {
	return errno(syscall.Fstat(fd, st))
}
func (h *hostTarget) fstatat(dir int, path string, st *syscall.Stat_t, flags int) syscall.Errno {
	_, e := raw(syscall.SYS_NEWFSTATAT, dir, path, int(uintptr(unsafe.Pointer(st))), flags)
	return e
}
func (h *hostTarget) getdents(fd int, buf []byte) (int, syscall.Errno) {
	n, err := syscall.Getdents(fd, buf)
	return n, errno(err)
}
func (h *hostTarget) mkdirat(dir int, path string, mode uint32) syscall.Errno {
	return errno(syscall.Mkdirat(dir, path, mode))
}
func (h *hostTarget) unlinkat(dir int, path string, flags int) syscall.Errno {
	_, e := raw(syscall.SYS_UNLINKAT, dir, path, flags)
	return e
}
func (h *hostTarget) renameat(odir int, opath string, ndir int, npath string) syscall.Errno {
	return errno(syscall.Renameat(odir, opath, ndir, npath))
}
func (h *hostTarget) linkat(odir int, opath string, ndir int, npath string, flags int) syscall.Errno {
	_, e := raw(syscall.SYS_LINKAT, odir, opath, ndir, npath, flags)
	return e
}
func (h *hostTarget) symlinkat(target string, dir int, path string) syscall.Errno {
	_, e := raw(syscall.SYS_SYMLINKAT, target, dir, path)
	return e
}
func (h *hostTarget) readlinkat(dir int, path string, buf []byte) (int, syscall.Errno) {
	n, e := raw(syscall.SYS_READLINKAT, dir, path, buf, len(buf))
	if e != 0 {
		return 0, e
	}
	return int(n), 0
}
func (h *hostTarget) ftruncate(fd int, size int64) syscall.Errno {
	return errno(syscall.Ftruncate(fd, size))
}
func (h *hostTarget) fsync(fd int) syscall.Errno { return errno(syscall.Fsync(fd)) }
func (h *hostTarget) fchownat(dir int, path string, uid, gid, flags int) syscall.Errno {
	return errno(syscall.Fchownat(dir, path, uid, gid, flags))
}
func (h *hostTarget) fallocate(fd, mode int, off, length int64) syscall.Errno {
	return errno(syscall.Fallocate(fd, uint32(mode), off, length))
}
func (h *hostTarget) dup(fd int) (int, syscall.Errno) {
	n, err := syscall.Dup(fd)
	if err == nil {
		h.fds = append(h.fds, n)
	}
	return n, errno(err)
}
func (h *hostTarget) flock(fd, how int) syscall.Errno { return errno(syscall.Flock(fd, how)) }
func (h *hostTarget) fchmod(fd int, mode uint32) syscall.Errno {
	return errno(syscall.Fchmod(fd, mode))
}
func (h *hostTarget) fchmodat(dir int, path string, mode uint32) syscall.Errno {
	_, e := raw(syscall.SYS_FCHMODAT, dir, path, mode)
	return e
}
func (h *hostTarget) faccessat(dir int, path string, mode uint32, flags int) syscall.Errno {
	_, e := raw(439 /* faccessat2 */, dir, path, mode, flags)
	return e
}

// dirent is one parsed linux_dirent64 record.
type dirent struct {
	ino  uint64
	off  int64
	typ  byte
	name string
}

// parseDirents decodes linux_dirent64 records, checking their layout:
// 8-byte aligned lengths and a NUL-terminated name inside the record.
func parseDirents(buf []byte) ([]dirent, string) {
	var out []dirent
	for len(buf) > 0 {
		if len(buf) < 19 {
			return out, "short record header"
		}
		reclen := int(binary.LittleEndian.Uint16(buf[16:]))
		if reclen < 20 || reclen > len(buf) || reclen%8 != 0 {
			return out, "bad d_reclen"
		}
		name := buf[19:reclen]
		end := 0
		for end < len(name) && name[end] != 0 {
			end++
		}
		if end == len(name) {
			return out, "name not NUL-terminated"
		}
		out = append(out, dirent{
			ino:  binary.LittleEndian.Uint64(buf),
			off:  int64(binary.LittleEndian.Uint64(buf[8:])),
			typ:  buf[18],
			name: string(name[:end]),
		})
		buf = buf[reclen:]
	}
	return out, ""
}

// listDir reads a whole directory through getdents in small buffers and
// returns "name/type" strings, sorted.
func listDir(tg target, fd int, bufSize int) ([]string, syscall.Errno, string) {
	var names []string
	buf := make([]byte, bufSize)
	for {
		n, e := tg.getdents(fd, buf)
		if e != 0 {
			return nil, e, ""
		}
		if n == 0 {
			break
		}
		ents, bad := parseDirents(buf[:n])
		if bad != "" {
			return nil, 0, bad
		}
		for _, d := range ents {
			names = append(names, d.name+"/"+string("?pc?d?b?-?l?s???"[d.typ&15]))
		}
	}
	sort.Strings(names)
	return names, 0, ""
}
