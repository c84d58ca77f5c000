package vfs

import (
	"math/rand"
	"sync"
	"testing"

	"github.com/xairrosx/xairrosx/fs/tmpfs"
)

// TestConcurrentOperations runs four random operation sequences on one FS
// at once (run it with -race), then checks the tree's invariants.
func TestConcurrentOperations(t *testing.T) {
	f := New()
	tmp := tmpfs.New(tmpfs.Options{SizeLimit: fuzzLimit})
	if err := f.Mount("/m", tmp); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	machines := make([]*fuzzMachine, 4)
	for g := range machines {
		m := &fuzzMachine{t: t, f: f, tmp: tmp}
		machines[g] = m
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			r := rand.New(rand.NewSource(seed))
			b := make([]byte, 5)
			for range 3000 {
				r.Read(b)
				if b[0]%20 == 14 {
					continue // chdir: the cwd is shared, keep it at "/"
				}
				m.step(b[0], b[1], b[2], b[3], b[4])
			}
		}(int64(g))
	}
	wg.Wait()
	// One machine holding every handle checks the accounting.
	all := &fuzzMachine{t: t, f: f, tmp: tmp}
	for _, m := range machines {
		all.handles = append(all.handles, m.handles...)
	}
	all.check()
	for _, h := range all.handles {
		f.Close(h)
	}
	if n := f.OpenHandles(); n != 0 {
		t.Fatalf("%d handles left", n)
	}
}
