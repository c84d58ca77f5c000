package quant

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"math/bits"
	"math/rand"
	"strconv"

	"github.com/xairrosx/xairrosx/ai/kernels"
	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/ops"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// Metadata keys of quantized transformers (besides those of Quantize).
const (
	MetaOutputZeroPoint = "xairrosx.output_zero_point"
	FormatInt8Encoder   = "int8-encoder-v1"
)

// Fixed-point choices of the transformer format.
const (
	residualBits = 18 // the largest calibrated residual maps to 2^18
	geluBits     = 12 // the largest calibrated GELU input maps to 2^12
	lnFrac       = 16 // fraction bits of QLayerNorm's G
	expUnit      = 1.0 / (1 << 10)
)

// value kinds in the integer graph
const (
	kindU8  = iota // uint8, scale and zero point
	kindRes        // int32 residual stream, scale resScale
	kindI7         // int8 in [-64, 63], scale, zero point 0
)

type tval struct {
	kind  int
	scale float64
	zp    int
}

// QuantizeTransformer turns a float32 pre-LayerNorm transformer encoder
// into an integer-only model, calibrated on the given inputs. It
// recognises, in the ONNX graph:
//
//   - LayerNormalization → QLayerNorm (int32 residual stream → uint8);
//   - MatMul + bias Add → QGemm, whose output kind follows its use:
//     queries uint8, keys and values int7, residual branches int32 at the
//     residual scale ("int32s"), GELU inputs int32 at their own scale;
//   - Reshape/Transpose → MatMul → Mul(scale) → Softmax → MatMul →
//     Transpose/Reshape (multi-head attention) → QAttention;
//   - Div(√2) → Erf → Add(1) → Mul → Mul(0.5) (GELU) → QGelu;
//   - Add of two residual values → Add on int32; Identity.
//
// The model input becomes uint8 (real = input_scale·(q − input_zero_point)),
// entering the residual stream through QRescale; the output is uint8 with
// output_scale and output_zero_point in the metadata. Anything else is
// refused by name.
func QuantizeTransformer(m *onnx.Model, source []byte, calib []*tensor.Tensor) (*onnx.Model, error) {
	p, ranges, err := calibrate(m, calib)
	if err != nil {
		return nil, err
	}
	g := m.Graph
	consumers := g.Consumers()
	isConst := func(v string) bool { return p.Const(v) != nil }
	rangeOf := func(v string) (*rng, error) {
		r := ranges[v]
		if r == nil {
			return nil, fmt.Errorf("quant: no calibration range for %q", v)
		}
		return r, nil
	}
	only := func(v, op string) *onnx.Node {
		if c := consumers[v]; len(c) == 1 && c[0].OpType == op {
			return c[0]
		}
		return nil
	}
	other := func(n *onnx.Node, v string) string {
		if n.Inputs[0] == v {
			return n.Inputs[1]
		}
		return n.Inputs[0]
	}

	// The residual stream: the input and every Add of two computed values.
	in0 := p.Inputs[0]
	resMax := math.Max(math.Abs(ranges[in0.Name].lo), math.Abs(ranges[in0.Name].hi))
	for _, n := range g.Nodes {
		if n.OpType == "Add" && !isConst(n.Inputs[0]) && !isConst(n.Inputs[1]) {
			r, err := rangeOf(n.Outputs[0])
			if err != nil {
				return nil, err
			}
			resMax = math.Max(resMax, math.Max(-r.lo, r.hi))
		}
	}
	resScale := resMax / (1 << residualBits)

	out := &onnx.Graph{Name: g.Name + "_int8"}
	addInit := func(name string, t *tensor.Tensor) {
		out.Initializers = append(out.Initializers, &onnx.Initializer{Name: name, Tensor: t})
	}
	emit := func(op, name string, inputs []string, output string, attrs ...*onnx.Attr) {
		n := &onnx.Node{Name: name, OpType: op, Inputs: inputs, Outputs: []string{output}, Attrs: map[string]*onnx.Attr{}}
		if op != "Add" && op != "Identity" {
			n.Domain = ops.Domain
		}
		for _, a := range attrs {
			n.Attrs[a.Name] = a
		}
		out.Nodes = append(out.Nodes, n)
	}
	requant := func(mName, sName string, real float64) []*onnx.Attr {
		mm, sh := kernels.QuantizeMultiplier(real)
		return []*onnx.Attr{onnx.IntAttr(mName, int64(mm)), onnx.IntAttr(sName, int64(sh))}
	}
	vals := map[string]tval{}
	names := map[string]string{} // float value → its integer value's name

	inQ := ranges[in0.Name].qinfo()
	shape := calib[0].Shape
	dims := make([]onnx.Dim, len(shape))
	for i, d := range shape {
		dims[i] = onnx.Dim{Value: int64(d)}
	}
	out.Inputs = []onnx.ValueInfo{{Name: in0.Name, ElemType: tensor.Uint8, HasShape: true, Dims: dims}}
	emit("QRescale", in0.Name+"_res", []string{in0.Name}, in0.Name+"_res",
		append(requant("multiplier", "shift", inQ.scale/resScale), onnx.IntAttr("x_zero_point", int64(inQ.zp)))...)
	vals[in0.Name], names[in0.Name] = tval{kind: kindRes, scale: resScale}, in0.Name+"_res"
	u8 := func(v string) (tval, error) {
		r, err := rangeOf(v)
		if err != nil {
			return tval{}, err
		}
		q := r.qinfo()
		return tval{kind: kindU8, scale: q.scale, zp: q.zp}, nil
	}
	need := func(n *onnx.Node, v string, kind int) (tval, error) {
		t, ok := vals[v]
		if !ok || t.kind != kind {
			return tval{}, fmt.Errorf("quant: %s: input %q is not available in the integer form this operator needs", n.Describe(), v)
		}
		return t, nil
	}

	done := map[*onnx.Node]bool{}
	// linear quantizes MatMul n (+ its bias Add) with input x into an
	// output of the given kind and scale; it returns the output name.
	linear := func(n *onnx.Node, x tval, kind int, y tval) (string, error) {
		add := only(n.Outputs[0], "Add")
		if add == nil || !isConst(other(add, n.Outputs[0])) {
			return "", fmt.Errorf("quant: %s: a MatMul must be followed by a bias Add", n.Describe())
		}
		done[add] = true
		w := p.Const(n.Inputs[1]).Contiguous()
		bias := p.Const(other(add, n.Outputs[0])).Contiguous()
		if len(w.Shape) != 2 || bias.Len() != w.Shape[1] {
			return "", fmt.Errorf("quant: %s: weights %v and bias %v do not fit", n.Describe(), w.Shape, bias.Shape)
		}
		k, c := w.Shape[0], w.Shape[1]
		wrows := make([]float32, c*k)
		for i := 0; i < k; i++ {
			for j := 0; j < c; j++ {
				wrows[j*k+i] = w.F32()[i*c+j]
			}
		}
		wq, scales := weightsInt8(wrows, c, k, false, c, k)
		bq := tensor.MustNew(tensor.Int32, c)
		for j := 0; j < c; j++ {
			bq.I32()[j] = int32(math.Round(float64(bias.F32()[j]) / (x.scale * scales[j])))
		}
		name := add.Outputs[0]
		addInit(name+"_wq", wq)
		addInit(name+"_bq", bq)
		mult, shift := make([]int64, c), make([]int64, c)
		for j := 0; j < c; j++ {
			mm, sh := kernels.QuantizeMultiplier(x.scale * scales[j] / y.scale)
			mult[j], shift[j] = int64(mm), int64(sh)
		}
		attrs := []*onnx.Attr{onnx.IntAttr("x_zero_point", int64(x.zp)), onnx.IntsAttr("multiplier", mult...), onnx.IntsAttr("shift", shift...)}
		switch kind {
		case kindU8:
			attrs = append(attrs, onnx.IntAttr("y_zero_point", int64(y.zp)))
		case kindI7:
			attrs = append(attrs, onnx.StringAttr("output", "int7"))
		default:
			attrs = append(attrs, onnx.StringAttr("output", "int32s"))
		}
		emit("QGemm", name+"_q", []string{names[n.Inputs[0]], name + "_wq", name + "_bq"}, name, attrs...)
		return name, nil
	}
	producer := map[string]*onnx.Node{}
	for _, n := range g.Nodes {
		for _, o := range n.Outputs {
			producer[o] = n
		}
	}
	heads := map[string]int{} // linear output → head count
	// headsOf follows a linear output v through Reshape and Transpose to
	// the attention MatMul; it reports whether v is the queries (the left
	// operand of the scores product) and records the head count.
	headsOf := func(v string) (bool, error) {
		rs := only(v, "Reshape")
		if rs == nil {
			return false, fmt.Errorf("quant: %q: expected Reshape into heads", v)
		}
		tr := only(rs.Outputs[0], "Transpose")
		if tr == nil {
			return false, fmt.Errorf("quant: %s: expected Transpose after it", rs.Describe())
		}
		mm := only(tr.Outputs[0], "MatMul")
		if mm == nil {
			return false, fmt.Errorf("quant: %s: expected an attention MatMul after it", tr.Describe())
		}
		sh := p.Const(rs.Inputs[1])
		if sh == nil || sh.Len() != 4 {
			return false, fmt.Errorf("quant: %s: the head shape must be a 4-value constant", rs.Describe())
		}
		done[rs], done[tr] = true, true
		heads[v] = int(sh.Contiguous().I64()[2])
		return mm.Inputs[0] == tr.Outputs[0] && only(mm.Outputs[0], "Mul") != nil, nil
	}
	// linearOf returns the linear output that was reshaped and transposed
	// into heads h.
	linearOf := func(h string) string {
		tr := producer[h]
		if tr == nil || tr.OpType != "Transpose" {
			return ""
		}
		rs := producer[tr.Inputs[0]]
		if rs == nil || rs.OpType != "Reshape" {
			return ""
		}
		return rs.Inputs[0]
	}

	for _, n := range g.Nodes {
		if done[n] {
			continue
		}
		allConst := true
		for _, in := range n.Inputs {
			allConst = allConst && (in == "" || isConst(in))
		}
		if allConst {
			continue
		}
		switch {
		case n.OpType == "LayerNormalization":
			if _, err := need(n, n.Inputs[0], kindRes); err != nil {
				return nil, err
			}
			if len(n.Inputs) < 3 || !isConst(n.Inputs[1]) || !isConst(n.Inputs[2]) {
				return nil, fmt.Errorf("quant: %s: scale and bias must be constants", n.Describe())
			}
			if a := n.Attrs["axis"]; a != nil && a.I != -1 && a.I != int64(len(shape)-1) {
				return nil, fmt.Errorf("quant: %s: only the last axis is supported", n.Describe())
			}
			eps := 1e-5
			if a := n.Attrs["epsilon"]; a != nil {
				eps = float64(a.F)
			}
			y, err := u8(n.Outputs[0])
			if err != nil {
				return nil, err
			}
			gm, bt := p.Const(n.Inputs[1]).Contiguous(), p.Const(n.Inputs[2]).Contiguous()
			c := gm.Len()
			gq, bq := tensor.MustNew(tensor.Int32, c), tensor.MustNew(tensor.Int32, c)
			for i := 0; i < c; i++ {
				gq.I32()[i] = int32(math.Round(float64(gm.F32()[i]) / y.scale * (1 << lnFrac)))
				bq.I32()[i] = int32(math.Round(float64(bt.F32()[i]) / y.scale))
			}
			name := n.Outputs[0]
			addInit(name+"_g", gq)
			addInit(name+"_b", bq)
			emit("QLayerNorm", name+"_q", []string{names[n.Inputs[0]], name + "_g", name + "_b"}, name,
				onnx.IntAttr("epsilon", int64(math.Round(eps/(resScale*resScale)))), onnx.IntAttr("frac", lnFrac),
				onnx.IntAttr("y_zero_point", int64(y.zp)))
			vals[name], names[name] = y, name
		case n.OpType == "MatMul" && isConst(n.Inputs[1]):
			x, err := need(n, n.Inputs[0], kindU8)
			if err != nil {
				return nil, err
			}
			add := only(n.Outputs[0], "Add")
			if add == nil {
				return nil, fmt.Errorf("quant: %s: a MatMul must be followed by a bias Add", n.Describe())
			}
			v := add.Outputs[0]
			r, err := rangeOf(v)
			if err != nil {
				return nil, err
			}
			maxAbs := math.Max(math.Max(-r.lo, r.hi), 1e-12)
			cons := consumers[v]
			switch {
			case len(cons) == 1 && cons[0].OpType == "Reshape": // attention input
				query, err := headsOf(v)
				if err != nil {
					return nil, err
				}
				kind, y := kindI7, tval{kind: kindI7, scale: maxAbs / kernels.MaxWeight}
				if query {
					kind = kindU8
					if y, err = u8(v); err != nil {
						return nil, err
					}
				}
				if _, err := linear(n, x, kind, y); err != nil {
					return nil, err
				}
				vals[v], names[v] = y, v
			case len(cons) == 2 && (cons[0].OpType == "Div" || cons[1].OpType == "Div"): // GELU
				div := cons[0]
				if div.OpType != "Div" {
					div = cons[1]
				}
				erf := only(div.Outputs[0], "Erf")
				var one, mul, half *onnx.Node
				if erf != nil {
					one = only(erf.Outputs[0], "Add")
				}
				if one != nil {
					mul = only(one.Outputs[0], "Mul")
				}
				if mul != nil {
					half = only(mul.Outputs[0], "Mul")
				}
				if half == nil || mul.Inputs[0] != v && mul.Inputs[1] != v {
					return nil, fmt.Errorf("quant: %s: expected the Erf form of GELU", div.Describe())
				}
				sg := math.Max(maxAbs/(1<<geluBits), 1e-4) // QGelu needs one <= 2^30, clip <= 2^15
				if _, err := linear(n, x, kindRes, tval{kind: kindRes, scale: sg}); err != nil {
					return nil, err
				}
				y, err := u8(half.Outputs[0])
				if err != nil {
					return nil, err
				}
				s1 := sg / math.Sqrt2
				sl := 0.2888 * s1 * s1
				qone := int64(math.Round(1 / sl))
				wshift := int64(max(0, bits.Len64(uint64(2*qone))-15))
				for { // QGelu takes shifts up to 31: drop bits of W instead
					if _, sh := kernels.QuantizeMultiplier(sg * sl * math.Ldexp(1, int(wshift)) / 2 / y.scale); sh <= 31 || wshift >= 31 {
						break
					}
					wshift++
				}
				attrs := append(requant("multiplier", "shift", sg*sl*math.Ldexp(1, int(wshift))/2/y.scale),
					onnx.IntAttr("clip", int64(math.Floor(1.769/s1))), onnx.IntAttr("one", qone), onnx.IntAttr("wshift", wshift),
					onnx.IntAttr("y_zero_point", int64(y.zp)))
				emit("QGelu", half.Outputs[0]+"_q", []string{v}, half.Outputs[0], attrs...)
				done[div], done[erf], done[one], done[mul], done[half] = true, true, true, true, true
				vals[half.Outputs[0]], names[half.Outputs[0]] = y, half.Outputs[0]
			case len(cons) == 1 && cons[0].OpType == "Add": // residual branch
				if _, err := linear(n, x, kindRes, tval{kind: kindRes, scale: resScale}); err != nil {
					return nil, err
				}
				vals[v], names[v] = tval{kind: kindRes, scale: resScale}, v
			default:
				return nil, fmt.Errorf("quant: %s: its output %q has no supported use", n.Describe(), v)
			}
		case n.OpType == "MatMul": // scores = Q·Kᵀ: the whole attention block
			lin := [2]string{linearOf(n.Inputs[0]), linearOf(n.Inputs[1])}
			mul := only(n.Outputs[0], "Mul")
			var sm, ctx, ctxT, merged *onnx.Node
			if mul != nil {
				sm = only(mul.Outputs[0], "Softmax")
			}
			if sm != nil {
				ctx = only(sm.Outputs[0], "MatMul")
			}
			if ctx != nil {
				ctxT = only(ctx.Outputs[0], "Transpose")
			}
			if ctxT != nil {
				merged = only(ctxT.Outputs[0], "Reshape")
			}
			if merged == nil || !isConst(other(mul, n.Outputs[0])) || ctx.Inputs[0] != sm.Outputs[0] {
				return nil, fmt.Errorf("quant: %s: expected MatMul → Mul(scale) → Softmax → MatMul → Transpose → Reshape", n.Describe())
			}
			if a := sm.Attrs["axis"]; a != nil && a.I != -1 && a.I != 3 {
				return nil, fmt.Errorf("quant: %s: Softmax must be over the keys", sm.Describe())
			}
			vlin := linearOf(ctx.Inputs[1])
			qv, err := need(n, lin[0], kindU8)
			if err != nil {
				return nil, err
			}
			kv, err := need(n, lin[1], kindI7)
			if err != nil {
				return nil, err
			}
			vv, err := need(ctx, vlin, kindI7)
			if err != nil {
				return nil, err
			}
			scale := float64(p.Const(other(mul, n.Outputs[0])).Contiguous().F32()[0])
			y, err := u8(merged.Outputs[0])
			if err != nil {
				return nil, err
			}
			attrs := append(requant("score_multiplier", "score_shift", qv.scale*kv.scale*scale/expUnit),
				requant("multiplier", "shift", vv.scale/255/y.scale)...)
			attrs = append(attrs, onnx.IntAttr("heads", int64(heads[lin[0]])), onnx.IntAttr("q_zero_point", int64(qv.zp)),
				onnx.IntAttr("y_zero_point", int64(y.zp)))
			emit("QAttention", merged.Outputs[0]+"_q", []string{lin[0], lin[1], vlin}, merged.Outputs[0], attrs...)
			done[mul], done[sm], done[ctx], done[ctxT], done[merged] = true, true, true, true, true
			vals[merged.Outputs[0]], names[merged.Outputs[0]] = y, merged.Outputs[0]
		case n.OpType == "Add":
			a, err := need(n, n.Inputs[0], kindRes)
			if err != nil {
				return nil, err
			}
			if _, err := need(n, n.Inputs[1], kindRes); err != nil {
				return nil, err
			}
			emit("Add", n.Name, []string{names[n.Inputs[0]], names[n.Inputs[1]]}, n.Outputs[0])
			vals[n.Outputs[0]], names[n.Outputs[0]] = a, n.Outputs[0]
		case n.OpType == "Identity":
			t, ok := vals[n.Inputs[0]]
			if !ok {
				return nil, fmt.Errorf("quant: %s: input %q is not quantized", n.Describe(), n.Inputs[0])
			}
			emit("Identity", n.Name, []string{names[n.Inputs[0]]}, n.Outputs[0])
			vals[n.Outputs[0]], names[n.Outputs[0]] = t, n.Outputs[0]
		default:
			return nil, fmt.Errorf("quant: %s: operator %s is not supported by the transformer quantizer", n.Describe(), n.OpType)
		}
	}
	if len(g.Outputs) != 1 {
		return nil, fmt.Errorf("quant: the model must have one output, has %d", len(g.Outputs))
	}
	yv, ok := vals[g.Outputs[0].Name]
	if !ok || yv.kind != kindU8 {
		return nil, fmt.Errorf("quant: the output %q is not a uint8 value", g.Outputs[0].Name)
	}
	out.Outputs = []onnx.ValueInfo{{Name: g.Outputs[0].Name, ElemType: tensor.Uint8}}
	meta := map[string]string{
		MetaFormat:          FormatInt8Encoder,
		MetaInputScale:      strconv.FormatFloat(inQ.scale, 'g', -1, 64),
		MetaInputZeroPoint:  strconv.Itoa(inQ.zp),
		MetaOutputScale:     strconv.FormatFloat(yv.scale, 'g', -1, 64),
		MetaOutputZeroPoint: strconv.Itoa(yv.zp),
	}
	if source != nil {
		h := sha256.Sum256(source)
		meta[MetaSource] = hex.EncodeToString(h[:])
	}
	return finish(m, out, meta)
}

