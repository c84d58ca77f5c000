// Package guestboot builds the xairrosx tool and boots a guest program
// under QEMU on the XairrosX kernel (`xairrosx run`), for the tests of the
// programs under ai/guest.
package guestboot

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// Expect boots the main package in dir (see Run) and fails t unless the
// guest prints "output hash " followed by hash.
func Expect(t *testing.T, dir, timeout, hash string) {
	t.Helper()
	out, err := Run(t.TempDir(), dir, timeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("guest output:\n%s", out)
	if !strings.Contains(out, "output hash "+hash) {
		t.Fatalf("the guest did not print the output hash %s", hash)
	}
}

// Run builds cmd/xairrosx into tmp, boots the main package in dir with
// `xairrosx run -timeout timeout dir` and returns the guest's console output.
func Run(tmp, dir, timeout string) (string, error) {
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	tool := filepath.Join(tmp, "xairrosx")
	build := exec.Command("go", "build", "-o", tool, "./cmd/xairrosx")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building xairrosx: %v\n%s", err, out)
	}
	cmd := exec.Command(tool, "run", "-timeout", timeout, dir)
	cmd.Dir = root
	cmd.Env = os.Environ()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("xairrosx run %s: %v\n%s", dir, err, out)
	}
	return string(out), nil
}
