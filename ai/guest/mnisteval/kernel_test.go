package main

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/xairrosx/xairrosx/ai/internal/guestboot"
)

// TestGuestUnderXairrosXKernel boots this program under QEMU on the
// XairrosX kernel (`xairrosx run`) and checks that it prints the output
// hash the host computes: the same integer inference inside the kernel.
// QEMU comes from scripts/deps-kernel.sh (and scripts/deps-ai.sh).
func TestGuestUnderXairrosXKernel(t *testing.T) {
	host, err := run()
	if err != nil {
		t.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	guestboot.Expect(t, filepath.Dir(file), "180s", host.Hash)
}
