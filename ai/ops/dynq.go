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
	if err := b.need(3, 3, tensor.Float32); err != nil {
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
	if err := b.Reserve(n*ldk + threads*(ldk+4*n)); err != nil {
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
	out := append(clone(x.Shape[:len(x.Shape)-1]), n)
	b.Out = []Value{{DType: tensor.Float32, Shape: out}}
	xq := make([][]uint8, threads)
	acc := make([][]int32, threads)
	for i := range xq {
		xq[i] = make([]uint8, ldk)
		acc[i] = make([]int32, n)
	}
	var xs, ys []float32
	work := func(w, lo, hi int) {
		q, a := xq[w], acc[w]
		for r := lo; r < hi; r++ {
			row := xs[r*k : (r+1)*k]
			lo, hi := float32(0), float32(0)
			for _, v := range row {
				lo, hi = min(lo, v), max(hi, v)
			}
			scale := (hi - lo) / 255
			if scale == 0 || scale != scale {
				scale = 1
			}
			inv := 1 / scale
			zp := float32(math.Round(float64(-lo * inv)))
			for i, v := range row {
				t := v*inv + zp + 0.5
				q[i] = uint8(min(max(t, 0), 255))
			}
			kernels.GemmU8S8(0, 1, n, ldk, q, ldk, wpack, ldk, a, n)
			izp := int32(zp)
			y := ys[r*n : (r+1)*n]
			for j := range y {
				y[j] = float32(a[j]-izp*wsum[j]) * scale * scales[j]
			}
		}
	}
	b.Run = func(in, o []*tensor.Tensor) {
		xs, ys = in[0].F32(), o[0].F32()
		b.Group.For(rows, 8, work)
	}
	return nil
}
