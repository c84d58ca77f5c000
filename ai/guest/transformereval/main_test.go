package main

import (
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/xairrosx/xairrosx/ai/kernels"
)

// goldenHash is the SHA-256 of the int8 transformer's outputs on the n
// fixed input sequences, computed once on the host; every kernel, thread
// count, run and machine (the XairrosX guest included) must reproduce it.
const goldenHash = "8ac9505d09727a1e76f869a9cc98dc3c6ed573ae0eb1c7d0e84fe2dbcd542f13"

// TestHashAcrossKernelsAndThreads runs the workload with the pure-Go, AVX2
// and AVX-512 VNNI int8 kernels (those the CPU has), each with GOMAXPROCS
// 1, 2 and 4, and from two goroutines at once.
func TestHashAcrossKernelsAndThreads(t *testing.T) {
	_, best := kernels.Best()
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for impl := kernels.Generic; impl <= best; impl++ {
		pf, pi := kernels.Use(kernels.Generic, impl)
		for _, procs := range []int{1, 2, 4} {
			runtime.GOMAXPROCS(procs)
			var wg sync.WaitGroup
			hashes := make([]string, 2)
			errs := make([]error, 2)
			for g := range hashes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					hashes[g], errs[g] = run()
				}()
			}
			wg.Wait()
			for g := range hashes {
				what := fmt.Sprintf("%v GOMAXPROCS=%d goroutine %d", impl, procs, g)
				if errs[g] != nil {
					t.Fatalf("%s: %v", what, errs[g])
				}
				if hashes[g] != goldenHash {
					t.Errorf("%s: output hash %s, want %s", what, hashes[g], goldenHash)
				}
			}
		}
		kernels.Use(pf, pi)
		t.Logf("%v: output hash %s with GOMAXPROCS 1, 2 and 4", impl, goldenHash)
	}
}
