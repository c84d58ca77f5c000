package quant_test

import (
	"math"
	"math/rand"
	"os"
	"testing"

	"github.com/xairrosx/xairrosx/ai/infer"
	"github.com/xairrosx/xairrosx/ai/internal/testmodels"
	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/quant"
	"github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// TestDynamicTransformerTracksFloat quantizes the transformer's 12 weight MatMuls
// dynamically and checks that its output (LayerNorm-scaled, so values are
// about unit size) stays close to the float32 model's.
func TestDynamicTransformerTracksFloat(t *testing.T) {
	m, path, err := testmodels.LoadTransformer()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	qm, n, err := quant.QuantizeDynamic(m)
	if err != nil {
		t.Fatal(err)
	}
	if n != 12 {
		t.Fatalf("replaced %d MatMuls, want the 12 with constant weights (4 attention MatMuls stay float)", n)
	}
	qb := onnx.Encode(qm)
	qm2, err := onnx.Load(qb)
	if err != nil {
		t.Fatal(err)
	}
	fp, err := runtime.Compile(m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	qp, err := runtime.Compile(qm2, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	unfused, err := runtime.Compile(qm2, runtime.Options{NoFusion: true})
	if err != nil {
		t.Fatal(err)
	}
	if unfused.Steps()-qp.Steps() != 12+8 { // 12 bias Adds into DynQMatMul, 2 GELUs of 5 nodes
		t.Errorf("fusion removed %d steps, want 20", unfused.Steps()-qp.Steps())
	}
	x := tensor.MustNew(tensor.Float32, 1, 128, 256)
	r := rand.New(rand.NewSource(7))
	for i := range x.F32()[:x.Len()] {
		x.F32()[i] = float32(r.NormFloat64())
	}
	fo, err := fp.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	want := append([]float32(nil), fo[0].F32()[:fo[0].Len()]...)
	qo, err := qp.Run(x)
	if err != nil {
		t.Fatal(err)
	}
	got := qo[0].F32()[:qo[0].Len()]
	var sq, maxAbs float64
	for i := range got {
		d := float64(got[i] - want[i])
		sq += d * d
		maxAbs = math.Max(maxAbs, math.Abs(d))
	}
	rms := math.Sqrt(sq / float64(len(got)))
	t.Logf("dynamic int8 vs float32: RMS difference %.4f, largest %.4f (outputs have unit scale); model %d bytes (float %d)", rms, maxAbs, len(qb), len(b))
	if rms > 0.05 {
		t.Errorf("RMS difference %.4f > 0.05", rms)
	}
	if _, err := infer.RunInt8(qb, make([]byte, 4*128*256)); err == nil {
		t.Error("RunInt8 accepted a dynamically quantized (float) model")
	}
}
