package vfs_test

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/xairrosx/xairrosx/fs/vfs"
)

// The conformance test runs testdata/conformance.txt, a script of file
// system operations, against the XairrosX FS and against the host kernel
// (in t.TempDir(), through package syscall), and requires the same result
// at every step. A step may also state the result it must give ("-> ...").
//
// Script syntax: one operation per line, "#" starts a comment.
//
//	op arg... [-> want]
//
// Slots (capital names) stand for open descriptors; paths are relative to
// the test's base directory; TEXT arguments may be Go-quoted strings.

var errnoNames = map[syscall.Errno]string{
	syscall.ENOENT: "ENOENT", syscall.EEXIST: "EEXIST", syscall.ENOTDIR: "ENOTDIR",
	syscall.EISDIR: "EISDIR", syscall.ENOTEMPTY: "ENOTEMPTY", syscall.EBADF: "EBADF",
	syscall.EINVAL: "EINVAL", syscall.ELOOP: "ELOOP", syscall.ENAMETOOLONG: "ENAMETOOLONG",
	syscall.EXDEV: "EXDEV", syscall.EROFS: "EROFS", syscall.ENOSPC: "ENOSPC",
	syscall.EBUSY: "EBUSY", syscall.EPERM: "EPERM", syscall.EACCES: "EACCES",
	syscall.EAGAIN: "EAGAIN", syscall.ESPIPE: "ESPIPE", syscall.EFBIG: "EFBIG",
	syscall.ENXIO: "ENXIO", syscall.EOPNOTSUPP: "EOPNOTSUPP", syscall.EOVERFLOW: "EOVERFLOW",
	syscall.EPIPE: "EPIPE",
}

func errName(e syscall.Errno) string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return fmt.Sprintf("errno%d", int(e))
}

var openFlags = map[string]int{
	"RDONLY": syscall.O_RDONLY, "WRONLY": syscall.O_WRONLY, "RDWR": syscall.O_RDWR,
	"CREAT": syscall.O_CREAT, "EXCL": syscall.O_EXCL, "TRUNC": syscall.O_TRUNC,
	"APPEND": syscall.O_APPEND, "DIRECTORY": syscall.O_DIRECTORY, "NOFOLLOW": syscall.O_NOFOLLOW,
	"NONBLOCK": syscall.O_NONBLOCK, "PATH": vfs.OPath,
}

// tokenize splits a script line into words; "..." words are Go strings.
func tokenize(line string) ([]string, error) {
	var out []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '"' {
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				return nil, err
			}
			s, _ := strconv.Unquote(q)
			out = append(out, s)
			line = line[len(q):]
			continue
		}
		i := strings.IndexAny(line, " \t")
		if i < 0 {
			i = len(line)
		}
		out = append(out, line[:i])
		line = line[i:]
	}
	return out, nil
}

// runner executes script steps on one target.
type runner struct {
	tg    target
	slots map[string]int
}

func num(s string) int64 {
	n, err := strconv.ParseInt(s, 0, 64)
	if err != nil {
		panic(fmt.Sprintf("bad number %q", s))
	}
	return n
}

func octal(s string) uint32 {
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		panic(fmt.Sprintf("bad mode %q", s))
	}
	return uint32(n)
}

// statString renders the parts of a stat that every file system agrees on
// (directory sizes and block counts vary between host file systems).
func statString(st *syscall.Stat_t) string {
	typ := map[uint32]string{syscall.S_IFREG: "reg", syscall.S_IFDIR: "dir", syscall.S_IFLNK: "lnk", syscall.S_IFIFO: "fifo"}[st.Mode&syscall.S_IFMT]
	s := fmt.Sprintf("type=%s perm=%04o nlink=%d", typ, st.Mode&0o7777, st.Nlink)
	if typ != "dir" {
		s += fmt.Sprintf(" size=%d", st.Size)
	}
	return s
}

func (r *runner) slot(name string) int {
	fd, ok := r.slots[name]
	if !ok {
		return 1 << 20 // never open: EBADF on both targets
	}
	return fd
}

func (r *runner) flags(s string) int {
	fl := 0
	for _, w := range strings.Split(s, "|") {
		v, ok := openFlags[w]
		if !ok {
			panic(fmt.Sprintf("bad open flag %q", w))
		}
		fl |= v
	}
	return fl
}

func result(e syscall.Errno, ok string) string {
	if e != 0 {
		return errName(e)
	}
	return ok
}

// readAll reads fd to its end.
func (r *runner) readAll(fd int) (string, syscall.Errno) {
	var out []byte
	buf := make([]byte, 5)
	for {
		n, e := r.tg.read(fd, buf)
		if e != 0 {
			return "", e
		}
		if n == 0 {
			return string(out), 0
		}
		out = append(out, buf[:n]...)
	}
}

