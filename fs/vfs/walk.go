package vfs

import (
	"syscall"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// How the last component of a path is treated when it is a symbolic link.
const (
	noFollow    = 0 // lstat, O_NOFOLLOW: not followed, unless the path ends in '/'
	follow      = 1 // stat, open: followed
	neverFollow = 2 // unlink, rmdir, rename, mkdir, symlink, link: never followed
)

// followIf returns follow when b is true, else noFollow.
func followIf(b bool) int {
	if b {
		return follow
	}
	return noFollow
}

// walkResult is the outcome of resolving a path.
type walkResult struct {
	parent loc    // directory holding the last component
	name   string // last component; "" for "/" (and "/." etc. when dot is set)
	node   loc    // what the path names; node.n == nil when it does not exist
	slash  bool   // the path ended in '/'
	dot    bool   // the last component is ".", ".." or the path is "/"
}

// start returns where a relative path given with dir begins.
func (f *FS) start(dir Handle, path string) (loc, syscall.Errno) {
	if len(path) > 0 && path[0] == '/' {
		return f.rootLoc(), 0
	}
	if dir == AtFDCWD {
		return f.cwd, 0
	}
	d := f.handles[dir]
	if d == nil {
		return loc{}, syscall.EBADF
	}
	if d.pipe != nil || !d.loc.isDir() {
		return loc{}, syscall.ENOTDIR
	}
	return d.loc, 0
}

// walk resolves path relative to dir.
func (f *FS) walk(dir Handle, path string, how int) (walkResult, syscall.Errno) {
	if path == "" {
		return walkResult{}, syscall.ENOENT
	}
	if len(path) >= PathMax {
		return walkResult{}, syscall.ENAMETOOLONG
	}
	s, e := f.start(dir, path)
	if e != 0 {
		return walkResult{}, e
	}
	links := 0
	return f.resolveN(s, path, how, &links)
}

// existing resolves path to a node that must exist.
func (f *FS) existing(dir Handle, path string, how int) (loc, syscall.Errno) {
	r, e := f.walk(dir, path, how)
	if e != 0 {
		return loc{}, e
	}
	if r.node.n == nil {
		return loc{}, syscall.ENOENT
	}
	return r.node, 0
}

// at resolves the (dir, path) pair of the *at calls: an empty path names
// dir itself (callers check AT_EMPTY_PATH), which may be a pipe.
func (f *FS) at(dir Handle, path string, how int) (l loc, pipe bool, e syscall.Errno) {
	if path != "" {
		l, e = f.existing(dir, path, how)
		return l, false, e
	}
	if dir == AtFDCWD {
		return f.cwd, false, 0
	}
	d := f.handles[dir]
	if d == nil {
		return loc{}, false, syscall.EBADF
	}
	return d.loc, d.pipe != nil, 0
}

// atFlags is at for the calls whose flags take AtSymlinkNofollow and
// AtEmptyPath: an empty path is allowed only with AtEmptyPath.
func (f *FS) atFlags(dir Handle, path string, flags int) (loc, bool, syscall.Errno) {
	if path == "" && flags&AtEmptyPath == 0 {
		return loc{}, false, syscall.ENOENT
	}
	return f.at(dir, path, followIf(flags&AtSymlinkNofollow == 0))
}

// newName resolves the path of a link or symbolic link to be made: the
// name must not exist, and a trailing slash is refused.
func (f *FS) newName(dir Handle, path string) (walkResult, syscall.Errno) {
	r, e := f.walk(dir, path, neverFollow)
	switch {
	case e != 0:
		return r, e
	case r.dot || r.node.n != nil:
		return r, syscall.EEXIST
	case r.slash:
		return r, syscall.ENOENT
	}
	return r, 0
}

// resolve resolves path from start.
func (f *FS) resolve(start loc, path string, how int) (walkResult, syscall.Errno) {
	links := 0
	return f.resolveN(start, path, how, &links)
}

func (f *FS) resolveN(start loc, path string, how int, links *int) (walkResult, syscall.Errno) {
	if path == "" {
		return walkResult{}, syscall.ENOENT
	}
	if len(path) >= PathMax {
		return walkResult{}, syscall.ENAMETOOLONG
	}
	cur := start
	if path[0] == '/' {
		cur = f.rootLoc()
	}
	slash := path[len(path)-1] == '/'
	i := 0
	for {
		// Next component.
		for i < len(path) && path[i] == '/' {
			i++
		}
		if i == len(path) {
			// Only slashes (or nothing) after the start: the path names cur.
			return walkResult{parent: cur, node: cur, slash: slash, dot: true}, 0
		}
		j := i
		for j < len(path) && path[j] != '/' {
			j++
		}
		c := path[i:j]
		k := j
		for k < len(path) && path[k] == '/' {
			k++
		}
		last := k == len(path)
		i = k
		if len(c) > NameMax {
			return walkResult{}, syscall.ENAMETOOLONG
		}
		if !cur.isDir() {
			return walkResult{}, syscall.ENOTDIR
		}
		switch c {
		case ".":
			if last {
				return walkResult{parent: cur, name: c, node: cur, slash: slash, dot: true}, 0
			}
			continue
		case "..":
			p, e := f.parentOf(cur)
			if e != 0 {
				return walkResult{}, e
			}
			if last {
				return walkResult{parent: p, name: c, node: p, slash: slash, dot: true}, 0
			}
			cur = p
			continue
		}
		child, e := f.lookup(cur, c)
		if e == syscall.ENOENT && last {
			return walkResult{parent: cur, name: c, slash: slash}, 0
		}
		if e != 0 {
			return walkResult{}, e
		}
		if child.typ() == backend.TypeLink && (!last || how == follow || (slash && how == noFollow)) {
			*links++
			if *links > MaxSymlinks {
				return walkResult{}, syscall.ELOOP
			}
			target, e := child.n.Readlink()
			if e != 0 {
				return walkResult{}, e
			}
			if last {
				if slash {
					target += "/"
				}
				return f.resolveN(cur, target, follow, links)
			}
			r, e := f.resolveN(cur, target, follow, links)
			if e != 0 {
				return walkResult{}, e
			}
			if r.node.n == nil {
				return walkResult{}, syscall.ENOENT
			}
			cur = r.node
			continue
		}
		if last {
			if slash && how != neverFollow && child.typ() != backend.TypeDir {
				return walkResult{}, syscall.ENOTDIR
			}
			return walkResult{parent: cur, name: c, node: child, slash: slash}, 0
		}
		cur = child
	}
}

// lookup finds name in directory dir, entering file systems mounted there.
func (f *FS) lookup(dir loc, name string) (loc, syscall.Errno) {
	n, e := dir.n.Lookup(name)
	if e != 0 {
		return loc{}, e
	}
	if n == nil {
		return loc{}, syscall.EIO
	}
	l := loc{dir.m, n}
	return f.cross(l), 0
}

// cross returns the root of what is mounted on l (repeatedly), or l.
func (f *FS) cross(l loc) loc {
	for range len(f.mounts) {
		if len(f.byPoint) == 0 || l.typ() != backend.TypeDir {
			return l
		}
		m := f.byPoint[pointKey{l.m, l.ino()}]
		if m == nil {
			return l
		}
		l = loc{m, m.root}
	}
	return l
}

// isRoot reports whether l is the root of the whole tree.
func (f *FS) isRoot(l loc) bool {
	return l.m == f.rootMount() && l.ino() == l.m.rootIno
}

// up climbs from a mount's root to the directory it is mounted on, for as
// long as l is a mount root (other than the tree's root).
func (f *FS) up(l loc) loc {
	for l.m.parent != nil && l.ino() == l.m.rootIno {
		l = loc{l.m.parent, l.m.point}
	}
	return l
}

// parentOf returns the directory "..", never going above the root.
func (f *FS) parentOf(l loc) (loc, syscall.Errno) {
	if f.isRoot(l) {
		return l, 0
	}
	l = f.up(l)
	if f.isRoot(l) {
		return l, 0
	}
	if l.ino() == l.m.rootIno {
		return l, 0 // root of a detached mount
	}
	p, e := l.n.Lookup("..")
	if e != 0 {
		return loc{}, e
	}
	if p == nil {
		return loc{}, syscall.EIO
	}
	return loc{l.m, p}, 0
}

// isMountPoint reports whether something is mounted on l or l is a mount root.
func (f *FS) isMountPoint(l loc) bool {
	if l.m.parent != nil && l.ino() == l.m.rootIno {
		return true
	}
	if l.m.parent == nil && l.ino() == l.m.rootIno {
		return true
	}
	_, ok := f.byPoint[pointKey{l.m, l.ino()}]
	return ok
}
