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
	consumers := map[string][]*onnx.Node{}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			consumers[in] = append(consumers[in], n)
		}
	}
	isOutput := map[string]bool{}
	for _, o := range g.Outputs {
		isOutput[o.Name] = true
	}
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