// step runs one operation and renders its result.
func (r *runner) step(w []string) string {
	tg, b := r.tg, r.tg.base()
	var st syscall.Stat_t
	switch w[0] {
	case "mkdir":
		return result(tg.mkdirat(b, w[1], octal(w[2])), "ok")
	case "open", "openat":
		dir, rest := b, w[2:]
		if w[0] == "openat" {
			dir, rest = r.slot(w[2]), w[3:]
		}
		mode := uint32(0o644)
		if len(rest) > 2 {
			mode = octal(rest[2])
		}
		fd, e := tg.openat(dir, rest[0], r.flags(rest[1]), mode)
		if e == 0 {
			r.slots[w[1]] = fd
		}
		return result(e, "ok")
	case "close":
		e := tg.close(r.slot(w[1]))
		delete(r.slots, w[1])
		return result(e, "ok")
	case "write":
		n, e := tg.write(r.slot(w[1]), []byte(w[2]))
		return result(e, fmt.Sprintf("n=%d", n))
	case "pwrite":
		n, e := tg.pwrite(r.slot(w[1]), []byte(w[3]), num(w[2]))
		return result(e, fmt.Sprintf("n=%d", n))
	case "read":
		p := make([]byte, num(w[2]))
		n, e := tg.read(r.slot(w[1]), p)
		return result(e, strconv.Quote(string(p[:n])))
	case "pread":
		p := make([]byte, num(w[3]))
		n, e := tg.pread(r.slot(w[1]), p, num(w[2]))
		return result(e, strconv.Quote(string(p[:n])))
	case "seek":
		wh := map[string]int{"set": 0, "cur": 1, "end": 2, "data": 3, "hole": 4, "bad": 9}[w[3]]
		fd := r.slot(w[1])
		if tg.fstat(fd, &st) == 0 && st.Mode&syscall.S_IFMT == syscall.S_IFDIR && (wh != 0 || num(w[2]) != 0) {
			// Directory offsets are opaque cookies that differ between
			// file systems; only rewinding to 0 is portable.
			return "directory offset"
		}
		pos, e := tg.seek(fd, num(w[2]), wh)
		return result(e, fmt.Sprintf("pos=%d", pos))
	case "fstat":
		e := tg.fstat(r.slot(w[1]), &st)
		return result(e, statString(&st))
	case "stat", "lstat":
		fl := 0
		if w[0] == "lstat" {
			fl = vfs.AtSymlinkNofollow
		}
		e := tg.fstatat(b, w[1], &st, fl)
		return result(e, statString(&st))
	case "sameino":
		var st2 syscall.Stat_t
		if e := tg.fstatat(b, w[1], &st, vfs.AtSymlinkNofollow); e != 0 {
			return errName(e)
		}
		if e := tg.fstatat(b, w[2], &st2, vfs.AtSymlinkNofollow); e != 0 {
			return errName(e)
		}
		if st.Ino == st2.Ino && st.Dev == st2.Dev {
			return "same"
		}
		return "different"
	case "ls", "lsat":
		fd, close := r.slot(w[1]), false
		if w[0] == "lsat" {
			var e syscall.Errno
			if fd, e = tg.openat(b, w[1], syscall.O_RDONLY|syscall.O_DIRECTORY, 0); e != 0 {
				return errName(e)
			}
			close = true
		}
		names, e, bad := listDir(tg, fd, 64)
		if close {
			tg.close(fd)
		}
		if bad != "" {
			return "bad dirent: " + bad
		}
		return result(e, strings.Join(names, " "))
	case "unlinkat", "rmdirat":
		fl := 0
		if w[0] == "rmdirat" {
			fl = vfs.AtRemoveDir
		}
		return result(tg.unlinkat(r.slot(w[1]), w[2], fl), "ok")
	case "getdents":
		n, e := tg.getdents(r.slot(w[1]), make([]byte, num(w[2])))
		return result(e, fmt.Sprintf("bytes>0=%v", n > 0))
	case "renameat":
		return result(tg.renameat(r.slot(w[1]), w[2], r.slot(w[3]), w[4]), "ok")
	case "unlink":
		return result(tg.unlinkat(b, w[1], 0), "ok")
	case "rmdir":
		return result(tg.unlinkat(b, w[1], vfs.AtRemoveDir), "ok")
	case "rename":
		return result(tg.renameat(b, w[1], b, w[2]), "ok")
	case "link":
		return result(tg.linkat(b, w[1], b, w[2], 0), "ok")
	case "symlink":
		return result(tg.symlinkat(w[1], b, w[2]), "ok")
	case "readlink":
		p := make([]byte, 256)
		if len(w) > 2 {
			p = p[:num(w[2])]
		}
		n, e := tg.readlinkat(b, w[1], p)
		return result(e, strconv.Quote(string(p[:n])))
	case "ftruncate":
		return result(tg.ftruncate(r.slot(w[1]), num(w[2])), "ok")
	case "chown", "lchown":
		id := func(s string) int {
			if s == "me" {
				return os.Getuid()
			}
			if s == "mygroup" {
				return os.Getgid()
			}
			return int(num(s))
		}
		fl := 0
		if w[0] == "lchown" {
			fl = vfs.AtSymlinkNofollow
		}
		return result(tg.fchownat(b, w[1], id(w[2]), id(w[3]), fl), "ok")
	case "owner":
		if e := tg.fstatat(b, w[1], &st, vfs.AtSymlinkNofollow); e != 0 {
			return errName(e)
		}
		if int(st.Uid) == os.Getuid() && int(st.Gid) == os.Getgid() {
			return fmt.Sprintf("mine mode=%o", st.Mode)
		}
		return fmt.Sprintf("uid=%d gid=%d mode=%o", st.Uid, st.Gid, st.Mode)
	case "fallocate":
		mode := map[string]int{"alloc": 0, "keep": vfs.FallocKeepSize, "punch": vfs.FallocPunchHole | vfs.FallocKeepSize,
			"punchonly": vfs.FallocPunchHole, "zero": vfs.FallocZeroRange, "collapse": 0x08}[w[2]]
		return result(tg.fallocate(r.slot(w[1]), mode, num(w[3]), num(w[4])), "ok")
	case "fsync":
		return result(tg.fsync(r.slot(w[1])), "ok")
	case "dup":
		fd, e := tg.dup(r.slot(w[2]))
		if e == 0 {
			r.slots[w[1]] = fd
		}
		return result(e, "ok")
	case "flock":
		how := map[string]int{"sh": vfs.LockSH, "ex": vfs.LockEX, "un": vfs.LockUN}[w[2]]
		if len(w) > 3 && w[3] == "nb" {
			how |= vfs.LockNB
		}
		return result(tg.flock(r.slot(w[1]), how), "ok")
	case "fchmod":
		return result(tg.fchmod(r.slot(w[1]), octal(w[2])), "ok")
	case "chmod":
		return result(tg.fchmodat(b, w[1], octal(w[2])), "ok")
	case "access":
		m := uint32(0)
		for _, c := range w[2] {
			m |= map[rune]uint32{'r': vfs.ROK, 'w': vfs.WOK, 'x': vfs.XOK, 'f': vfs.FOK}[c]
		}
		return result(tg.faccessat(b, w[1], m, 0), "ok")
	case "cat":
		fd, e := tg.openat(b, w[1], syscall.O_RDONLY, 0)
		if e != 0 {
			return errName(e)
		}
		defer tg.close(fd)
		s, e := r.readAll(fd)
		return result(e, strconv.Quote(s))
	case "put":
		fd, e := tg.openat(b, w[1], syscall.O_WRONLY|syscall.O_CREAT|syscall.O_TRUNC, 0o644)
		if e != 0 {
			return errName(e)
		}
		defer tg.close(fd)
		_, e = tg.write(fd, []byte(w[2]))
		return result(e, "ok")
	case "mkfiles":
		for i := range num(w[2]) {
			fd, e := tg.openat(b, fmt.Sprintf("%s/file-with-a-longer-name-%03d", w[1], i), syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL, 0o644)
			if e != 0 {
				return errName(e)
			}
			tg.close(fd)
		}
		return "ok"
	}
	panic(fmt.Sprintf("unknown operation %q", w[0]))
}

