//go:build unix

package vm

import (
	"runtime"
	"syscall"

	"golang.org/x/sys/cpu"
)

// CompilerSupported reports whether wazero's compiler can run here: amd64
// with SSE4.1 or arm64, on an OS that wazero's compiler supports, where the
// process may map executable memory.
func CompilerSupported() bool {
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd":
	default:
		return false
	}
	switch runtime.GOARCH {
	case "amd64":
		if !cpu.X86.HasSSE41 {
			return false
		}
	case "arm64":
	default:
		return false
	}
	b, err := syscall.Mmap(-1, 0, syscall.Getpagesize(), syscall.PROT_READ|syscall.PROT_WRITE|syscall.PROT_EXEC, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return false
	}
	syscall.Munmap(b)
	return true
}
