package vfs

import (
	"syscall"
)

// lockKey names the file an flock lock is on.
type lockKey struct {
	dev, ino uint64
}

// lockState is the set of flock holders of one file.
type lockState struct {
	excl   *desc
	shared map[*desc]bool
}

func (f *FS) lockKeyOf(d *desc) lockKey {
	if d.pipe != nil {
		return lockKey{pipeDev, d.pipe.ino}
	}
	return lockKey{d.loc.m.dev, d.loc.ino()}
}

// Flock takes or drops an advisory lock held by h's description (flock(2)):
// LockSH, LockEX or LockUN, with LockNB answering EWOULDBLOCK instead of
// waiting. Converting a lock first drops the old one, as on Linux.
func (f *FS) Flock(h Handle, how int) syscall.Errno {
	f.lock()
	defer f.unlock()
	d, e := f.fileDesc(h)
	if e != 0 {
		return e
	}
	op := how &^ LockNB
	if op != LockSH && op != LockEX && op != LockUN {
		return syscall.EINVAL
	}
	if op == LockUN {
		if d.lock != 0 {
			f.unlockFile(d)
		}
		return 0
	}
	if d.lock == op {
		return 0
	}
	if d.lock != 0 {
		f.unlockFile(d)
	}
	k := f.lockKeyOf(d)
	for {
		s := f.locks[k]
		if s == nil {
			s = &lockState{shared: map[*desc]bool{}}
			f.locks[k] = s
		}
		free := s.excl == nil && (op == LockSH || len(s.shared) == 0)
		if free {
			if op == LockEX {
				s.excl = d
			} else {
				s.shared[d] = true
			}
			d.lock = op
			return 0
		}
		if how&LockNB != 0 {
			return syscall.EWOULDBLOCK
		}
		f.cond.Wait()
		if d.refs == 0 {
			return syscall.EBADF
		}
	}
}

// unlockFile drops d's flock and wakes waiters.
func (f *FS) unlockFile(d *desc) {
	k := f.lockKeyOf(d)
	if s := f.locks[k]; s != nil {
		if s.excl == d {
			s.excl = nil
		}
		delete(s.shared, d)
		if s.excl == nil && len(s.shared) == 0 {
			delete(f.locks, k)
		}
	}
	d.lock = 0
	f.dirty = true
	f.cond.Broadcast()
}

// POSIX record lock types (struct flock l_type).
const (
	FRdlck = 0
	FWrlck = 1
	FUnlck = 2
)

// PosixLock checks an fcntl F_SETLK/F_SETLKW/F_GETLK request on h. POSIX
// record locks belong to the process, and XairrosX runs one process, whose
// own locks never conflict: a valid request always succeeds at once (and
// F_GETLK reports F_UNLCK). whence and start are as in struct flock, with
// start already made absolute by the caller for SEEK_CUR/SEEK_END. It
// answers EBADF for a read lock on a handle not open for reading or a
// write lock on one not open for writing, EINVAL for a bad type or range.
func (f *FS) PosixLock(h Handle, typ int, start, length int64) syscall.Errno {
	f.lock()
	defer f.unlock()
	d, e := f.fileDesc(h)
	if e != 0 {
		return e
	}
	switch typ {
	case FRdlck:
		if !d.readable() {
			return syscall.EBADF
		}
	case FWrlck:
		if !d.writable() {
			return syscall.EBADF
		}
	case FUnlck:
	default:
		return syscall.EINVAL
	}
	if start < 0 || (length < 0 && start+length < 0) {
		return syscall.EINVAL
	}
	return 0
}