// expand replaces $LONGNAME (256 bytes) and $LONGPATH (4096 bytes).
func expand(s string) string {
	s = strings.ReplaceAll(s, "$LONGNAME", strings.Repeat("n", 256))
	return strings.ReplaceAll(s, "$LONGPATH", strings.Repeat("d/", 2048))
}

func TestConformance(t *testing.T) {
	script, err := os.ReadFile("testdata/conformance.txt")
	if err != nil {
		t.Fatal(err)
	}
	v, host := newTargets(t)
	f, vb := v.f, v.root
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	rv := &runner{tg: v, slots: map[string]int{}}
	rh := &runner{tg: host, slots: map[string]int{}}
	sc := bufio.NewScanner(strings.NewReader(string(script)))
	lineNo, steps := 0, 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if i := strings.Index(line, "#"); i >= 0 && !strings.Contains(line[:i], `"`) {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		want := ""
		if i := strings.LastIndex(line, " -> "); i >= 0 {
			want, line = strings.TrimSpace(line[i+4:]), line[:i]
		}
		w, err := tokenize(expand(line))
		if err != nil {
			t.Fatalf("line %d: %v", lineNo, err)
		}
		steps++
		got, exp := rv.step(w), rh.step(w)
		if got != exp {
			t.Errorf("line %d: %s\n\txairrosx: %s\n\thost:     %s", lineNo, line, got, exp)
		}
		if want != "" && exp != want {
			t.Errorf("line %d: %s\n\thost gives %s, script expects %s", lineNo, line, exp, want)
		}
	}
	t.Logf("%d steps compared", steps)
	if steps < 100 {
		t.Errorf("only %d steps ran", steps)
	}
	for name, fd := range rv.slots {
		if e := f.Close(vfs.Handle(fd)); e != 0 {
			t.Errorf("closing slot %s: %v", name, e)
		}
	}
	f.Close(vb)
	if n := f.OpenHandles(); n != 0 {
		t.Errorf("%d handles leaked", n)
	}
}
