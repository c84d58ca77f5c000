package ops

import (
	"math"

	"github.com/xairrosx/xairrosx/ai/kernels"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

func init() {
	for _, op := range []string{"Relu", "Erf", "Tanh", "Sigmoid", "Exp", "Sqrt", "Neg", "Abs", "Identity", "Log", "Reciprocal"} {
		op := op
		register("", op, 1, func(b *Build) error { return buildUnary(b, op) })
	}
	register("", "Gelu", 20, func(b *Build) error { return buildUnary(b, "Gelu/"+b.String("approximate", "none")) })
	register(Domain, "Gelu", 1, buildFusedGelu)
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		op := op
		register("", op, 1, func(b *Build) error { return buildBinary(b, op) })
	}
}

func unaryF32(op string) func(float32) float32 {
	switch op {
	case "Relu":
		return func(x float32) float32 {
			if x > 0 {
				return x
			}
			return 0
		}
	case "Erf":
		return kernels.Erf32
	case "Tanh":
		return func(x float32) float32 { return float32(math.Tanh(float64(x))) }
	case "Sigmoid":
		return func(x float32) float32 { return 1 / (1 + kernels.Exp32(-x)) }
	case "Exp":
		return kernels.Exp32
	case "Log":
		return func(x float32) float32 { return float32(math.Log(float64(x))) }
	case "Sqrt":
		return func(x float32) float32 { return float32(math.Sqrt(float64(x))) }
	case "Reciprocal":
		return func(x float32) float32 { return 1 / x }
	case "Neg":
		return func(x float32) float32 { return -x }
	case "Abs":
		return func(x float32) float32 { return float32(math.Abs(float64(x))) }
	case "Identity":
		return func(x float32) float32 { return x }
	case "Gelu/none":
		return func(x float32) float32 { return 0.5 * x * (1 + kernels.Erf32(x*(1/math.Sqrt2))) }
	case "Gelu/tanh":
		return func(x float32) float32 {
			v := float64(x)
			return float32(0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v))))
		}
	}
	return nil
}

func buildUnary(b *Build, op string) error {
	if err := b.need(1, 1); err != nil {
		return err
	}
	in := b.In[0]
	b.Out = []Value{{DType: in.DType, Shape: clone(in.Shape)}}
	n := tensor.NumElements(in.Shape)
	if op == "Identity" {
		sz := in.DType.Size()
		b.Run = func(in, out []*tensor.Tensor) { copy(out[0].Raw()[:n*sz], in[0].Bytes()) }
		return nil
	}
	if in.DType == tensor.Float32 {
		f := unaryF32(op)
		if f == nil {
			return b.Errorf("unsupported variant %s", op)
		}
		switch op { // hot paths: no indirect call per element
		case "Erf", "Exp":
			vec := kernels.ErfF32
			if op == "Exp" {
				vec = kernels.ExpF32
			}
			var xs, ys []float32
			part := func(_, lo, hi int) { vec(ys[lo:hi], xs[lo:hi]) }
			b.Run = func(in, out []*tensor.Tensor) {
				xs, ys = in[0].F32()[:n], out[0].F32()[:n]
				b.Group.For(n, 16384, part)
			}
			return nil
		}
		if op == "Relu" { // hot path: keep it free of indirect calls
			b.Run = func(in, out []*tensor.Tensor) {
				x, y := in[0].F32()[:n], out[0].F32()[:n]
				for i, v := range x {
					if v < 0 {
						v = 0
					}
					y[i] = v
				}
			}
			return nil
		}
		b.Run = func(in, out []*tensor.Tensor) {
			x, y := in[0].F32()[:n], out[0].F32()[:n]
			for i, v := range x {
				y[i] = f(v)
			}
		}
		return nil
	}
	switch {
	case op == "Relu" && in.DType == tensor.Int32:
		b.Run = func(in, out []*tensor.Tensor) { intUnary(in[0].I32()[:n], out[0].I32()[:n], op) }
	case op == "Relu" && in.DType == tensor.Int8:
		b.Run = func(in, out []*tensor.Tensor) { intUnary(in[0].I8()[:n], out[0].I8()[:n], op) }
	case (op == "Neg" || op == "Abs") && in.DType == tensor.Int32:
		b.Run = func(in, out []*tensor.Tensor) { intUnary(in[0].I32()[:n], out[0].I32()[:n], op) }
	case (op == "Neg" || op == "Abs") && in.DType == tensor.Int64:
		b.Run = func(in, out []*tensor.Tensor) { intUnary(in[0].I64()[:n], out[0].I64()[:n], op) }
	case (op == "Neg" || op == "Abs") && in.DType == tensor.Int8:
		b.Run = func(in, out []*tensor.Tensor) { intUnary(in[0].I8()[:n], out[0].I8()[:n], op) }
	default:
		return b.Errorf("input type %v is not supported", in.DType)
	}
	return nil
}

