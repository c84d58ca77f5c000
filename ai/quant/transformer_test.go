package quant_test

import (
	"bytes"
	"math"
	"os"
	"strconv"
	"testing"

	"github.com/xairrosx/xairrosx/ai/internal/testmodels"
	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/quant"
	"github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// committedEncoder is the committed integer-only transformer (the guest
// program's copy).
const committedEncoder = "../guest/transformereval/transformer-int8.onnx"

// TestIntegerTransformerThreads runs the committed integer transformer
// compiled for 1, 2 and 4 threads: the outputs must be the same bytes, and
// an inference allocates nothing.
func TestIntegerTransformerThreads(t *testing.T) {
	b, err := os.ReadFile(committedEncoder)
	if err != nil {
		t.Fatal(err)
	}
	m, err := onnx.Load(b)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.MustNew(tensor.Uint8, 1, 128, 256)
	for i := range x.U8()[:x.Len()] {
		x.U8()[i] = uint8(i * 7919 >> 3)
	}
	var first []byte
	for _, threads := range []int{1, 2, 4} {
		p, err := runtime.Compile(m, runtime.Options{Threads: threads})
		if err != nil {
			t.Fatal(err)
		}
		out, err := p.Run(x)
		if err != nil {
			t.Fatal(err)
		}
		got := append([]byte(nil), out[0].U8()[:out[0].Len()]...)
		if allocs := testing.AllocsPerRun(3, func() { p.Exec() }); allocs != 0 {
			t.Errorf("threads=%d: %v heap allocations per inference, want 0", threads, allocs)
		}
		if first == nil {
			first = got
		} else if !bytes.Equal(got, first) {
			t.Errorf("threads=%d: outputs differ from threads=1", threads)
		}
	}
}

// TestIntegerTransformerTracksFloat quantizes the transformer to the
// integer-only format and compares its outputs with float32 on held-out
// inputs: cosine similarity and largest absolute error of the final
// hidden states.
func TestIntegerTransformerTracksFloat(t *testing.T) {
	m, path, err := testmodels.LoadTransformer()
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	qm, err := quant.QuantizeTransformer(m, src, quant.NormalInputs(1, 8, 1, 128, 256))
	if err != nil {
		t.Fatal(err)
	}
	qb := onnx.Encode(qm)
	committed, err := os.ReadFile(committedEncoder)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(qb, committed) {
		t.Errorf("quantizing the generated transformer gives %d bytes that differ from %s (%d bytes); if the float kernels changed on purpose, regenerate it with `xairrosx ai quantize -transformer` and update the golden hash", len(qb), committedEncoder, len(committed))
	}
	back, err := onnx.Load(qb)
	if err != nil {
		t.Fatal(err)
	}
	qp, err := runtime.Compile(back, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fp, err := runtime.Compile(m, runtime.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inScale, _ := strconv.ParseFloat(qm.Metadata[quant.MetaInputScale], 64)
	inZP, _ := strconv.Atoi(qm.Metadata[quant.MetaInputZeroPoint])
	outScale, _ := strconv.ParseFloat(qm.Metadata[quant.MetaOutputScale], 64)
	outZP, _ := strconv.Atoi(qm.Metadata[quant.MetaOutputZeroPoint])
	t.Logf("model %d bytes, %d nodes; input scale %.4g zp %d, output scale %.4g zp %d", len(qb), len(qm.Graph.Nodes), inScale, inZP, outScale, outZP)
	for i, x := range quant.NormalInputs(2, 2, 1, 128, 256) {
		xq := tensor.MustNew(tensor.Uint8, 1, 128, 256)
		xf := tensor.MustNew(tensor.Float32, 1, 128, 256)
		for j, v := range x.F32()[:x.Len()] {
			q := min(max(math.Round(float64(v)/inScale)+float64(inZP), 0), 255)
			xq.U8()[j] = uint8(q)
			xf.F32()[j] = float32((q - float64(inZP)) * inScale) // the same input, as the int8 model sees it
		}
		fo, err := fp.Run(xf)
		if err != nil {
			t.Fatal(err)
		}
		want := append([]float32(nil), fo[0].F32()[:fo[0].Len()]...)
		qo, err := qp.Run(xq)
		if err != nil {
			t.Fatal(err)
		}
		var dot, na, nb, maxAbs float64
		for j, q := range qo[0].U8()[:qo[0].Len()] {
			g := (float64(q) - float64(outZP)) * outScale
			w := float64(want[j])
			dot, na, nb = dot+g*w, na+g*g, nb+w*w
			maxAbs = math.Max(maxAbs, math.Abs(g-w))
		}
		cos := dot / math.Sqrt(na*nb)
		t.Logf("input %d: cosine similarity %.5f, largest absolute error %.4f (outputs have unit scale)", i, cos, maxAbs)
		if cos < 0.99 {
			t.Errorf("input %d: cosine similarity %.5f < 0.99", i, cos)
		}
	}
}
