// Package quant turns a float32 ONNX model into an integer-only one by
// post-training quantization with a calibration set. The result is an ONNX
// model whose compute nodes are the engine's QConv and QGemm operators
// (domain ai.xairrosx): uint8 activations, int8 weights in [-64, 63], int32
// biases and accumulators, and requantization by an integer multiplier and
// shift. Its outputs therefore depend only on integer arithmetic and are
// bit-identical on every machine, kernel and thread count.
//
// The quantizer handles chains of Conv (+Add bias) (+Relu), MatMul or Gemm
// (+Add bias) (+Relu), MaxPool, Reshape and Flatten, which covers CNN
// classifiers such as MNIST-8; other operators are refused by name.
package quant

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"

	"github.com/xairrosx/xairrosx/ai/kernels"
	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/ops"
	"github.com/xairrosx/xairrosx/ai/runtime"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// Options tune quantization.
type Options struct {
	// InputScale and InputZeroPoint fix the quantization of the model input
	// (real = scale·(q - zero point)). A zero InputScale calibrates them.
	// MNIST-8 takes raw 0-255 pixels, so scale 1 and zero point 0 make the
	// quantized model take the pixel bytes unchanged.
	InputScale     float64
	InputZeroPoint int
}

// Metadata keys written into quantized models.
const (
	MetaFormat         = "xairrosx.format"
	MetaInputScale     = "xairrosx.input_scale"
	MetaInputZeroPoint = "xairrosx.input_zero_point"
	MetaOutputScale    = "xairrosx.output_scale"
	MetaSource         = "xairrosx.source_sha256"
	FormatInt8         = "int8-v1"
)

type qinfo struct {
	scale float64
	zp    int
}

type rng struct{ lo, hi float64 }

func (r rng) qinfo() qinfo {
	lo, hi := math.Min(0, r.lo), math.Max(0, r.hi)
	if hi-lo < 1e-12 {
		hi = lo + 1e-12
	}
	s := (hi - lo) / 255
	zp := int(math.Round(-lo / s))
	return qinfo{s, min(max(zp, 0), 255)}
}