// weightsInt8 quantizes channels rows of k weights to int8 in [MinWeight,
// MaxWeight], symmetric, per channel (or with one scale when global), and
// returns them, as a tensor of the given shape, with the scales.
func weightsInt8(wrows []float32, channels, k int, global bool, shape ...int) (*tensor.Tensor, []float64) {
	scales := make([]float64, channels)
	all := 0.0
	for c := 0; c < channels; c++ {
		mx := 0.0
		for _, v := range wrows[c*k : (c+1)*k] {
			mx = math.Max(mx, math.Abs(float64(v)))
		}
		scales[c] = mx
		all = math.Max(all, mx)
	}
	for c := range scales {
		if global {
			scales[c] = all
		}
		if scales[c] == 0 {
			scales[c] = 1
		}
		scales[c] /= kernels.MaxWeight
	}
	wq := tensor.MustNew(tensor.Int8, shape...)
	for c := 0; c < channels; c++ {
		for i, v := range wrows[c*k : (c+1)*k] {
			r := math.Round(float64(v) / scales[c])
			wq.I8()[c*k+i] = int8(min(max(r, kernels.MinWeight), kernels.MaxWeight))
		}
	}
	return wq, scales
}

// NormalInputs returns n float32 tensors of the given shape filled with
// unit normal values from math/rand seeded with seed: the fixed
// calibration set of the committed transformer model (seed 1, 8 inputs).
func NormalInputs(seed int64, n int, shape ...int) []*tensor.Tensor {
	r := rand.New(rand.NewSource(seed))
	xs := make([]*tensor.Tensor, n)
	for i := range xs {
		xs[i] = tensor.MustNew(tensor.Float32, shape...)
		for j := range xs[i].F32()[:xs[i].Len()] {
			xs[i].F32()[j] = float32(r.NormFloat64())
		}
	}
	return xs
}
