package main

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/xairrosx/xairrosx/ai/internal/guestboot"
)

// TestGuestUnderXairrosXKernel boots this program under QEMU on the
// XairrosX kernel, whose guest CPU offers AVX2 but not AVX-512, and checks
// that it prints the golden output hash.
func TestGuestUnderXairrosXKernel(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	guestboot.Expect(t, filepath.Dir(file), "300s", goldenHash)
}