// Quantize returns the integer model for m, calibrated on the given inputs
// (each a tensor for m's single non-constant input). source is the float
// model's bytes, recorded by hash.
func Quantize(m *onnx.Model, source []byte, calib []*tensor.Tensor, opt Options) (*onnx.Model, error) {
	p, ranges, err := calibrate(m, calib)
	if err != nil {
		return nil, err
	}
	g := m.Graph

	consumers := g.Consumers()
	isOutput := g.OutputSet()
	// next returns the single consumer of name if it is op and name is not a graph output.
	next := func(name, op string) *onnx.Node {
		c := consumers[name]
		if len(c) == 1 && c[0].OpType == op && !isOutput[name] {
			return c[0]
		}
		return nil
	}

	in0 := p.Inputs[0]
	var inQ qinfo
	if opt.InputScale > 0 {
		inQ = qinfo{opt.InputScale, opt.InputZeroPoint}
	} else {
		inQ = ranges[in0.Name].qinfo()
	}
	q := map[string]qinfo{in0.Name: inQ}
	out := &onnx.Graph{Name: g.Name + "_int8"}
	dims := make([]onnx.Dim, len(in0.Shape))
	for i, d := range in0.Shape {
		dims[i] = onnx.Dim{Value: int64(d)}
	}
	out.Inputs = []onnx.ValueInfo{{Name: in0.Name, ElemType: tensor.Uint8, HasShape: true, Dims: dims}}
	meta := map[string]string{
		MetaFormat:         FormatInt8,
		MetaInputScale:     strconv.FormatFloat(inQ.scale, 'g', -1, 64),
		MetaInputZeroPoint: strconv.Itoa(inQ.zp),
	}
	if source != nil {
		h := sha256.Sum256(source)
		meta[MetaSource] = hex.EncodeToString(h[:])
	}
	done := map[*onnx.Node]bool{}
	addInit := func(name string, t *tensor.Tensor) {
		out.Initializers = append(out.Initializers, &onnx.Initializer{Name: name, Tensor: t})
	}
	for _, n := range g.Nodes {
		if done[n] {
			continue
		}
		allConst := true
		for _, in := range n.Inputs {
			allConst = allConst && (in == "" || p.Const(in) != nil)
		}
		if allConst {
			continue // folded; consumers read the constant
		}
		switch n.OpType {
		case "Conv", "MatMul", "Gemm":
			x, ok := q[n.Inputs[0]]
			if !ok {
				return nil, fmt.Errorf("quant: %s: input %q is not quantized", n.Describe(), n.Inputs[0])
			}
			w := p.Const(n.Inputs[1])
			if w == nil {
				return nil, fmt.Errorf("quant: %s: weights must be constant", n.Describe())
			}
			w = w.Contiguous()
			var bias []float32
			var channels, k int
			var wrows []float32 // channels × k, one row per output channel
			switch n.OpType {
			case "Conv":
				channels = w.Shape[0]
				k = w.Len() / channels
				wrows = w.F32()[:w.Len()]
				if len(n.Inputs) > 2 && n.Inputs[2] != "" {
					bias = p.Const(n.Inputs[2]).Contiguous().F32()[:channels]
				}
			case "MatMul", "Gemm":
				if len(w.Shape) != 2 {
					return nil, fmt.Errorf("quant: %s: weights must be a matrix", n.Describe())
				}
				transB := n.OpType == "Gemm" && n.Attrs["transB"] != nil && n.Attrs["transB"].I != 0
				if n.OpType == "Gemm" {
					for _, a := range []string{"alpha", "beta"} {
						if at := n.Attrs[a]; at != nil && at.F != 1 {
							return nil, fmt.Errorf("quant: %s: %s != 1 is not supported", n.Describe(), a)
						}
					}
					if at := n.Attrs["transA"]; at != nil && at.I != 0 {
						return nil, fmt.Errorf("quant: %s: transA is not supported", n.Describe())
					}
					if len(n.Inputs) > 2 && n.Inputs[2] != "" {
						bias = p.Const(n.Inputs[2]).Contiguous().F32()
					}
				}
				kk, nn := w.Shape[0], w.Shape[1]
				if transB {
					kk, nn = nn, kk
				}
				channels, k = nn, kk
				wrows = make([]float32, nn*kk)
				src := w.F32()
				for i := 0; i < kk; i++ {
					for j := 0; j < nn; j++ {
						if transB {
							wrows[j*kk+i] = src[j*kk+i]
						} else {
							wrows[j*kk+i] = src[i*nn+j]
						}
					}
				}
			}
			last := n.Outputs[0]
			if add := next(last, "Add"); add != nil {
				other := add.Inputs[1]
				if other == last {
					other = add.Inputs[0]
				}
				c := p.Const(other)
				if c == nil || c.Len() != channels || (bias != nil) {
					return nil, fmt.Errorf("quant: %s: the Add after it is not a per-channel bias", add.Describe())
				}
				bias = c.Contiguous().F32()[:channels]
				done[add] = true
				last = add.Outputs[0]
			}
			relu := false
			if r := next(last, "Relu"); r != nil {
				relu, done[r] = true, true
				last = r.Outputs[0]
			}
			finalOut := isOutput[last]
			// Weights: per channel for requantized outputs; one scale for
			// int32 outputs so that accumulators share one scale.
			wq, scales := weightsInt8(wrows, channels, k, finalOut, append([]int{channels}, wShape(n.OpType, w, k)...)...)
			bq := tensor.MustNew(tensor.Int32, channels)
			for c := 0; c < channels; c++ {
				if bias != nil {
					bq.I32()[c] = int32(math.Round(float64(bias[c]) / (x.scale * scales[c])))
				}
			}
			name := n.Name
			if name == "" {
				name = fmt.Sprintf("node%d", n.Index)
			}
			qn := &onnx.Node{Name: name + "_q", Domain: ops.Domain, Inputs: []string{n.Inputs[0], name + "_wq", name + "_bq"},
				Outputs: []string{last}, Attrs: map[string]*onnx.Attr{}}
			addInit(name+"_wq", wq)
			addInit(name+"_bq", bq)
			if n.OpType == "Conv" {
				qn.OpType = "QConv"
				for _, a := range []string{"auto_pad", "pads", "strides", "dilations", "group", "kernel_shape"} {
					if at := n.Attrs[a]; at != nil {
						qn.Attrs[a] = at
					}
				}
			} else {
				qn.OpType = "QGemm"
			}
			qn.Attrs["x_zero_point"] = onnx.IntAttr("x_zero_point", int64(x.zp))
			if finalOut {
				qn.Attrs["output"] = onnx.StringAttr("output", "int32")
				meta[MetaOutputScale] = strconv.FormatFloat(x.scale*scales[0], 'g', -1, 64)
			} else {
				r := ranges[last]
				if r == nil {
					return nil, fmt.Errorf("quant: no calibration range for %q", last)
				}
				yq := r.qinfo()
				if relu {
					yq = rng{0, r.hi}.qinfo()
				}
				mult, shift := make([]int64, channels), make([]int64, channels)
				for c := 0; c < channels; c++ {
					mm, sh := kernels.QuantizeMultiplier(x.scale * scales[c] / yq.scale)
					mult[c], shift[c] = int64(mm), int64(sh)
				}
				qn.Attrs["multiplier"] = onnx.IntsAttr("multiplier", mult...)
				qn.Attrs["shift"] = onnx.IntsAttr("shift", shift...)
				qn.Attrs["y_zero_point"] = onnx.IntAttr("y_zero_point", int64(yq.zp))
				if relu {
					qn.Attrs["relu"] = onnx.IntAttr("relu", 1)
				}
				q[last] = yq
			}
			out.Nodes = append(out.Nodes, qn)
		case "MaxPool", "Reshape", "Flatten":
			x, ok := q[n.Inputs[0]]
			if !ok {
				return nil, fmt.Errorf("quant: %s: input %q is not quantized", n.Describe(), n.Inputs[0])
			}
			if n.OpType == "MaxPool" && len(n.Outputs) > 1 {
				return nil, fmt.Errorf("quant: %s: MaxPool indices are not supported", n.Describe())
			}
			for _, in := range n.Inputs[1:] {
				if c := p.Const(in); c != nil {
					addInit(in, c)
				}
			}
			out.Nodes = append(out.Nodes, n)
			q[n.Outputs[0]] = x
		default:
			return nil, fmt.Errorf("quant: %s: operator %s is not supported by the quantizer", n.Describe(), n.OpType)
		}
	}
	for _, o := range g.Outputs {
		dt := tensor.Uint8
		if meta[MetaOutputScale] != "" {
			dt = tensor.Int32
		}
		vi := onnx.ValueInfo{Name: o.Name, ElemType: dt}
		out.Outputs = append(out.Outputs, vi)
	}
	return finish(m, out, meta)
}

