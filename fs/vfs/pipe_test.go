package vfs

import (
	"bytes"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

func TestPipeNonblockingAndEOF(t *testing.T) {
	f := New()
	var notified atomic.Int32
	f.SetNotify(func() { notified.Add(1) })
	r, w, e := f.Pipe2(syscall.O_NONBLOCK)
	must(t, e)
	buf := make([]byte, 10)
	if n, e := f.Read(r, buf); n != 0 || e != syscall.EAGAIN {
		t.Fatalf("empty nonblocking read: %d %v", n, e)
	}
	if rd, wr := f.Readiness(r); rd || wr {
		t.Fatalf("empty pipe read end ready: %v %v", rd, wr)
	}
	if rd, wr := f.Readiness(w); rd || !wr {
		t.Fatalf("write end: %v %v", rd, wr)
	}
	if n, e := f.Write(w, []byte("abc")); n != 3 || e != 0 {
		t.Fatalf("write: %d %v", n, e)
	}
	if notified.Load() == 0 {
		t.Fatal("no readiness notification after write")
	}
	if rd, _ := f.Readiness(r); !rd {
		t.Fatal("read end not readable with data")
	}
	if n, e := f.Read(r, buf[:2]); string(buf[:n]) != "ab" || e != 0 {
		t.Fatalf("read: %q %v", buf[:n], e)
	}
	// Wrong-direction use and positional I/O are refused.
	if _, e := f.Write(r, []byte("x")); e != syscall.EBADF {
		t.Fatalf("write on read end: %v", e)
	}
	if _, e := f.Read(w, buf); e != syscall.EBADF {
		t.Fatalf("read on write end: %v", e)
	}
	if _, e := f.Pread(r, buf, 0); e != syscall.ESPIPE {
		t.Fatalf("pread on pipe: %v", e)
	}
	if _, e := f.Seek(r, 0, 0); e != syscall.ESPIPE {
		t.Fatalf("seek on pipe: %v", e)
	}
	var st syscall.Stat_t
	must(t, f.Fstat(r, &st))
	if st.Mode&syscall.S_IFMT != syscall.S_IFIFO {
		t.Fatalf("pipe mode %o", st.Mode)
	}
	// Fill: a write bigger than the space is short, then EAGAIN.
	big := bytes.Repeat([]byte{'x'}, PipeSize)
	if n, e := f.Write(w, big); n != PipeSize-1 || e != 0 {
		t.Fatalf("filling write: %d %v", n, e)
	}
	if _, wr := f.Readiness(w); wr {
		t.Fatal("full pipe writable")
	}
	if n, e := f.Write(w, []byte("y")); n != 0 || e != syscall.EAGAIN {
		t.Fatalf("write to full pipe: %d %v", n, e)
	}
	// Atomic small writes: with 10 bytes free, a 20-byte write waits whole.
	f.Read(r, make([]byte, 10))
	if n, e := f.Write(w, make([]byte, 20)); n != 0 || e != syscall.EAGAIN {
		t.Fatalf("non-atomic small write: %d %v", n, e)
	}
	// Writer closed: data first, then EOF.
	must(t, f.Close(w))
	total := 0
	for {
		n, e := f.Read(r, make([]byte, 4096))
		must(t, e)
		if n == 0 {
			break
		}
		total += n
	}
	if total != PipeSize-10 {
		t.Fatalf("drained %d bytes", total)
	}
	must(t, f.Close(r))
	// Reader closed: EPIPE.
	r, w, e = f.Pipe()
	must(t, e)
	must(t, f.Close(r))
	if _, e := f.Write(w, []byte("x")); e != syscall.EPIPE {
		t.Fatalf("write without reader: %v", e)
	}
	if rd, wr := f.Readiness(w); rd || !wr {
		t.Fatalf("broken pipe write end readiness: %v %v", rd, wr)
	}
	must(t, f.Close(w))
	if f.OpenHandles() != 0 {
		t.Fatal("handles left")
	}
	if _, _, e := f.Pipe2(0x1); e != syscall.EINVAL {
		t.Fatalf("pipe2 bad flags: %v", e)
	}
}

func TestPipeBlockingTransfer(t *testing.T) {
	f := New()
	r, w, e := f.Pipe()
	must(t, e)
	// 1 MiB through the 64 KiB pipe: both sides block in turn.
	src := make([]byte, 1<<20)
	for i := range src {
		src[i] = byte(i * 7)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for off := 0; off < len(src); {
			n, e := f.Write(w, src[off:min(len(src), off+100000)])
			if e != 0 {
				t.Errorf("write: %v", e)
				return
			}
			off += n
		}
		f.Close(w)
	}()
	var got []byte
	buf := make([]byte, 30000)
	for {
		n, e := f.Read(r, buf)
		must(t, e)
		if n == 0 {
			break
		}
		got = append(got, buf[:n]...)
	}
	wg.Wait()
	if !bytes.Equal(got, src) {
		t.Fatalf("transfer corrupted: %d bytes", len(got))
	}
	// A blocked reader wakes when the writer closes.
	r2, w2, _ := f.Pipe()
	done := make(chan syscall.Errno)
	go func() {
		n, e := f.Read(r2, buf)
		if n != 0 {
			e = syscall.EIO
		}
		done <- e
	}()
	time.Sleep(10 * time.Millisecond)
	f.Close(w2)
	select {
	case e := <-done:
		must(t, e)
	case <-time.After(5 * time.Second):
		t.Fatal("blocked reader not woken by writer close")
	}
	f.Close(r2)
	f.Close(r)
}

func TestFlockBlocksUntilUnlock(t *testing.T) {
	f := New()
	a, e := f.Openat(AtFDCWD, "/lock", syscall.O_RDWR|syscall.O_CREAT, 0o600)
	must(t, e)
	b, e := f.Openat(AtFDCWD, "/lock", syscall.O_RDWR, 0)
	must(t, e)
	must(t, f.Flock(a, LockEX))
	got := make(chan syscall.Errno)
	go func() { got <- f.Flock(b, LockEX) }()
	select {
	case <-got:
		t.Fatal("second exclusive lock granted while held")
	case <-time.After(20 * time.Millisecond):
	}
	must(t, f.Close(a)) // closing the last handle drops the lock
	select {
	case e := <-got:
		must(t, e)
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not woken")
	}
	must(t, f.Close(b))
}

func TestNonblockVariants(t *testing.T) {
	f := New()
	r, w, e := f.Pipe() // blocking handles
	must(t, e)
	if n, e := f.ReadNonblock(r, make([]byte, 4)); n != 0 || e != syscall.EAGAIN {
		t.Fatalf("ReadNonblock on empty pipe: %d %v", n, e)
	}
	big := make([]byte, PipeSize+100)
	if n, e := f.WriteNonblock(w, big); n != PipeSize || e != 0 {
		t.Fatalf("WriteNonblock on a pipe with room: %d %v", n, e)
	}
	if n, e := f.WriteNonblock(w, big); n != 0 || e != syscall.EAGAIN {
		t.Fatalf("WriteNonblock on full pipe: %d %v", n, e)
	}
	if fl, _ := f.GetFlags(r); fl&syscall.O_NONBLOCK != 0 {
		t.Fatal("ReadNonblock changed the handle's flags")
	}
	f.Close(r)
	f.Close(w)
}

func TestRenameNoreplace(t *testing.T) {
	f := New()
	must(t, f.Mkdirat(AtFDCWD, "/a", 0o755))
	must(t, f.Mkdirat(AtFDCWD, "/b", 0o755))
	if e := f.Renameat2(AtFDCWD, "/a", AtFDCWD, "/b", RenameNoreplace); e != syscall.EEXIST {
		t.Fatalf("noreplace over existing: %v", e)
	}
	must(t, f.Renameat2(AtFDCWD, "/a", AtFDCWD, "/c", RenameNoreplace))
	if e := f.Renameat2(AtFDCWD, "/c", AtFDCWD, "/d", 2); e != syscall.EINVAL {
		t.Fatalf("exchange: %v", e)
	}
}

func TestPosixLockChecks(t *testing.T) {
	f := New()
	r, e := f.Openat(AtFDCWD, "/l", syscall.O_RDONLY|syscall.O_CREAT, 0o644)
	must(t, e)
	w, e := f.Openat(AtFDCWD, "/l", syscall.O_WRONLY, 0)
	must(t, e)
	must(t, f.PosixLock(w, FWrlck, 0, 0))
	must(t, f.PosixLock(r, FRdlck, 0, 0)) // same process: no conflict
	for _, c := range []struct {
		h    Handle
		typ  int
		s, l int64
		want syscall.Errno
	}{
		{r, FWrlck, 0, 0, syscall.EBADF},
		{w, FRdlck, 0, 0, syscall.EBADF},
		{w, 7, 0, 0, syscall.EINVAL},
		{w, FUnlck, -1, 0, syscall.EINVAL},
		{w, FWrlck, 5, -10, syscall.EINVAL},
		{99, FUnlck, 0, 0, syscall.EBADF},
	} {
		if e := f.PosixLock(c.h, c.typ, c.s, c.l); e != c.want {
			t.Errorf("PosixLock(%d, %d, %d, %d) = %v, want %v", c.h, c.typ, c.s, c.l, e, c.want)
		}
	}
	f.Close(r)
	f.Close(w)
}
