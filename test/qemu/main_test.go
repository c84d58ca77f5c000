package qemu

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xairrosx/xairrosx/internal/image"
	qemurun "github.com/xairrosx/xairrosx/internal/qemu"
)

// stubKernel is the stand-in kernel that tests of the tool link.
const stubKernel = image.ModulePath + "/test/qemu/stubkernel"

var (
	// tool is the xairrosx binary under test.
	tool string
	// stubImage boots the stub kernel (see package stubkernel).
	stubImage string
	// root is the repository root; work is a scratch directory.
	root, work string
)

func TestMain(m *testing.M) {
	code, err := setup(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "test/qemu setup:", err)
		code = 1
	}
	if work != "" {
		os.RemoveAll(work)
	}
	os.Exit(code)
}

func setup(m *testing.M) (int, error) {
	var err error
	if root, err = image.FindRoot(); err != nil {
		return 0, err
	}
	if work, err = os.MkdirTemp("", "xairrosx-test-"); err != nil {
		return 0, err
	}
	tool = filepath.Join(work, "xairrosx")
	build := exec.Command("go", "build", "-o", tool, "./cmd/xairrosx")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return 0, fmt.Errorf("building the tool: %v\n%s", err, out)
	}
	stubImage = filepath.Join(work, "stub.img")
	if _, err := image.Build(image.Options{Pkg: "./test/guests/hello", Dir: root, Out: stubImage, Kernel: stubKernel, Entry: stubKernel + ".entry32"}); err != nil {
		return 0, fmt.Errorf("building the stub image: %v", err)
	}
	return m.Run(), nil
}

// result is what one run of a program printed and how it ended.
type result struct {
	stdout, stderr string
	status         int
}

// runTool runs xairrosx with args from the repository root, killing it
// after limit (the tool's own -timeout should always come first).
func runTool(t *testing.T, limit time.Duration, stdin string, args ...string) result {
	t.Helper()
	return runToolEnv(t, nil, limit, stdin, args...)
}

// runToolEnv is runTool with extra environment entries for the tool.
func runToolEnv(t *testing.T, env []string, limit time.Duration, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("xairrosx %q still running after %v", args, limit)
	}
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("xairrosx %q: %v", args, err)
	}
	return result{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
}

// checkNoOrphans fails the test if a QEMU process whose command line
// contains s is still running.
func checkNoOrphans(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		pids := qemurun.QEMUProcesses(s)
		if len(pids) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("QEMU processes left running: %v", pids)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkCleanError checks that a failed tool run said something useful and
// did not dump a Go stack.
func checkCleanError(t *testing.T, r result, want string) {
	t.Helper()
	if r.status == 0 {
		t.Errorf("exit status 0, want non-zero (stderr %q)", r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q does not mention %q", r.stderr, want)
	}
	for _, bad := range []string{"goroutine ", "panic:", "[signal"} {
		if strings.Contains(r.stderr, bad) {
			t.Errorf("stderr holds a Go stack dump (%q):\n%s", bad, r.stderr)
		}
	}
}