// finish numbers the nodes of the quantized graph out of m, wraps it in a
// model with meta, and round-trips it through the file format and the
// compiler, so that a bad result fails here rather than when loaded.
func finish(m *onnx.Model, out *onnx.Graph, meta map[string]string) (*onnx.Model, error) {
	for i, n := range out.Nodes {
		n.Index = i
	}
	qm := &onnx.Model{IRVersion: 8, ProducerName: "xairrosx-quant", ProducerVersion: "1",
		Opsets: map[string]int64{"": m.Opset(""), ops.Domain: 1}, Graph: out, Metadata: meta}
	back, err := onnx.Load(onnx.Encode(qm))
	if err != nil {
		return nil, fmt.Errorf("quant: produced an invalid model: %w", err)
	}
	if _, err := runtime.Compile(back, runtime.Options{Threads: 1}); err != nil {
		return nil, fmt.Errorf("quant: produced a model that does not compile: %w", err)
	}
	return qm, nil
}

// calibrate compiles m keeping every value, runs the calibration inputs
// through it and returns the program with the range of every float32
// value of m's graph.
func calibrate(m *onnx.Model, calib []*tensor.Tensor) (*runtime.Program, map[string]*rng, error) {
	p, err := runtime.Compile(m, runtime.Options{KeepAll: true, Threads: 1})
	if err != nil {
		return nil, nil, err
	}
	if len(p.Inputs) != 1 || p.Inputs[0].DType != tensor.Float32 {
		return nil, nil, fmt.Errorf("quant: the model must have one float32 input, has %d", len(p.Inputs))
	}
	if len(calib) == 0 {
		return nil, nil, fmt.Errorf("quant: empty calibration set")
	}
	g := m.Graph
	ranges := map[string]*rng{}
	track := func(name string) {
		t := p.Value(name)
		if t == nil || t.DType != tensor.Float32 {
			return
		}
		r := ranges[name]
		if r == nil {
			r = &rng{math.Inf(1), math.Inf(-1)}
			ranges[name] = r
		}
		for _, v := range t.F32()[:t.Len()] {
			r.lo, r.hi = math.Min(r.lo, float64(v)), math.Max(r.hi, float64(v))
		}
	}
	for _, in := range calib {
		if _, err := p.Run(in); err != nil {
			return nil, nil, fmt.Errorf("quant: calibration: %w", err)
		}
		track(p.Inputs[0].Name)
		for _, n := range g.Nodes {
			for _, o := range n.Outputs {
				track(o)
			}
		}
	}
	return p, ranges, nil
}

func wShape(op string, w *tensor.Tensor, k int) []int {
	if op == "Conv" {
		return w.Shape[1:]
	}
	return []int{k}
}