type signed interface{ ~int8 | ~int32 | ~int64 }

func intUnary[T signed](x, y []T, op string) {
	for i, v := range x {
		switch op {
		case "Relu":
			if v < 0 {
				v = 0
			}
		case "Neg":
			v = -v
		case "Abs":
			if v < 0 {
				v = -v
			}
		}
		y[i] = v
	}
}

// BroadcastShape returns the numpy-style broadcast of two shapes.
func BroadcastShape(a, b []int) ([]int, bool) {
	n := max(len(a), len(b))
	r := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			r[i] = da
		case da == 1:
			r[i] = db
		case db == 1:
			r[i] = da
		default:
			return nil, false
		}
	}
	return r, true
}

// bstrides returns the element strides of shape broadcast to out (0 on
// broadcast axes).
func bstrides(shape, out []int) []int {
	s := make([]int, len(out))
	cs := tensor.ContiguousStrides(shape)
	for i := range out {
		j := len(shape) - len(out) + i
		if j >= 0 && shape[j] != 1 {
			s[i] = cs[j]
		}
	}
	return s
}

// bcast is a precomputed broadcast iteration: the outer index space over all
// but the last axis, and the inner run along the last axis.
type bcast struct {
	out        []int
	sa, sb     []int
	inner      int
	ia, ib     int // inner strides
	outerCount int
	flat       bool // same shapes: one flat loop
}

func newBcast(a, b, out []int) *bcast {
	bc := &bcast{out: out, sa: bstrides(a, out), sb: bstrides(b, out)}
	if tensor.SameShape(a, b) {
		bc.flat = true
		bc.inner = tensor.NumElements(out)
		bc.ia, bc.ib, bc.outerCount = 1, 1, 1
		return bc
	}
	if len(out) == 0 {
		bc.inner, bc.outerCount = 1, 1
		return bc
	}
	bc.inner = out[len(out)-1]
	bc.ia, bc.ib = bc.sa[len(out)-1], bc.sb[len(out)-1]
	bc.outerCount = tensor.NumElements(out[:len(out)-1])
	return bc
}

// offsets returns the a and b offsets of outer row r.
func (bc *bcast) offsets(r int) (int, int) {
	if bc.flat {
		return 0, 0
	}
	oa, ob := 0, 0
	for d := len(bc.out) - 2; d >= 0; d-- {
		i := r % bc.out[d]
		r /= bc.out[d]
		oa += i * bc.sa[d]
		ob += i * bc.sb[d]
	}
	return oa, ob
}

type number interface {
	~float32 | ~int8 | ~uint8 | ~int32 | ~int64
}

func binLoop[T number](bc *bcast, op byte, x, y, z []T) { binRows(bc, op, x, y, z, 0, bc.outerCount) }

// binRows computes outer rows [r0, r1).
func binRows[T number](bc *bcast, op byte, x, y, z []T, r0, r1 int) {
	for r := r0; r < r1; r++ {
		oa, ob := bc.offsets(r)
		zr := z[r*bc.inner : (r+1)*bc.inner]
		n := len(zr)
		switch {
		case bc.ia == 1 && bc.ib == 1:
			binSame(op, x[oa:oa+n], y[ob:ob+n], zr)
		case bc.ia == 1 && bc.ib == 0:
			binScalarRight(op, x[oa:oa+n], y[ob], zr)
		default:
			binStrided(op, x, y, zr, oa, ob, bc.ia, bc.ib)
		}
	}
}

func binSame[T number](op byte, x, y, z []T) {
	x, y = x[:len(z)], y[:len(z)]
	switch op {
	case '+':
		for i := range z {
			z[i] = x[i] + y[i]
		}
	case '-':
		for i := range z {
			z[i] = x[i] - y[i]
		}
	case '*':
		for i := range z {
			z[i] = x[i] * y[i]
		}
	default:
		binStrided(op, x, y, z, 0, 0, 1, 1)
	}
}

func binScalarRight[T number](op byte, x []T, v T, z []T) {
	x = x[:len(z)]
	switch op {
	case '+':
		for i := range z {
			z[i] = x[i] + v
		}
	case '-':
		for i := range z {
			z[i] = x[i] - v
		}
	case '*':
		for i := range z {
			z[i] = x[i] * v
		}
	default:
		if v != 0 || !isInt[T]() {
			for i := range z {
				z[i] = x[i] / v
			}
			return
		}
		clear(z) // integer division by zero: defined as 0 instead of a panic
	}
}

