package kernel

// Pipes live in the kernel, not in the file-system service: Go creates them
// with a raw system call (the calling thread keeps its P, so a service
// goroutine might never get to run), and in the kernel they take part in
// epoll like sockets will, so Go's netpoller does the blocking. Each pipe has
// a one-frame ring buffer.

const (
	maxPipes  = 64
	pipeSize  = pageSize
	_EPIPE    = 32
	pipeRead  = 0
	pipeWrite = 1
)

type pipe struct {
	used       bool
	buf        uintptr
	head, tail uint32 // read and write positions (free-running)
	ends       [2]int // open descriptors of the read and write ends
}

var pipes [maxPipes]pipe

func (p *pipe) len() uint32 { return p.tail - p.head }

func sysPipe2Call(fds uintptr, flags uint64) int64 {
	if flags&^uint64(oNonblock|oCloexec) != 0 {
		return -_EINVAL
	}
	if !userOK(fds, 8, true) {
		return -_EFAULT
	}
	pi := -1
	for i := range pipes {
		if !pipes[i].used {
			pi = i
			break
		}
	}
	if pi < 0 {
		return -_EMFILE
	}
	r := allocFD()
	if r < 0 {
		return -_EMFILE
	}
	files[r] = file{kind: fdReserved}
	w := allocFD()
	if w < 0 {
		files[r] = file{}
		return -_EMFILE
	}
	buf := allocFrame()
	if buf == 0 {
		files[r] = file{}
		return -_ENOMEM
	}
	pipes[pi] = pipe{used: true, buf: buf, ends: [2]int{1, 1}}
	fl := uint32(flags & oNonblock)
	cl := uint32(0)
	if flags&oCloexec != 0 {
		cl = 1
	}
	files[r] = file{kind: fdPipe, ep: pi, flags: fl, fdfl: cl, end: pipeRead}
	files[w] = file{kind: fdPipe, ep: pi, flags: fl | 1, fdfl: cl, end: pipeWrite} // O_WRONLY
	store32(fds, uint32(r))
	store32(fds+4, uint32(w))
	return 0
}

// pipeReadiness returns the epoll events of one end.
func pipeReadiness(f *file) uint32 {
	p := &pipes[f.ep]
	if f.end == pipeRead {
		switch {
		case p.len() > 0:
			return epollIn
		case p.ends[pipeWrite] == 0:
			return epollIn | epollHup
		}
		return 0
	}
	switch {
	case p.ends[pipeRead] == 0:
		return epollOut | epollErr
	case p.len() < pipeSize:
		return epollOut
	}
	return 0
}

// pipeCopyOut moves up to len(dst) bytes out of the ring.
func pipeCopyOut(p *pipe, dst []byte) int {
	n := 0
	for n < len(dst) && p.len() > 0 {
		dst[n] = bytesAt(p.buf+uintptr(p.head%pipeSize), 1)[0]
		p.head++
		n++
	}
	return n
}

// pipeCopyIn moves up to len(src) bytes into the ring.
func pipeCopyIn(p *pipe, src []byte) int {
	n := 0
	for n < len(src) && p.len() < pipeSize {
		bytesAt(p.buf+uintptr(p.tail%pipeSize), 1)[0] = src[n]
		p.tail++
		n++
	}
	return n
}

func pipeRead_(t *thread, f *file, buf uintptr, n uintptr) int64 {
	p := &pipes[f.ep]
	if f.end != pipeRead {
		return -_EBADF
	}
	if p.len() > 0 {
		r := pipeCopyOut(p, bytesAt(buf, int(n)))
		pipeChanged(f.ep)
		return int64(r)
	}
	if p.ends[pipeWrite] == 0 {
		return 0
	}
	if f.flags&oNonblock != 0 {
		return -_EAGAIN
	}
	block(t, waitPipe, 0)
	t.waitAddr, t.waitArg, t.waitArg2 = buf, n, uintptr(f.ep)
	t.svcNr = pipeRead
	return 0
}

func pipeWrite_(t *thread, f *file, buf uintptr, n uintptr) int64 {
	p := &pipes[f.ep]
	if f.end != pipeWrite {
		return -_EBADF
	}
	if p.ends[pipeRead] == 0 {
		return -_EPIPE
	}
	w := pipeCopyIn(p, bytesAt(buf, int(n)))
	if w > 0 {
		pipeChanged(f.ep)
	}
	if uintptr(w) == n {
		return int64(w)
	}
	if f.flags&oNonblock != 0 {
		if w == 0 {
			return -_EAGAIN
		}
		return int64(w)
	}
	// Block until the rest fits; the thread's RAX accumulates progress.
	block(t, waitPipe, 0)
	t.waitAddr, t.waitArg, t.waitArg2 = buf+uintptr(w), n-uintptr(w), uintptr(f.ep)
	t.svcNr = pipeWrite
	t.svcArgs[0] = uint64(w)
	return 0
}

// pipeChanged completes blocked readers and writers of pipe pi that can
// progress, and wakes epoll waiters.
func pipeChanged(pi int) {
	p := &pipes[pi]
	for progress := true; progress; {
		progress = false
		for i := 0; i < nthreads; i++ {
			t := &threads[i]
			if t.state != tsBlocked || t.wait != waitPipe || int(t.waitArg2) != pi {
				continue
			}
			if t.svcNr == pipeRead {
				switch {
				case p.len() > 0:
					wake(t, int64(pipeCopyOut(p, bytesAt(t.waitAddr, int(t.waitArg)))))
					progress = true
				case p.ends[pipeWrite] == 0:
					wake(t, 0)
				}
				continue
			}
			if p.ends[pipeRead] == 0 {
				wake(t, -_EPIPE)
				continue
			}
			w := pipeCopyIn(p, bytesAt(t.waitAddr, int(t.waitArg)))
			if w == 0 {
				continue
			}
			progress = true
			t.waitAddr += uintptr(w)
			t.waitArg -= uintptr(w)
			t.svcArgs[0] += uint64(w)
			if t.waitArg == 0 {
				wake(t, int64(t.svcArgs[0]))
			}
		}
	}
	notifyReady(fdPipe, pi)
}

// pipeClose drops one descriptor of an end.
func pipeClose(f *file) {
	p := &pipes[f.ep]
	p.ends[f.end]--
	if p.ends[0] == 0 && p.ends[1] == 0 {
		freeFrame(p.buf)
		*p = pipe{}
		return
	}
	pipeChanged(f.ep)
}
