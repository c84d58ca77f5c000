// Package testmodels locates the engine's test models, building the
// generated ones (ai/models/*.py, run with Debian's python3-onnx) on first
// use into ai/testdata/gen, which is not committed.
package testmodels

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/xairrosx/xairrosx/ai/onnx"
)

// AIDir returns the ai/ directory of the source tree.
func AIDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// MNIST returns the path of the committed MNIST-8 float model.
func MNIST() string { return filepath.Join(AIDir(), "testdata", "mnist-8.onnx") }

// MNISTInt8 returns the path of the committed quantized MNIST-8 model.
func MNISTInt8() string { return filepath.Join(AIDir(), "testdata", "mnist-8-int8.onnx") }

// TransformerInt8 returns the path of the committed integer-only int8
// transformer (the copy embedded by ai/guest/transformereval).
func TransformerInt8() string {
	return filepath.Join(AIDir(), "guest", "transformereval", "transformer-int8.onnx")
}

// Transformer returns the path of the 2-layer encoder test model, building
// it with ai/models/make_transformer.py if needed.
func Transformer() (string, error) {
	out := filepath.Join(AIDir(), "testdata", "gen", "transformer.onnx")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", err
	}
	// a private temporary name: test packages running in parallel may
	// build the model at the same time; the rename makes it appear whole
	f, err := os.CreateTemp(filepath.Dir(out), "transformer-*.onnx.tmp")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	cmd := exec.Command("/usr/bin/python3", filepath.Join(AIDir(), "models", "make_transformer.py"), tmp)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the transformer model: %v: %s (run scripts/deps-ai.sh for python3-onnx)", err, msg)
	}
	return out, os.Rename(tmp, out)
}

// LoadTransformer builds (if needed), reads and decodes the transformer
// test model, returning it with its path.
func LoadTransformer() (*onnx.Model, string, error) {
	path, err := Transformer()
	if err != nil {
		return nil, "", err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, "", err
	}
	m, err := onnx.Load(b)
	return m, path, err
}
