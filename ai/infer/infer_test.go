package infer_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"runtime"
	"sync"
	"testing"

	"github.com/xairrosx/xairrosx/ai/infer"
	"github.com/xairrosx/xairrosx/ai/internal/mnist"
	"github.com/xairrosx/xairrosx/ai/kernels"
)

const qmodel = "../testdata/mnist-8-int8.onnx"

// goldenHash is the SHA-256 of the concatenated outputs of RunInt8 on the
// first 1,000 MNIST test images with the committed int8 model. It was
// computed once; any machine, kernel or thread count must reproduce it.
const goldenHash = "39a51cde22670ef22e5a94e9aaf95210a3e6f13f44ebf5cdc860d4258ca2ec92"

func outputsHash(t *testing.T, model []byte, imgs [][]byte) string {
	h := sha256.New()
	for _, img := range imgs {
		out, err := infer.RunInt8(model, img)
		if err != nil {
			t.Fatal(err)
		}
		h.Write(out)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func testImages(t *testing.T, n int) [][]byte {
	set, err := mnist.Test()
	if err != nil {
		t.Fatal(err)
	}
	return set.Images[:n]
}

func TestRunInt8BitIdenticalAcrossKernels(t *testing.T) {
	model, err := os.ReadFile(qmodel)
	if err != nil {
		t.Fatal(err)
	}
	imgs := testImages(t, 1000)
	_, best := kernels.Best()
	for impl := kernels.Generic; impl <= best; impl++ {
		pf, pi := kernels.Use(kernels.Generic, impl)
		got := outputsHash(t, model, imgs)
		kernels.Use(pf, pi)
		t.Logf("%-10v output hash %s", impl, got)
		if got != goldenHash {
			t.Errorf("%v: output hash %s, want %s", impl, got, goldenHash)
		}
	}
}

func TestRunInt8ConcurrentAndGOMAXPROCS(t *testing.T) {
	model, err := os.ReadFile(qmodel)
	if err != nil {
		t.Fatal(err)
	}
	imgs := testImages(t, 1000)
	for _, procs := range []int{1, 2, 4} {
		prev := runtime.GOMAXPROCS(procs)
		hashes := make([]string, 3)
		var wg sync.WaitGroup
		for g := range hashes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				hashes[g] = outputsHash(t, model, imgs)
			}()
		}
		wg.Wait()
		runtime.GOMAXPROCS(prev)
		for _, h := range hashes {
			if h != goldenHash {
				t.Errorf("GOMAXPROCS=%d: output hash %s, want %s", procs, h, goldenHash)
			}
		}
	}
}

func TestRunInt8RefusesBadInput(t *testing.T) {
	model, err := os.ReadFile(qmodel)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := infer.RunInt8(model, make([]byte, 783)); err == nil {
		t.Error("a 783-byte input was accepted")
	} else {
		t.Log(err)
	}
	float, err := os.ReadFile("../testdata/mnist-8.onnx")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := infer.RunInt8(float, make([]byte, 784)); !errors.Is(err, infer.ErrFloatModel) {
		t.Errorf("float model: got %v, want ErrFloatModel", err)
	}
	if _, err := infer.RunInt8(model[:len(model)/2], make([]byte, 784)); err == nil {
		t.Error("a truncated model was accepted")
	} else {
		t.Log(err)
	}
	spec, err := infer.Inspect(model)
	if err != nil {
		t.Fatal(err)
	}
	if spec.InputDType != "uint8" || len(spec.InputShape) != 4 || spec.OutputDType != "int32" {
		t.Errorf("spec %+v", spec)
	}
}

// FuzzRunInt8 feeds arbitrary model and input bytes to RunInt8: it must
// answer or refuse, never panic. Seeds: the committed int8 model with a
// digit, and the float model (which must be refused).
func FuzzRunInt8(f *testing.F) {
	model, err := os.ReadFile(qmodel)
	if err != nil {
		f.Fatal(err)
	}
	float, err := os.ReadFile("../testdata/mnist-8.onnx")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(model, make([]byte, 784))
	f.Add(float, make([]byte, 784*4))
	f.Add(model[:200], []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, m, in []byte) {
		out, err := infer.RunInt8(m, in)
		if err != nil {
			return
		}
		spec, err := infer.Inspect(m)
		if err != nil {
			t.Fatalf("RunInt8 accepted a model that Inspect refuses: %v", err)
		}
		n := 4
		if spec.OutputDType == "uint8" {
			n = 1
		}
		for _, d := range spec.OutputShape {
			n *= d
		}
		if len(out) != n {
			t.Fatalf("output has %d bytes, the spec %v %v says %d", len(out), spec.OutputDType, spec.OutputShape, n)
		}
	})
}
