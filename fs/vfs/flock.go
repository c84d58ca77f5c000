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
