package runtime_test

import (
	"math"
	"math/rand"
	"runtime"
	"testing"

	"github.com/xairrosx/xairrosx/ai/internal/ortref"
	"github.com/xairrosx/xairrosx/ai/internal/testmodels"
	xrt "github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

func transformerInput(batch int, seed int64) *tensor.Tensor {
	x := tensor.MustNew(tensor.Float32, batch, 128, 256)
	r := rand.New(rand.NewSource(seed))
	for i := range x.F32()[:x.Len()] {
		x.F32()[i] = float32(r.NormFloat64())
	}
	return x
}

// TestTransformerMatchesONNXRuntime runs the 2-layer encoder (attention
// with MatMul/Softmax, LayerNormalization, Erf-GELU) at batch 1 and 2 and
// compares every output with ONNX Runtime within 1e-4 absolute + 1e-4
// relative.
func TestTransformerMatchesONNXRuntime(t *testing.T) {
	m, path, err := testmodels.LoadTransformer()
	if err != nil {
		t.Fatal(err)
	}
	for _, batch := range []int{1, 2} {
		p, err := xrt.Compile(m, xrt.Options{Shapes: map[string][]int{"x": {batch, 128, 256}}})
		if err != nil {
			t.Fatal(err)
		}
		x := transformerInput(batch, int64(batch))
		ref, err := ortref.Run(path, runtime.NumCPU(), []map[string]*tensor.Tensor{{"x": x}})
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Run(x)
		if err != nil {
			t.Fatal(err)
		}
		got, want := out[0].F32()[:out[0].Len()], ref[0][0].F32()
		if !tensor.SameShape(out[0].Shape, ref[0][0].Shape) {
			t.Fatalf("shape %v, ONNX Runtime %v", out[0].Shape, ref[0][0].Shape)
		}
		var maxAbs float64
		bad := 0
		for i := range got {
			d := math.Abs(float64(got[i] - want[i]))
			maxAbs = math.Max(maxAbs, d)
			if d > 1e-4+1e-4*math.Abs(float64(want[i])) {
				bad++
			}
		}
		t.Logf("batch %d: %d outputs, largest absolute difference from ONNX Runtime %.3g, %d beyond tolerance; arena %d bytes",
			batch, len(got), maxAbs, bad, p.ArenaBytes())
		if bad > 0 {
			t.Errorf("batch %d: %d outputs differ from ONNX Runtime beyond 1e-4", batch, bad)
		}
	}
}

// TestTransformerFusion checks the MatMul+bias and GELU fusions: the fused
// program has fewer steps (12 bias Adds and 2×4 GELU nodes fewer) and
// agrees with the unfused one.
func TestTransformerFusion(t *testing.T) {
	m, _, err := testmodels.LoadTransformer()
	if err != nil {
		t.Fatal(err)
	}
	fused, err := xrt.Compile(m, xrt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := xrt.Compile(m, xrt.Options{NoFusion: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("steps: %d fused, %d unfused", fused.Steps(), plain.Steps())
	if plain.Steps()-fused.Steps() != 12+8 {
		t.Errorf("fusion removed %d steps, want 20", plain.Steps()-fused.Steps())
	}
	x := transformerInput(1, 3)
	a, err := fused.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), a[0].F32()[:a[0].Len()]...)
	c, err := plain.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	var maxAbs float64
	for i, v := range c[0].F32()[:c[0].Len()] {
		maxAbs = math.Max(maxAbs, math.Abs(float64(v-want[i])))
	}
	t.Logf("largest difference fused/unfused %.3g", maxAbs)
	if maxAbs > 1e-5 {
		t.Errorf("fused and unfused programs differ by %g", maxAbs)
	}
}

// TestTransformerRunAllocatesNothing extends the zero-allocation check to
// the transformer (MatMul, Softmax, LayerNormalization, fused GELU), run
// on two worker goroutines.
func TestTransformerRunAllocatesNothing(t *testing.T) {
	m, _, err := testmodels.LoadTransformer()
	if err != nil {
		t.Fatal(err)
	}
	p, err := xrt.Compile(m, xrt.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	x := transformerInput(1, 5)
	if _, err := p.Run(x); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(5, func() {
		if _, err := p.Run(x); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("%v allocations per run, arena %d bytes", allocs, p.ArenaBytes())
	if allocs != 0 {
		t.Errorf("%v heap allocations per inference, want 0", allocs)
	}
}
