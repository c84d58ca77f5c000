package vfs

import (
	"encoding/binary"
	"io"
	"io/fs"
	"path"
	"syscall"
	"time"
)

// IOFS returns the tree below dir of f as an io/fs.FS (with ReadDirFS,
// StatFS and ReadLinkFS), for host tools and for checking the FS with
// testing/fstest. Open and Stat follow symbolic links.
func IOFS(f *FS, dir string) fs.FS { return ioFS{f, dir} }

type ioFS struct {
	f   *FS
	dir string
}

func (i ioFS) path(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return path.Join(i.dir, name), nil
}

// Open implements fs.FS.
func (i ioFS) Open(name string) (fs.File, error) {
	p, err := i.path("open", name)
	if err != nil {
		return nil, err
	}
	h, e := i.f.Openat(AtFDCWD, p, syscall.O_RDONLY, 0)
	if e != 0 {
		return nil, &fs.PathError{Op: "open", Path: name, Err: e}
	}
	return &ioFile{f: i.f, h: h, name: name}, nil
}

// Stat implements fs.StatFS.
func (i ioFS) Stat(name string) (fs.FileInfo, error) {
	p, err := i.path("stat", name)
	if err != nil {
		return nil, err
	}
	var st syscall.Stat_t
	if e := i.f.Fstatat(AtFDCWD, p, &st, 0); e != 0 {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: e}
	}
	return fileInfo{path.Base(name), st}, nil
}

// Lstat implements fs.ReadLinkFS.
func (i ioFS) Lstat(name string) (fs.FileInfo, error) {
	p, err := i.path("lstat", name)
	if err != nil {
		return nil, err
	}
	var st syscall.Stat_t
	if e := i.f.Fstatat(AtFDCWD, p, &st, AtSymlinkNofollow); e != 0 {
		return nil, &fs.PathError{Op: "lstat", Path: name, Err: e}
	}
	return fileInfo{path.Base(name), st}, nil
}

// ReadLink implements fs.ReadLinkFS.
func (i ioFS) ReadLink(name string) (string, error) {
	p, err := i.path("readlink", name)
	if err != nil {
		return "", err
	}
	buf := make([]byte, PathMax)
	n, e := i.f.Readlinkat(AtFDCWD, p, buf)
	if e != 0 {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: e}
	}
	return string(buf[:n]), nil
}

// ReadDir implements fs.ReadDirFS.
func (i ioFS) ReadDir(name string) ([]fs.DirEntry, error) {
	f, err := i.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d, ok := f.(fs.ReadDirFile)
	if !ok {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: syscall.ENOTDIR}
	}
	return d.ReadDir(-1)
}

// fileInfo is an fs.FileInfo from a Stat_t.
type fileInfo struct {
	name string
	st   syscall.Stat_t
}

func (fi fileInfo) Name() string       { return fi.name }
func (fi fileInfo) Size() int64        { return fi.st.Size }
func (fi fileInfo) ModTime() time.Time { return time.Unix(fi.st.Mtim.Unix()) }
func (fi fileInfo) IsDir() bool        { return fi.st.Mode&syscall.S_IFMT == syscall.S_IFDIR }
func (fi fileInfo) Sys() any           { return &fi.st }
func (fi fileInfo) Mode() fs.FileMode  { return fileMode(fi.st.Mode) }

// fileMode converts Linux mode bits to an fs.FileMode.
func fileMode(m uint32) fs.FileMode {
	mode := fs.FileMode(m & 0o777)
	switch m & syscall.S_IFMT {
	case syscall.S_IFDIR:
		mode |= fs.ModeDir
	case syscall.S_IFLNK:
		mode |= fs.ModeSymlink
	case syscall.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		mode |= fs.ModeSocket
	case syscall.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		mode |= fs.ModeDevice
	}
	if m&syscall.S_ISUID != 0 {
		mode |= fs.ModeSetuid
	}
	if m&syscall.S_ISGID != 0 {
		mode |= fs.ModeSetgid
	}
	if m&syscall.S_ISVTX != 0 {
		mode |= fs.ModeSticky
	}
	return mode
}

