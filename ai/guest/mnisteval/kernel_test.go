package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
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
	dir := filepath.Dir(file)
	root := filepath.Join(dir, "..", "..", "..")
	tool := filepath.Join(t.TempDir(), "xairrosx")
	build := exec.Command("go", "build", "-o", tool, "./cmd/xairrosx")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building xairrosx: %v\n%s", err, out)
	}
	cmd := exec.Command(tool, "run", "-timeout", "180s", dir)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("xairrosx run: %v\n%s", err, out)
	}
	t.Logf("guest output:\n%s", out)
	if !strings.Contains(string(out), "output hash "+host.Hash) {
		t.Fatalf("the guest did not print the host's output hash %s", host.Hash)
	}
}
