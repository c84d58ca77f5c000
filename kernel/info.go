package kernel

import (
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/xairrosx/xairrosx/arch/amd64"
)

// This file is the kernel's information API for programs (the node image's
// shell uses it). These functions run in the program, not in kernel context:
// they read kernel state with interrupts as they are, which is safe for the
// plain counters they copy, and they may allocate. On a Linux host they
// answer from the host.

// Running reports whether the program runs on the XairrosX kernel.
func Running() bool { return booted }

// MemInfo describes physical memory.
type MemInfo struct {
	TotalBytes uint64 // RAM given to the frame allocator
	FreeBytes  uint64 // frames on the free list
	UserBytes  uint64 // frames backing the program's pages
	Areas      int    // virtual memory areas of the program
	HugePages  int    // 2 MiB pages mapped for the program
}

// Memory returns the kernel's memory counters.
func Memory() MemInfo {
	if !booted {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return MemInfo{TotalBytes: ms.Sys, FreeBytes: ms.Sys - ms.HeapInuse, UserBytes: ms.HeapInuse}
	}
	return MemInfo{
		TotalBytes: totalFrames * pageSize,
		FreeBytes:  freeFrames * pageSize,
		UserBytes:  userPages * pageSize,
		Areas:      nvmas,
		HugePages:  int(hugeMapped),
	}
}

// ThreadInfo describes one kernel thread (one of the Go runtime's Ms).
type ThreadInfo struct {
	ID      int
	State   string // running, runnable or blocked
	Wait    string // what a blocked thread waits for
	CPUTime time.Duration
}

// Threads returns the kernel's threads.
func Threads() []ThreadInfo {
	if !booted {
		return []ThreadInfo{{ID: os.Getpid(), State: "running"}}
	}
	var out []ThreadInfo
	for i := 0; i < nthreads; i++ {
		t := threads[i]
		if t.state == tsFree {
			continue
		}
		out = append(out, ThreadInfo{
			ID:      int(t.tid),
			State:   stateNames[t.state],
			Wait:    waitNames[t.wait],
			CPUTime: time.Duration(t.cpuNS),
		})
	}
	return out
}

var hostStart = time.Now()

// Uptime returns the time since boot.
func Uptime() time.Duration {
	if !booted {
		return time.Since(hostStart)
	}
	return time.Duration(nanotime())
}

// CPUInfo describes the processor.
type CPUInfo struct {
	Vendor   string
	Brand    string
	Features []string
	TSCHz    uint64
}

// CPU returns what CPUID says and the calibrated TSC frequency.
func CPU() CPUInfo {
	if !booted {
		return CPUInfo{Vendor: runtime.GOARCH, Brand: "host (not XairrosX)"}
	}
	info := CPUInfo{
		Vendor: string(cpuVendor[:]),
		Brand:  strings.TrimRight(strings.TrimSpace(string(cpuBrand[:])), "\x00"),
		TSCHz:  tscHz,
	}
	add := func(ok bool, name string) {
		if ok {
			info.Features = append(info.Features, name)
		}
	}
	add(cpuidEDX1&(1<<25) != 0, "sse")
	add(cpuidEDX1&(1<<26) != 0, "sse2")
	add(cpuidECX1&(1<<19) != 0, "sse4.1")
	add(cpuidECX1&(1<<20) != 0, "sse4.2")
	add(cpuidECX1&(1<<25) != 0, "aes")
	add(hasAVX, "avx")
	add(cpuidEBX7&(1<<5) != 0, "avx2")
	add(cpuidECX1&(1<<12) != 0, "fma")
	add(hasAVX512, "avx512f")
	add(cpuidECX7&(1<<11) != 0, "avx512vnni")
	add(cpuidEBX7&(1<<29) != 0, "sha")
	add(haveRdrand, "rdrand")
	add(haveRdseed, "rdseed")
	add(hasFSGSBASE, "fsgsbase")
	return info
}

// BootLog returns the lines the kernel logged while booting.
func BootLog() []string {
	if !booted {
		return nil
	}
	s := strings.TrimRight(string(bootLog[:bootLogLen]), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// Stats returns counters of kernel activity: system calls and timer ticks.
func Stats() (syscalls, ticks uint64) {
	if !booted {
		return 0, 0
	}
	return syscallCount, tickCount
}

// keep the arch import used on all paths.
var _ = amd64.FrameSize

// Option returns the value of the kernel command-line option xairrosx.NAME
// (given as xairrosx.NAME=VALUE before "--"), for services configured at
// boot (for example the network address). On a Linux host there are none.
func Option(name string) (string, bool) {
	if !booted {
		return "", false
	}
	prefix := "xairrosx." + name + "="
	for i := 0; i < nwords && (dashdash < 0 || i < dashdash); i++ {
		if w := string(wordBytes(i)); strings.HasPrefix(w, prefix) {
			return w[len(prefix):], true
		}
	}
	return "", false
}
