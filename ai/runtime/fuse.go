package runtime

import (
	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// FuseActivation is the attribute a fused node carries: the activation
// ("Relu") applied to its output by the operator itself.
const FuseActivation = "xairrosx.activation"

// fuse rewrites the node list so that Conv → Add(per-channel constant) →
// Relu chains run as one Conv with a bias and a fused activation, saving
// two passes over the activations. It only fuses values with a single
// consumer that are not graph outputs, so the results are unchanged. The
// model itself is not modified: fused nodes are copies.
func fuse(g *onnx.Graph, consts map[string]*tensor.Tensor) []*onnx.Node {
	consumers := g.Consumers()
	isOutput := g.OutputSet()
	single := func(name, op string) *onnx.Node {
		c := consumers[name]
		if len(c) == 1 && c[0].OpType == op && c[0].Domain == "" && !isOutput[name] {
			return c[0]
		}
		return nil
	}
	skip := map[*onnx.Node]bool{}
	var out []*onnx.Node
	for _, n := range g.Nodes {
		if skip[n] {
			continue
		}
		if n.OpType == "MatMul" && n.Domain == "" && len(n.Inputs) == 2 {
			out = append(out, fuseMatMulBias(n, consts, single, skip))
			continue
		}
		if n.OpType == "DynQMatMul" && n.Domain == "ai.xairrosx" && len(n.Inputs) == 3 {
			out = append(out, fuseMatMulBias(n, consts, single, skip))
			continue
		}
		if n.OpType == "Div" && n.Domain == "" {
			if gelu := fuseGelu(n, consts, single, skip); gelu != nil {
				out = append(out, gelu)
				continue
			}
		}
		if n.OpType != "Conv" || n.Domain != "" || len(n.Outputs) != 1 || len(n.Inputs) < 2 {
			out = append(out, n)
			continue
		}
		w := consts[n.Inputs[1]]
		if w == nil || len(w.Shape) < 3 {
			out = append(out, n)
			continue
		}
		m := w.Shape[0]
		f := *n // a copy
		f.Attrs = map[string]*onnx.Attr{}
		for k, v := range n.Attrs {
			f.Attrs[k] = v
		}
		f.Inputs = append([]string(nil), n.Inputs...)
		last := n.Outputs[0]
		hasBias := len(n.Inputs) > 2 && n.Inputs[2] != ""
		if add := single(last, "Add"); add != nil && !hasBias && len(add.Inputs) == 2 {
			other := add.Inputs[1]
			if other == last {
				other = add.Inputs[0]
			}
			if c := consts[other]; c != nil && c.DType == tensor.Float32 && c.Len() == m && perChannel(c.Shape, len(w.Shape)) {
				f.Inputs = append(f.Inputs[:2], other)
				skip[add] = true
				last = add.Outputs[0]
			}
		}
		if r := single(last, "Relu"); r != nil {
			f.Attrs[FuseActivation] = onnx.StringAttr(FuseActivation, "Relu")
			skip[r] = true
			last = r.Outputs[0]
		}
		f.Outputs = []string{last}
		out = append(out, &f)
	}
	return out
}

// perChannel reports whether a constant of this shape broadcasts against
// an N×M×spatial convolution output as one value per channel M
// ([M,1,1], [1,M,1,1], ...).
func perChannel(shape []int, rank int) bool {
	if len(shape) > rank || len(shape) < rank-1 {
		return false
	}
	// the channel axis is rank-1-... : shape aligned to the right of [N, M, s...]
	ch := len(shape) - (rank - 1) // index of M in shape
	for i, d := range shape {
		if i != ch && d != 1 {
			return false
		}
	}
	return true
}

// fuseMatMulBias turns MatMul(X, W) → Add(·, B) with a constant W [K, N]
// and a constant B of N values into one MatMul carrying the bias as an
// extra last input (marked by the FuseBias attribute), added in the GEMM's
// row loop. DynQMatMul (W stored as [N, K]) is fused the same way.
func fuseMatMulBias(n *onnx.Node, consts map[string]*tensor.Tensor, single func(string, string) *onnx.Node, skip map[*onnx.Node]bool) *onnx.Node {
	w := consts[n.Inputs[1]]
	add := single(n.Outputs[0], "Add")
	if w == nil || len(w.Shape) != 2 || add == nil || len(add.Inputs) != 2 {
		return n
	}
	cols := w.Shape[1]
	if n.OpType == "DynQMatMul" {
		cols = w.Shape[0]
	}
	other := add.Inputs[1]
	if other == n.Outputs[0] {
		other = add.Inputs[0]
	}
	b := consts[other]
	if b == nil || b.DType != tensor.Float32 || b.Len() != cols || b.Shape[len(b.Shape)-1] != cols || len(b.Shape) > 2 {
		return n
	}
	f := *n
	f.Inputs = append(append([]string(nil), n.Inputs...), other)
	f.Outputs = []string{add.Outputs[0]}
	f.Attrs = map[string]*onnx.Attr{FuseBias: onnx.IntAttr(FuseBias, 1)}
	skip[add] = true
	return &f
}

// FuseBias marks a MatMul whose third input is a fused bias.
const FuseBias = "xairrosx.bias"

// fuseGelu turns the exact GELU written with Erf, as exported models and
// ai/models/make_transformer.py write it:
//
//	Div(x, √2) → Erf → Add(·, 1) → Mul(x, ·) → Mul(·, 0.5)
//
// into one ai.xairrosx/Gelu node.
func fuseGelu(div *onnx.Node, consts map[string]*tensor.Tensor, single func(string, string) *onnx.Node, skip map[*onnx.Node]bool) *onnx.Node {
	scalar := func(name string, want float64) bool {
		c := consts[name]
		if c == nil || c.DType != tensor.Float32 || c.Len() != 1 {
			return false
		}
		v := float64(c.Contiguous().F32()[0])
		return v > want*(1-1e-6) && v < want*(1+1e-6)
	}
	if len(div.Inputs) != 2 || !scalar(div.Inputs[1], 1.4142135623730951) {
		return nil
	}
	x := div.Inputs[0]
	erf := single(div.Outputs[0], "Erf")
	if erf == nil {
		return nil
	}
	add := single(erf.Outputs[0], "Add")
	if add == nil || len(add.Inputs) != 2 {
		return nil
	}
	if other := otherInput(add, erf.Outputs[0]); !scalar(other, 1) {
		return nil
	}
	mul := single(add.Outputs[0], "Mul")
	if mul == nil || len(mul.Inputs) != 2 || otherInput(mul, add.Outputs[0]) != x {
		return nil
	}
	half := single(mul.Outputs[0], "Mul")
	if half == nil || len(half.Inputs) != 2 || !scalar(otherInput(half, mul.Outputs[0]), 0.5) {
		return nil
	}
	for _, nd := range []*onnx.Node{erf, add, mul, half} {
		skip[nd] = true
	}
	return &onnx.Node{Name: div.Name + "+gelu", OpType: "Gelu", Domain: "ai.xairrosx", Index: div.Index,
		Inputs: []string{x}, Outputs: []string{half.Outputs[0]}, Attrs: map[string]*onnx.Attr{}}
}

func otherInput(n *onnx.Node, name string) string {
	if n.Inputs[0] == name {
		return n.Inputs[1]
	}
	return n.Inputs[0]
}
