package quant

import (
	"fmt"
	"math"

	"github.com/xairrosx/xairrosx/ai/kernels"
	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/ops"
	"github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// FormatDynamic marks models made by QuantizeDynamic.
const FormatDynamic = "dynamic-int8-v1"

// QuantizeDynamic returns a copy of m in which every MatMul with a constant
// 2-D float32 right-hand side becomes an ai.xairrosx/DynQMatMul with int8
// weights (per output column, in [-64, 63]) and activations quantized per
// row at run time. Other operators stay float32. It needs no calibration.
// The result is faster but, unlike Quantize's integer-only models, not
// bit-identical across machines; RunInt8 refuses it.
func QuantizeDynamic(m *onnx.Model) (*onnx.Model, int, error) {
	g := m.Graph
	inits := map[string]*tensor.Tensor{}
	for _, in := range g.Initializers {
		inits[in.Name] = in.Tensor
	}
	// Weights computed from constants (MNIST-8 reshapes its FC weights)
	// count too: the compiler folds them.
	folded := func(string) *tensor.Tensor { return nil }
	if p, err := runtime.Compile(m, runtime.Options{Threads: 1, NoFusion: true}); err == nil {
		folded = p.Const
	}
	uses := map[string]int{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			uses[in]++
		}
	}
	out := &onnx.Graph{Name: g.Name + "_dynq", Inputs: g.Inputs, Outputs: g.Outputs}
	replaced := 0
	var added []*onnx.Initializer
	for _, n := range g.Nodes {
		w := inits[safeInput(n, 1)]
		if w == nil {
			w = folded(safeInput(n, 1))
		}
		if n.OpType != "MatMul" || n.Domain != "" || w == nil || w.DType != tensor.Float32 || len(w.Shape) != 2 {
			out.Nodes = append(out.Nodes, n)
			continue
		}
		k, cols := w.Shape[0], w.Shape[1]
		src := w.Contiguous().F32()
		wq := tensor.MustNew(tensor.Int8, cols, k)
		sc := tensor.MustNew(tensor.Float32, cols)
		for j := 0; j < cols; j++ {
			mx := 0.0
			for i := 0; i < k; i++ {
				mx = math.Max(mx, math.Abs(float64(src[i*cols+j])))
			}
			s := mx / kernels.MaxWeight
			if s == 0 {
				s = 1
			}
			sc.F32()[j] = float32(s)
			for i := 0; i < k; i++ {
				r := math.Round(float64(src[i*cols+j]) / s)
				wq.I8()[j*k+i] = int8(min(max(r, kernels.MinWeight), kernels.MaxWeight))
			}
		}
		name := n.Name
		if name == "" {
			name = fmt.Sprintf("matmul%d", n.Index)
		}
		added = append(added, &onnx.Initializer{Name: name + "_wq", Tensor: wq}, &onnx.Initializer{Name: name + "_ws", Tensor: sc})
		out.Nodes = append(out.Nodes, &onnx.Node{Name: name + "_dynq", OpType: "DynQMatMul", Domain: ops.Domain,
			Inputs: []string{n.Inputs[0], name + "_wq", name + "_ws"}, Outputs: n.Outputs, Attrs: map[string]*onnx.Attr{}})
		uses[n.Inputs[1]]--
		replaced++
	}
	for _, in := range g.Initializers {
		if uses[in.Name] > 0 {
			out.Initializers = append(out.Initializers, in)
		}
	}
	out.Initializers = append(out.Initializers, added...)
	for i, n := range out.Nodes {
		n.Index = i
	}
	meta := map[string]string{MetaFormat: FormatDynamic}
	opsets := map[string]int64{ops.Domain: 1}
	for d, v := range m.Opsets {
		opsets[d] = v
	}
	return &onnx.Model{IRVersion: m.IRVersion, ProducerName: "xairrosx-quant", ProducerVersion: "1",
		Opsets: opsets, Graph: out, Metadata: meta}, replaced, nil
}

func safeInput(n *onnx.Node, i int) string {
	if i < len(n.Inputs) {
		return n.Inputs[i]
	}
	return ""
}