func binStrided[T number](op byte, x, y, zr []T, oa, ob, ia, ib int) {
	switch op {
	case '+':
		for i := range zr {
			zr[i] = x[oa+i*ia] + y[ob+i*ib]
		}
	case '-':
		for i := range zr {
			zr[i] = x[oa+i*ia] - y[ob+i*ib]
		}
	case '*':
		for i := range zr {
			zr[i] = x[oa+i*ia] * y[ob+i*ib]
		}
	case '/':
		for i := range zr {
			d := y[ob+i*ib]
			if d == 0 && isInt[T]() {
				zr[i] = 0 // integer division by zero: defined as 0 instead of a panic
				continue
			}
			zr[i] = x[oa+i*ia] / d
		}
	}
}

func isInt[T number]() bool {
	var one T = 1
	return one/2 == 0
}

func buildBinary(b *Build, op string) error {
	if err := b.need(2, 2, tensor.Float32, tensor.Int32, tensor.Int64, tensor.Uint8, tensor.Int8); err != nil {
		return err
	}
	x, y := b.In[0], b.In[1]
	if x.DType != y.DType {
		return b.Errorf("input types differ: %v and %v", x.DType, y.DType)
	}
	if b.Opset < 7 && b.Int("broadcast", 0) != 0 {
		return b.Errorf("legacy broadcast attribute (opset < 7) is not supported")
	}
	out, ok := BroadcastShape(x.Shape, y.Shape)
	if !ok {
		return b.Errorf("shapes %v and %v do not broadcast", x.Shape, y.Shape)
	}
	b.Out = []Value{{DType: x.DType, Shape: out}}
	bc := newBcast(x.Shape, y.Shape, out)
	sym := map[string]byte{"Add": '+', "Sub": '-', "Mul": '*', "Div": '/'}[op]
	switch x.DType {
	case tensor.Float32:
		// Large float32 operations are split across the group's workers:
		// equal shapes by element ranges, broadcasts by outer rows.
		var xs, ys, zs []float32
		total := tensor.NumElements(out)
		flat := func(_, lo, hi int) { binSame(sym, xs[lo:hi], ys[lo:hi], zs[lo:hi]) }
		rows := func(_, lo, hi int) { binRows(bc, sym, xs, ys, zs, lo, hi) }
		b.Run = func(in, o []*tensor.Tensor) {
			xs, ys, zs = in[0].F32(), in[1].F32(), o[0].F32()
			switch {
			case bc.flat && sym != '/':
				b.Group.For(total, 16384, flat)
			case !bc.flat:
				b.Group.For(bc.outerCount, max(1, 16384/max(1, bc.inner)), rows)
			default:
				binLoop(bc, sym, xs, ys, zs)
			}
		}
	case tensor.Int32:
		b.Run = func(in, o []*tensor.Tensor) { binLoop(bc, sym, in[0].I32(), in[1].I32(), o[0].I32()) }
	case tensor.Int64:
		b.Run = func(in, o []*tensor.Tensor) { binLoop(bc, sym, in[0].I64(), in[1].I64(), o[0].I64()) }
	case tensor.Uint8:
		b.Run = func(in, o []*tensor.Tensor) { binLoop(bc, sym, in[0].U8(), in[1].U8(), o[0].U8()) }
	case tensor.Int8:
		b.Run = func(in, o []*tensor.Tensor) { binLoop(bc, sym, in[0].I8(), in[1].I8(), o[0].I8()) }
	}
	return nil
}

// buildFusedGelu is the exact GELU, 0.5·x·(1 + erf(x/√2)), that the
// runtime's fusion pass substitutes for its five-node Erf form; it runs in
// chunks that stay in cache, with the vector erf.
func buildFusedGelu(b *Build) error {
	if err := b.need(1, 1, tensor.Float32); err != nil {
		return err
	}
	n := tensor.NumElements(b.In[0].Shape)
	b.Out = []Value{{DType: tensor.Float32, Shape: clone(b.In[0].Shape)}}
	var xs, ys []float32
	part := func(_, lo, hi int) {
		for c := lo; c < hi; c += 1024 {
			e := min(hi, c+1024)
			x, y := xs[c:e], ys[c:e]
			for i, v := range x {
				y[i] = v * (1 / math.Sqrt2)
			}
			kernels.ErfF32(y, y)
			for i, v := range x {
				y[i] = (v * (1 + y[i])) * 0.5
			}
		}
	}
	b.Run = func(in, out []*tensor.Tensor) {
		xs, ys = in[0].F32()[:n], out[0].F32()[:n]
		b.Group.For(n, 16384, part)
	}
	return nil
}
