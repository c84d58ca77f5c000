package runtime_test

import (
	"bytes"
	"testing"

	"github.com/xairrosx/xairrosx/ai/kernels"

	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/ops"
	xrt "github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// tinyIntegerEncoder returns a small model that uses every integer
// transformer operator (QRescale, QLayerNorm, QGemm in all output kinds,
// QAttention, QGelu, Add on int32): a fuzz seed and a smoke test.
func tinyIntegerEncoder() []byte {
	const s, w = 4, 64
	g := &onnx.Graph{Name: "tiny",
		Inputs:  []onnx.ValueInfo{{Name: "x", ElemType: tensor.Uint8, HasShape: true, Dims: []onnx.Dim{{Value: 1}, {Value: s}, {Value: w}}}},
		Outputs: []onnx.ValueInfo{{Name: "y", ElemType: tensor.Uint8}}}
	init := func(name string, t *tensor.Tensor) string {
		g.Initializers = append(g.Initializers, &onnx.Initializer{Name: name, Tensor: t})
		return name
	}
	fill32 := func(n int, v func(i int) int32) *tensor.Tensor {
		t := tensor.MustNew(tensor.Int32, n)
		for i := range t.I32()[:n] {
			t.I32()[i] = v(i)
		}
		return t
	}
	wt := tensor.MustNew(tensor.Int8, w, w)
	for i := range wt.I8()[:w*w] {
		wt.I8()[i] = int8(i*37%127 - 63)
	}
	init("w", wt)
	init("b", fill32(w, func(i int) int32 { return int32(i - 32) }))
	init("g", fill32(w, func(i int) int32 { return 1<<16 + int32(i)<<8 }))
	init("beta", fill32(w, func(i int) int32 { return int32(i % 5) }))
	node := func(op, out string, in []string, attrs ...*onnx.Attr) {
		n := &onnx.Node{Name: out, OpType: op, Domain: ops.Domain, Inputs: in, Outputs: []string{out}, Attrs: map[string]*onnx.Attr{}}
		if op == "Add" {
			n.Domain = ""
		}
		for _, a := range attrs {
			n.Attrs[a.Name] = a
		}
		n.Index = len(g.Nodes)
		g.Nodes = append(g.Nodes, n)
	}
	i := onnx.IntAttr
	node("QRescale", "r", []string{"x"}, i("x_zero_point", 128), i("multiplier", 1<<30), i("shift", -4))
	node("QLayerNorm", "h", []string{"r", "g", "beta"}, i("epsilon", 1), i("frac", 16), i("y_zero_point", 128))
	gemm := func(out, kind string) {
		node("QGemm", out, []string{"h", "w", "b"}, i("x_zero_point", 128), onnx.IntsAttr("multiplier", 1<<30), onnx.IntsAttr("shift", 6),
			onnx.StringAttr("output", kind))
	}
	gemm("q", "uint8")
	gemm("k", "int7")
	gemm("v", "int7")
	node("QAttention", "a", []string{"q", "k", "v"}, i("heads", 2), i("q_zero_point", 128), i("score_multiplier", 1<<30), i("score_shift", 4),
		i("multiplier", 1<<30), i("shift", -2), i("y_zero_point", 7))
	node("QGemm", "f", []string{"a", "w", "b"}, onnx.IntsAttr("multiplier", 1<<30), onnx.IntsAttr("shift", 2), onnx.StringAttr("output", "int32s"))
	node("Add", "res", []string{"r", "f"})
	node("QGelu", "y", []string{"res"}, i("clip", 1000), i("one", 1<<20), i("wshift", 7), i("multiplier", 1<<30), i("shift", 12), i("y_zero_point", 3))
	m := &onnx.Model{IRVersion: 8, ProducerName: "test", Opsets: map[string]int64{"": 17, ops.Domain: 1}, Graph: g}
	return onnx.Encode(m)
}

// TestTinyIntegerEncoder runs the tiny model with every int8 kernel the
// CPU has and 1 or 2 threads: the outputs must be the same bytes, and must
// depend on the input.
func TestTinyIntegerEncoder(t *testing.T) {
	m, err := onnx.Load(tinyIntegerEncoder())
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.MustNew(tensor.Uint8, 1, 4, 64)
	var outs [][]byte
	_, best := kernels.Best()
	for impl := kernels.Generic; impl <= best; impl++ {
		for _, threads := range []int{1, 2} {
			pf, pi := kernels.Use(kernels.Generic, impl)
			p, err := xrt.Compile(m, xrt.Options{Threads: threads})
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			for seed := 0; seed < 2; seed++ {
				for j := range x.U8()[:x.Len()] {
					x.U8()[j] = uint8(j*131 + seed*77 + j*j*seed)
				}
				out, err := p.Run(x)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, out[0].U8()[:out[0].Len()]...)
			}
			kernels.Use(pf, pi)
			outs = append(outs, got)
			if !bytes.Equal(got, outs[0]) {
				t.Errorf("%v, %d threads: outputs differ from the pure-Go kernels'", impl, threads)
			}
		}
	}
	half := len(outs[0]) / 2
	if bytes.Equal(outs[0][:half], outs[0][half:]) {
		t.Errorf("two different inputs gave the same output %v", outs[0][:half])
	}
}
