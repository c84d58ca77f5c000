package runtime_test

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/xairrosx/xairrosx/ai/internal/mnist"
	"github.com/xairrosx/xairrosx/ai/internal/ortref"
	"github.com/xairrosx/xairrosx/ai/onnx"
	xrt "github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

const mnistModel = "../testdata/mnist-8.onnx"

func loadMNIST(t testing.TB) (*onnx.Model, *mnist.Set) {
	b, err := os.ReadFile(mnistModel)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	set, err := mnist.Test()
	if err != nil {
		t.Fatal(err)
	}
	return m, set
}

func argmax(v []float32) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

func imageTensor(img []byte) *tensor.Tensor {
	t := tensor.MustNew(tensor.Float32, 1, 1, 28, 28)
	for j, v := range img {
		t.F32()[j] = float32(v)
	}
	return t
}

// refLevel is the ONNX Runtime graph optimization level of the float32
// reference. "extended" applies every fusion but not the NCHWc layout
// transformation of level "all": convolutions then run as im2col + MLAS
// SGEMM, whose summation order the engine follows (kernels.GemmPacked), so
// the two agree to the bit. At "all", ONNX Runtime's NCHWc convolution
// kernels sum in a blocked channel order of their own; the level changes
// kernels, not the model's semantics.
const refLevel = "extended"

// TestMNISTMatchesONNXRuntime runs all 10,000 MNIST test images through the
// engine and through ONNX Runtime: every logit must pass ONNX's
// element-wise rule |a-b| <= 1e-4 + 1e-4·|b|, and the accuracies must be
// equal. It also reports how many logits are bit-identical.
func TestMNISTMatchesONNXRuntime(t *testing.T) {
	m, set := loadMNIST(t)
	p, err := xrt.Compile(m, xrt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n := len(set.Images)
	var runs []map[string]*tensor.Tensor
	for i := 0; i < n; i++ {
		runs = append(runs, map[string]*tensor.Tensor{"Input3": imageTensor(set.Images[i])})
	}
	ref, err := ortref.RunLevel(mnistModel, 1, refLevel, runs)
	if err != nil {
		t.Fatal(err)
	}
	var ours, theirs, exact, bad int
	var maxAbs float64
	for i := 0; i < n; i++ {
		out, err := p.Run(runs[i]["Input3"])
		if err != nil {
			t.Fatal(err)
		}
		got, want := out[0].F32()[:10], ref[i][0].F32()[:10]
		for j := range got {
			d := math.Abs(float64(got[j] - want[j]))
			maxAbs = math.Max(maxAbs, d)
			if got[j] == want[j] {
				exact++
			}
			if d > 1e-4+1e-4*math.Abs(float64(want[j])) {
				if bad++; bad <= 5 {
					t.Errorf("image %d logit %d: engine %v, ONNX Runtime %v (|diff| %.3g)", i, j, got[j], want[j], d)
				}
			}
		}
		if argmax(got) == int(set.Labels[i]) {
			ours++
		}
		if argmax(want) == int(set.Labels[i]) {
			theirs++
		}
	}
	t.Logf("MNIST-8 float32 on %d test images against ONNX Runtime (level %q): engine %d correct (%.2f%%), ONNX Runtime %d; %d of %d logits bit-identical, largest difference %.3g, %d beyond 1e-4 + 1e-4·|x|",
		n, refLevel, ours, 100*float64(ours)/float64(n), theirs, exact, 10*n, maxAbs, bad)
	if bad > 0 {
		t.Errorf("%d logits fail the element-wise rule", bad)
	}
	if ours != theirs {
		t.Errorf("accuracy differs from ONNX Runtime: %d vs %d", ours, theirs)
	}
}

// TestReferenceKernels checks, with ONNX Runtime's profiler, why the level
// matters: at refLevel the convolutions run as FusedConv (MLAS im2col +
// SGEMM) and the last layer as Gemm; at "all" they run in the NCHWc layout
// (Conv of that domain, then ReorderOutput).
func TestReferenceKernels(t *testing.T) {
	_, set := loadMNIST(t)
	in := map[string]*tensor.Tensor{"Input3": imageTensor(set.Images[0])}
	ext, err := ortref.Kernels(mnistModel, refLevel, in)
	if err != nil {
		t.Fatal(err)
	}
	all, err := ortref.Kernels(mnistModel, "all", in)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %v; all: %v", refLevel, ext, all)
	if strings.Join(ext, " ") != "FusedConv MaxPool FusedConv MaxPool Reshape Gemm" {
		t.Errorf("at %s ONNX Runtime ran %v, want FusedConv MaxPool FusedConv MaxPool Reshape Gemm", refLevel, ext)
	}
	if !strings.Contains(strings.Join(all, " "), "ReorderOutput") {
		t.Errorf("at all ONNX Runtime ran %v, expected the NCHWc layout (ReorderOutput)", all)
	}
}

// TestRunAllocatesNothing checks the static memory plan: a steady-state
// inference makes no heap allocation, single-threaded and parallel.
func TestRunAllocatesNothing(t *testing.T) {
	m, set := loadMNIST(t)
	for _, threads := range []int{1, 2} {
		p, err := xrt.Compile(m, xrt.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		in := imageTensor(set.Images[0])
		if _, err := p.Run(in); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(50, func() {
			if _, err := p.Run(in); err != nil {
				t.Fatal(err)
			}
		})
		t.Logf("threads=%d: %v allocations per run, arena %d bytes", threads, allocs, p.ArenaBytes())
		if allocs != 0 {
			t.Errorf("threads=%d: %v heap allocations per inference, want 0", threads, allocs)
		}
	}
}

func BenchmarkMNISTFloat32(b *testing.B) {
	m, set := loadMNIST(b)
	p, err := xrt.Compile(m, xrt.Options{Threads: 1})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := p.Run(imageTensor(set.Images[0])); err != nil {
		b.Fatal(err)
	}
	runBench(b, p)
}

// TestFusionChangesNothing compiles MNIST-8 with and without Conv+Add+Relu
// fusion: the fused program has fewer steps and bit-identical outputs.
func TestFusionChangesNothing(t *testing.T) {
	m, set := loadMNIST(t)
	fused, err := xrt.Compile(m, xrt.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := xrt.Compile(m, xrt.Options{Threads: 1, NoFusion: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("steps: %d fused, %d unfused", fused.Steps(), plain.Steps())
	if fused.Steps() != plain.Steps()-4 {
		t.Errorf("fusion removed %d steps, want 4 (two Add and two Relu)", plain.Steps()-fused.Steps())
	}
	for i := 0; i < 200; i++ {
		in := imageTensor(set.Images[i])
		a, err := fused.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		b, err := plain.Run(in)
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range a[0].F32()[:10] {
			if v != b[0].F32()[j] {
				t.Fatalf("image %d logit %d: fused %v, unfused %v", i, j, v, b[0].F32()[j])
			}
		}
	}
}