// ioFile is an open file of an ioFS.
type ioFile struct {
	f       *FS
	h       Handle
	name    string
	pending []fs.DirEntry // read from the directory, not yet returned
	eof     bool
}

func (o *ioFile) err(op string, e syscall.Errno) error {
	return &fs.PathError{Op: op, Path: o.name, Err: e}
}

// Stat implements fs.File.
func (o *ioFile) Stat() (fs.FileInfo, error) {
	var st syscall.Stat_t
	if e := o.f.Fstat(o.h, &st); e != 0 {
		return nil, o.err("stat", e)
	}
	return fileInfo{path.Base(o.name), st}, nil
}

// Read implements fs.File.
func (o *ioFile) Read(p []byte) (int, error) {
	n, e := o.f.Read(o.h, p)
	if e != 0 {
		return n, o.err("read", e)
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	return n, nil
}

// ReadAt implements io.ReaderAt.
func (o *ioFile) ReadAt(p []byte, off int64) (int, error) {
	done := 0
	for done < len(p) {
		n, e := o.f.Pread(o.h, p[done:], off+int64(done))
		if e != 0 {
			return done, o.err("read", e)
		}
		if n == 0 {
			return done, io.EOF
		}
		done += n
	}
	return done, nil
}

// Seek implements io.Seeker.
func (o *ioFile) Seek(off int64, whence int) (int64, error) {
	pos, e := o.f.Seek(o.h, off, whence)
	if e != 0 {
		return 0, o.err("seek", e)
	}
	return pos, nil
}

// Close implements fs.File.
func (o *ioFile) Close() error {
	if e := o.f.Close(o.h); e != 0 {
		return o.err("close", e)
	}
	return nil
}

// ReadDir implements fs.ReadDirFile with getdents64.
func (o *ioFile) ReadDir(n int) ([]fs.DirEntry, error) {
	buf := make([]byte, 8192)
	for !o.eof && (n <= 0 || len(o.pending) < n) {
		m, e := o.f.Getdents64(o.h, buf)
		if e != 0 {
			return nil, o.err("readdirent", e)
		}
		if m == 0 {
			o.eof = true
			break
		}
		for off := 0; off < m; {
			reclen := int(binary.LittleEndian.Uint16(buf[off+16:]))
			name := buf[off+19 : off+reclen]
			for i, c := range name {
				if c == 0 {
					name = name[:i]
					break
				}
			}
			typ := uint32(buf[off+18]) << 12
			off += reclen
			if s := string(name); s != "." && s != ".." {
				o.pending = append(o.pending, dirEntry{o, s, typ})
			}
		}
	}
	if n <= 0 {
		out := o.pending
		o.pending = nil
		return out, nil
	}
	if len(o.pending) == 0 {
		return nil, io.EOF
	}
	k := min(n, len(o.pending))
	out := o.pending[:k:k]
	o.pending = o.pending[k:]
	return out, nil
}

// dirEntry is an fs.DirEntry from a linux_dirent64 record.
type dirEntry struct {
	dir  *ioFile
	name string
	typ  uint32
}

func (d dirEntry) Name() string      { return d.name }
func (d dirEntry) IsDir() bool       { return d.typ == syscall.S_IFDIR }
func (d dirEntry) Type() fs.FileMode { return fileMode(d.typ).Type() }
func (d dirEntry) Info() (fs.FileInfo, error) {
	var st syscall.Stat_t
	if e := d.dir.f.Fstatat(d.dir.h, d.name, &st, AtSymlinkNofollow); e != 0 {
		return nil, &fs.PathError{Op: "lstat", Path: path.Join(d.dir.name, d.name), Err: e}
	}
	return fileInfo{d.name, st}, nil
}
