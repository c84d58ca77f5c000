package vfs

import (
	"syscall"

	"github.com/xairrosx/xairrosx/fs/backend"
)

// pipeDev is the device number pipes report in fstat (Linux's pipefs is
// an anonymous device too).
const pipeDev = 0xfffe

// pipe is an in-memory pipe buffer of PipeSize bytes.
type pipe struct {
	ino     uint64
	buf     []byte // unread data, at most PipeSize
	readers int
	writers int
}

func (p *pipe) closeEnd(writer bool) {
	if writer {
		p.writers--
	} else {
		p.readers--
	}
	if p.readers == 0 {
		p.buf = nil
	}
}

func (p *pipe) ready(writer bool) (readable, writable bool) {
	if writer {
		return false, len(p.buf) < PipeSize || p.readers == 0
	}
	return len(p.buf) > 0 || p.writers == 0, false
}

func (p *pipe) stat(st *syscall.Stat_t) {
	*st = syscall.Stat_t{Dev: pipeDev, Ino: p.ino, Nlink: 1, Mode: backend.TypeFIFO | 0o600, Blksize: 4096}
}

// Pipe makes a pipe and returns its read and write ends (pipe(2)).
func (f *FS) Pipe() (r, w Handle, errno syscall.Errno) {
	return f.Pipe2(0)
}

// Pipe2 is Pipe with flags; O_NONBLOCK is kept on both ends, O_CLOEXEC is
// the kernel's business and ignored here, others give EINVAL.
func (f *FS) Pipe2(flags int) (r, w Handle, errno syscall.Errno) {
	if flags&^(syscall.O_NONBLOCK|syscall.O_CLOEXEC|syscall.O_DIRECT) != 0 {
		return -1, -1, syscall.EINVAL
	}
	f.lock()
	defer f.unlock()
	f.nextPipe++
	p := &pipe{ino: f.nextPipe, readers: 1, writers: 1}
	st := flags & (syscall.O_NONBLOCK | syscall.O_DIRECT)
	rd := &desc{pipe: p, flags: syscall.O_RDONLY | st}
	wd := &desc{pipe: p, writer: true, flags: syscall.O_WRONLY | st}
	r, e := f.install(rd)
	if e != 0 {
		return -1, -1, e
	}
	w, e = f.install(wd)
	if e != 0 {
		delete(f.handles, r)
		return -1, -1, e
	}
	return r, w, 0
}

// pipeRead reads what is buffered, blocking (unless O_NONBLOCK) while the
// pipe is empty and has a writer; 0 means end of file.
func (f *FS) pipeRead(d *desc, b []byte, nonblock bool) (int, syscall.Errno) {
	p := d.pipe
	if len(b) == 0 {
		return 0, 0
	}
	for len(p.buf) == 0 {
		if p.writers == 0 {
			return 0, 0
		}
		if nonblock || d.flags&syscall.O_NONBLOCK != 0 {
			return 0, syscall.EAGAIN
		}
		f.cond.Wait()
		if d.refs == 0 {
			return 0, syscall.EBADF
		}
	}
	n := copy(b, p.buf)
	p.buf = p.buf[n:]
	if len(p.buf) == 0 {
		p.buf = nil
	}
	f.dirty = true
	f.cond.Broadcast()
	return n, 0
}

// pipeWrite writes all of b, blocking (unless O_NONBLOCK) while the pipe is
// full; writes of at most PipeBuf bytes are atomic. With no reader left it
// answers EPIPE (the kernel raises SIGPIPE).
func (f *FS) pipeWrite(d *desc, b []byte, nonblock bool) (int, syscall.Errno) {
	p := d.pipe
	done := 0
	for {
		if p.readers == 0 {
			if done > 0 {
				return done, 0
			}
			return 0, syscall.EPIPE
		}
		if done == len(b) {
			return done, 0
		}
		space := PipeSize - len(p.buf)
		rest := len(b) - done
		if space > 0 && (rest > PipeBuf || space >= rest) {
			n := min(space, rest)
			p.buf = append(p.buf, b[done:done+n]...)
			done += n
			f.dirty = true
			f.cond.Broadcast()
			continue
		}
		if nonblock || d.flags&syscall.O_NONBLOCK != 0 {
			if done > 0 {
				return done, 0
			}
			return 0, syscall.EAGAIN
		}
		f.cond.Wait()
		if d.refs == 0 {
			return done, syscall.EBADF
		}
	}
}
