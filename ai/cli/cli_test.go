package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xairrosx/xairrosx/ai/internal/testmodels"
)

func runCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestTestCommand(t *testing.T) {
	code, out, _ := runCLI(t, "test", "/usr/share/libonnx-testdata/data/node/test_conv_with_strides_padding")
	if code != 0 || !strings.Contains(out, "PASS") || !strings.Contains(out, "max abs error") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	// an unsupported operator: FAIL and a non-zero exit, naming the operator
	code, out, _ = runCLI(t, "test", "/usr/share/libonnx-testdata/data/node/test_acos")
	if code == 0 || !strings.Contains(out, "FAIL") || !strings.Contains(out, "Acos") {
		t.Fatalf("exit %d, output:\n%s", code, out)
	}
	// wrong expected output: FAIL with the error
	dir := t.TempDir()
	src := "/usr/share/libonnx-testdata/data/node/test_relu"
	copyTree(t, src, dir)
	other := "/usr/share/libonnx-testdata/data/node/test_abs/test_data_set_0/output_0.pb"
	b, err := os.ReadFile(other)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "test_data_set_0", "output_0.pb"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "test", dir)
	if code == 0 || !strings.Contains(out, "FAIL") {
		t.Fatalf("a wrong expected output passed: exit %d\n%s", code, out)
	}
	t.Log(out)
}

func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if info.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestInspectEvalAndUsage(t *testing.T) {
	code, out, _ := runCLI(t, "inspect", testmodels.MNISTInt8())
	if code != 0 || !strings.Contains(out, "ai.xairrosx/QConv") || !strings.Contains(out, "compile    ok") {
		t.Fatalf("inspect: exit %d\n%s", code, out)
	}
	code, out, errOut := runCLI(t, "eval", "-model", testmodels.MNISTInt8(), "-n", "100")
	if code != 0 || !strings.Contains(out, "output hash d72b0d0bedda01bcab03e4a9310c1465a11ecf4719b0ea01d1c59df4ecbe282d") {
		t.Fatalf("eval: exit %d\n%s", code, out)
	}
	if !strings.Contains(errOut, "100%") {
		t.Errorf("no progress bar on stderr: %q", errOut)
	}
	if code, _, _ := runCLI(t, "frobnicate"); code != 2 {
		t.Errorf("unknown command: exit %d, want 2", code)
	}
	bad := filepath.Join(t.TempDir(), "bad.onnx")
	if err := os.WriteFile(bad, []byte("not a model"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "inspect", bad)
	if code != 1 || !strings.Contains(errOut, "onnx") {
		t.Errorf("inspect of garbage: exit %d, stderr %q", code, errOut)
	}
}

func TestQuantizeCommand(t *testing.T) {
	dir := t.TempDir()
	q := filepath.Join(dir, "q.onnx")
	code, out, errOut := runCLI(t, "quantize", "-calib", "50", testmodels.MNIST(), q)
	if code != 0 {
		t.Fatalf("quantize: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = runCLI(t, "eval", "-model", q, "-n", "500")
	if code != 0 || !strings.Contains(out, "(int8)") {
		t.Fatalf("eval of the quantized model: exit %d\n%s", code, out)
	}
	var acc float64
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "accuracy") {
			if _, err := fmt.Sscanf(line, "accuracy %f%%", &acc); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("int8 accuracy on 500 images after calibrating on 50: %.2f%%", acc)
	if acc < 97 {
		t.Errorf("accuracy %.2f%%, want at least 97%%", acc)
	}
	d := filepath.Join(dir, "d.onnx")
	if code, out, _ = runCLI(t, "quantize", "-dynamic", testmodels.MNIST(), d); code != 0 || !strings.Contains(out, "1 MatMuls") {
		t.Fatalf("quantize -dynamic: exit %d\n%s", code, out)
	}
}
