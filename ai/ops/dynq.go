package ops

import (
	"math"

	"github.com/xairrosx/xairrosx/ai/kernels"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

func init() {
	register(Domain, "DynQMatMul", 1, buildDynQMatMul)
}

// buildDynQMatMul: Y = X·W for float32 X [..., K] and a weight matrix
// stored as int8 W [N, K] (one row per output column, in [-64, 63]) with
// per-column float scales S [N]. Each row of X is quantized to uint8 on
// the fly (asymmetric, from its own min and max), multiplied with the
// u8×s8 kernels, and the int32 sums are scaled back to float32. This is
// dynamic quantization, for speed: unlike QConv/QGemm its results involve
// float arithmetic and are not promised to be bit-identical everywhere.
func buildDynQMatMul(b *Build) error {
	maxIn := 3
	if b.Int("xairrosx.bias", 0) != 0 { // a fused bias (runtime's fusion pass)
		maxIn = 4
	}
	if err := b.need(3, maxIn, tensor.Float32); err != nil {
		return err
	}
	x, wv, sv := b.In[0], b.In[1], b.In[2]
	if len(x.Shape) < 1 || len(wv.Shape) != 2 || x.Shape[len(x.Shape)-1] != wv.Shape[1] {
		return b.Errorf("X %v and W %v (N×K) do not fit", x.Shape, wv.Shape)
	}
	n, k := wv.Shape[0], wv.Shape[1]
	if sv.DType != tensor.Float32 || sv.Const == nil || sv.Const.Len() != n {
		return b.Errorf("scales must be a constant float32 tensor of %d values", n)
	}
	rows := tensor.NumElements(x.Shape[:len(x.Shape)-1])
	ldk := kernels.PadK(k)
	threads := 1
	if b.Group != nil {
		threads = max(1, b.Group.Threads)
	}
	if err := b.Reserve(2*n*ldk + threads*16*(ldk+4*n+8+4*ldk)); err != nil {
		return err
	}
	if err := b.Work(int64(rows) * int64(n) * int64(ldk)); err != nil {
		return err
	}
	wpack, wsum, err := int8Weights(b, wv, n, k)
	if err != nil {
		return err
	}
	scales := sv.Const.Contiguous().F32()[:n]
	var bias []float32
	if b.Has(3) {
		if b.In[3].Const == nil || tensor.NumElements(b.In[3].Shape) != n {
			return b.Errorf("fused bias must be a constant of %d values", n)
		}
		bias = b.In[3].Const.Contiguous().F32()[:n]
	}
	out := append(clone(x.Shape[:len(x.Shape)-1]), n)
	b.Out = []Value{{DType: tensor.Float32, Shape: out}}
	const block = 16 // rows quantized and multiplied together
	xq := make([][]uint8, threads)
	acc := make([][]int32, threads)
	rowScale := make([][]float32, threads)
	rowZP := make([][]int32, threads)
	for i := range xq {
		xq[i] = make([]uint8, block*ldk)
		acc[i] = make([]int32, block*n)
		rowScale[i] = make([]float32, block)
		rowZP[i] = make([]int32, block)
	}
	panel := make([]int8, kernels.PackedLen8(ldk, n))
	kernels.PackB8(panel, wpack, ldk, ldk, n)
	gs := newScratch8(b, ldk)
	var xs, ys []float32
	work := func(w, lo, hi int) {
		for r0 := lo; r0 < hi; r0 += block {
			nr := min(block, hi-r0)
			for r := 0; r < nr; r++ {
				row := xs[(r0+r)*k : (r0+r+1)*k]
				lo, hi := float32(0), float32(0)
				for _, v := range row {
					if v < lo {
						lo = v
					}
					if v > hi {
						hi = v
					}
				}
				scale := (hi - lo) / 255
				if !(scale > 0) || scale > math.MaxFloat32 {
					scale = 1
				}
				inv := 1 / scale
				zp := float32(math.Round(float64(-lo * inv)))
				quantizeRow(xq[w][r*ldk:r*ldk+k], row, inv, zp+0.5)
				rowScale[w][r], rowZP[w][r] = scale, int32(zp)
			}
			a := acc[w]
			kernels.GemmU8S8Packed(0, nr, n, ldk, xq[w], ldk, panel, a, n, gs[w])
			for r := 0; r < nr; r++ {
				dequantRow(ys[(r0+r)*n:(r0+r+1)*n], a[r*n:(r+1)*n], wsum, scales, bias, rowScale[w][r], rowZP[w][r])
			}
		}
	}
	b.Run = func(in, o []*tensor.Tensor) {
		xs, ys = in[0].F32(), o[0].F32()
		b.Group.For(rows, 8, work)
	}
	return nil
}

// quantizeRow sets q[i] = clamp(x[i]·inv + off, 0, 255) truncated, where
// off includes the zero point and 0.5 for rounding.
func quantizeRow(q []uint8, x []float32, inv, off float32) {
	q = q[:len(x)]
	for i, v := range x {
		t := v*inv + off
		switch {
		case t <= 0:
			q[i] = 0
		case t >= 255:
			q[i] = 255
		default:
			q[i] = uint8(t)
		}
	}
}

// dequantRow sets y[j] = (acc[j] - zp·wsum[j]) · scale · scales[j]
// (+ bias[j] when bias is not nil).
func dequantRow(y []float32, acc, wsum []int32, scales, bias []float32, scale float32, zp int32) {
	acc, wsum, scales = acc[:len(y)], wsum[:len(y)], scales[:len(y)]
	if bias != nil {
		bias = bias[:len(y)]
		for j := range y {
			y[j] = float32(acc[j]-zp*wsum[j])*scale*scales[j] + bias[j]
		}
		return
	}
	for j := range y {
		y[j] = float32(acc[j]-zp*wsum[j]) * scale * scales[j]
	}
}
