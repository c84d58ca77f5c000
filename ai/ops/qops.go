package ops

import (
	"github.com/xairrosx/xairrosx/ai/kernels"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// Domain is the operator domain of the engine's integer-only operators.
const Domain = "ai.xairrosx"

func init() {
	register(Domain, "QConv", 1, buildQConv)
	register(Domain, "QGemm", 1, buildQGemm)
}

// qparams are the requantization attributes shared by QConv and QGemm.
type qparams struct {
	xzp        int32
	mult       []int32
	shift      []int
	yzp        int32
	relu       bool
	out32      bool // int32 accumulators out, no requantization
	scaled     bool // int32 out, requantized without clamping ("int32s")
	int7       bool // int8 out in [-64, 63], zero point 0 ("int7")
	perChannel bool
}

func readQParams(b *Build, channels int) (*qparams, error) {
	o := b.String("output", "uint8")
	q := &qparams{xzp: int32(b.Int("x_zero_point", 0)), yzp: int32(b.Int("y_zero_point", 0)),
		relu: b.Int("relu", 0) != 0, out32: o == "int32", scaled: o == "int32s", int7: o == "int7"}
	if o != "uint8" && o != "int32" && o != "int32s" && o != "int7" {
		return nil, b.Errorf("output %q must be uint8, int32, int32s or int7", o)
	}
	if (q.scaled || q.int7) && (q.yzp != 0 || q.relu) {
		return nil, b.Errorf("output %q takes no y_zero_point and no relu", o)
	}
	if q.xzp < 0 || q.xzp > 255 || q.yzp < 0 || q.yzp > 255 {
		return nil, b.Errorf("zero points must be in [0, 255]")
	}
	if q.out32 {
		return q, nil
	}
	mult, shift := b.Ints("multiplier", nil), b.Ints("shift", nil)
	if len(mult) != len(shift) || (len(mult) != 1 && len(mult) != channels) {
		return nil, b.Errorf("multiplier (%d) and shift (%d) need 1 or %d values", len(mult), len(shift), channels)
	}
	for i := range mult {
		if mult[i] <= 0 || mult[i] >= 1<<31 || shift[i] < -30 || shift[i] > 31 {
			return nil, b.Errorf("requantization %d: multiplier %d / shift %d out of range", i, mult[i], shift[i])
		}
		q.mult = append(q.mult, int32(mult[i]))
		q.shift = append(q.shift, shift[i])
	}
	q.perChannel = len(mult) > 1
	return q, nil
}

// channel returns the multiplier, shift and lower clamp of channel ch.
func (q *qparams) channel(ch int) (int32, int, int32) {
	i := 0
	if q.perChannel {
		i = ch
	}
	lo := int32(0)
	if q.relu {
		lo = q.yzp
	}
	return q.mult[i], q.shift[i], lo
}

// dtype returns the output element type.
func (q *qparams) dtype() tensor.DType {
	switch {
	case q.out32 || q.scaled:
		return tensor.Int32
	case q.int7:
		return tensor.Int8
	}
	return tensor.Uint8
}

// requant converts one accumulator of channel ch to uint8.
func (q *qparams) requant(acc int32, ch int) uint8 {
	i := 0
	if q.perChannel {
		i = ch
	}
	v := kernels.Requantize(acc, q.mult[i], q.shift[i]) + q.yzp
	lo := int32(0)
	if q.relu {
		lo = q.yzp
	}
	return uint8(min(max(v, lo), 255))
}

// int8Weights checks that W is int8 within the kernels' exact range and
// packs its rows (one per output channel, k values each) padded to KAlign.
func int8Weights(b *Build, w Value, rows, k int) ([]int8, []int32, error) {
	if w.DType != tensor.Int8 || w.Const == nil {
		return nil, nil, b.Errorf("weights must be a constant int8 tensor, are %v", w.DType)
	}
	src := w.Const.Contiguous().I8()[:rows*k]
	ldk := kernels.PadK(k)
	packed := make([]int8, rows*ldk)
	sums := make([]int32, rows)
	for r := 0; r < rows; r++ {
		for i, v := range src[r*k : (r+1)*k] {
			if v < kernels.MinWeight || v > kernels.MaxWeight {
				return nil, nil, b.Errorf("weight %d of row %d is %d, outside [%d, %d]", i, r, v, kernels.MinWeight, kernels.MaxWeight)
			}
			packed[r*ldk+i] = v
			sums[r] += int32(v)
		}
	}
	return packed, sums, nil
}

func int32Bias(b *Build, i, n int, wsum []int32, xzp int32) ([]int32, error) {
	bias := make([]int32, n)
	if b.Has(i) {
		v := b.In[i]
		if v.DType != tensor.Int32 || v.Const == nil || tensor.NumElements(v.Shape) != n {
			return nil, b.Errorf("bias must be a constant int32 tensor of %d values, is %v%v", n, v.DType, v.Shape)
		}
		copy(bias, v.Const.Contiguous().I32()[:n])
	}
	for j := range bias { // fold the input zero point: Σ(x-zp)w = Σxw - zp·Σw
		bias[j] -= xzp * wsum[j]
	}
	return bias, nil
}

// buildQConv: uint8 NCHW input, int8 weights [M, C/group, kh, kw] in
// [-64, 63], int32 bias; output uint8 requantized per channel (or int32
// accumulators with output="int32").
func buildQConv(b *Build) error {
	if err := b.need(2, 3, tensor.Uint8); err != nil {
		return err
	}
	x, wv := b.In[0], b.In[1]
	if len(x.Shape) != 4 || len(wv.Shape) != 4 {
		return b.Errorf("only 2-D convolution: input %v, weight %v", x.Shape, wv.Shape)
	}
	win, err := newWindow(b, x.Shape[2:], wv.Shape[2:], false)
	if err != nil {
		return err
	}
	n, c, m := x.Shape[0], x.Shape[1], wv.Shape[0]
	g := int(b.Int("group", 1))
	if g < 1 || c%g != 0 || m%g != 0 || wv.Shape[1] != c/g {
		return b.Errorf("group %d does not fit %d input and %d output channels", g, c, m)
	}
	q, err := readQParams(b, m)
	if err != nil {
		return err
	}
	if q.scaled || q.int7 {
		return b.Errorf("output %q is for QGemm only", b.String("output", ""))
	}
	cg, mg := c/g, m/g
	kh, kw := win.k[0], win.k[1]
	ih, iw, oh, ow := win.in[0], win.in[1], win.out[0], win.out[1]
	kc := cg * kh * kw
	ldk := kernels.PadK(kc)
	p := oh * ow
	threads := 1
	if b.Group != nil {
		threads = max(1, b.Group.Threads)
	}
	if err := b.Reserve(threads*(p*ldk+4*p*mg+4*ldk) + 2*m*ldk + 4*p*kc); err != nil {
		return err
	}
	if err := b.Work(int64(n) * int64(m) * int64(p) * int64(ldk)); err != nil {
		return err
	}
	wpack, wsum, err := int8Weights(b, wv, m, kc)
	if err != nil {
		return err
	}
	var geo *nhwc
	var padded [][]uint8
	if g == 1 && win.d[0] == 1 && win.d[1] == 1 {
		geo = win.nhwc(c)
		tmp := make([]int8, kc)
		for r := 0; r < m; r++ {
			repack(tmp, wpack[r*ldk:r*ldk+kc], c, kh, kw)
			copy(wpack[r*ldk:], tmp)
		}
		if err := b.Reserve(threads * geo.paddedLen()); err != nil {
			return err
		}
		padded = make([][]uint8, threads)
		for i := range padded {
			padded[i] = make([]uint8, geo.paddedLen())
			for j := range padded[i] {
				padded[i][j] = uint8(q.xzp)
			}
		}
	}
	bias, err := int32Bias(b, 2, m, wsum, q.xzp)
	if err != nil {
		return err
	}
	plen := kernels.PackedLen8(ldk, mg)
	panels := make([]int8, g*plen)
	for gi := 0; gi < g; gi++ {
		kernels.PackB8(panels[gi*plen:], wpack[gi*mg*ldk:], ldk, ldk, mg)
	}
	gs := newScratch8(b, ldk)
	outT := tensor.Uint8
	if q.out32 {
		outT = tensor.Int32
	}
	b.Out = []Value{{DType: outT, Shape: []int{n, m, oh, ow}}}
	cols := make([][]uint8, threads)
	accs := make([][]int32, threads)
	for i := range cols {
		cols[i] = make([]uint8, p*ldk)
		accs[i] = make([]int32, p*mg)
	}
	pad := uint8(q.xzp)
	table := win.patchTable(cg)
	var xs []uint8
	var y8 []uint8
	var y32 []int32
	work := func(w, lo, hi int) {
		col, acc := cols[w], accs[w]
		for item := lo; item < hi; item++ {
			img, gi := item/g, item%g
			src := xs[(img*c+gi*cg)*ih*iw:]
			if geo != nil {
				gatherNHWC(geo, src, padded[w], col, ldk)
			} else {
				gather(table, src, col, ldk, pad)
			}
			kernels.GemmU8S8Packed(0, p, mg, ldk, col, ldk, panels[gi*plen:], acc, mg, gs[w])
			base := (img*m + gi*mg) * p
			for j := 0; j < mg; j++ {
				ch := gi*mg + j
				bj := bias[ch]
				if q.out32 {
					for pp := 0; pp < p; pp++ {
						y32[base+j*p+pp] = acc[pp*mg+j] + bj
					}
					continue
				}
				mult, shift, lo := q.channel(ch)
				dst := y8[base+j*p : base+(j+1)*p]
				reluZero := q.relu && q.yzp == 0
				for pp := range dst {
					a := acc[pp*mg+j] + bj
					if reluZero && a <= 0 { // requantizes to <= 0, clamped to 0
						dst[pp] = 0
						continue
					}
					v := kernels.Requantize(a, mult, shift) + q.yzp
					dst[pp] = uint8(min(max(v, lo), 255))
				}
			}
		}
	}
	b.Run = func(in, out []*tensor.Tensor) {
		xs = in[0].U8()
		if q.out32 {
			y32 = out[0].I32()
		} else {
			y8 = out[0].U8()
		}
		b.Group.For(n*g, 1, work)
	}
	return nil
}

// buildQGemm: Y = X·Wᵀ + B with uint8 X [..., M, K] (leading axes are
// flattened into rows), int8 W [N, K] (already transposed, in [-64, 63])
// and int32 B [N]. The output, [..., M, N], is by the output attribute:
// "uint8" requantized per column (default), "int32" raw accumulators,
// "int32s" requantized per column into int32 without clamping, or "int7"
// requantized per column into int8 clamped to [-64, 63] (zero point 0).
// Requantization is kernels.RequantRow: the rounded value is taken modulo
// 2^32 before the zero point is added and the result clamped.
func buildQGemm(b *Build) error {
	if err := b.need(2, 3, tensor.Uint8); err != nil {
		return err
	}
	x, wv := b.In[0], b.In[1]
	if len(x.Shape) < 2 || len(wv.Shape) != 2 || x.Shape[len(x.Shape)-1] != wv.Shape[1] {
		return b.Errorf("X %v and W %v (N×K) do not fit", x.Shape, wv.Shape)
	}
	k, n := wv.Shape[1], wv.Shape[0]
	m := tensor.NumElements(x.Shape) / max(1, k)
	q, err := readQParams(b, n)
	if err != nil {
		return err
	}
	ldk := kernels.PadK(k)
	if err := b.Reserve(m*ldk + 4*m*n + 2*n*ldk); err != nil {
		return err
	}
	if err := b.Work(int64(m) * int64(n) * int64(ldk)); err != nil {
		return err
	}
	wpack, wsum, err := int8Weights(b, wv, n, k)
	if err != nil {
		return err
	}
	bias, err := int32Bias(b, 2, n, wsum, q.xzp)
	if err != nil {
		return err
	}
	outShape := append(clone(x.Shape[:len(x.Shape)-1]), n)
	b.Out = []Value{{DType: q.dtype(), Shape: outShape}}
	xpad := make([]uint8, m*ldk)
	acc := make([]int32, m*n)
	panel := make([]int8, kernels.PackedLen8(ldk, n))
	kernels.PackB8(panel, wpack, ldk, ldk, n)
	gs := newScratch8(b, ldk)
	// per-column requantization (kernels.RequantRow) and the clamp of the
	// output type
	var tab *kernels.RequantTable
	zp, lo, hi := q.yzp, int32(0), int32(255)
	switch {
	case q.out32:
	case q.scaled:
		lo, hi = -1<<31, 1<<31-1
	case q.int7:
		lo, hi = kernels.MinWeight, kernels.MaxWeight
	default:
		_, _, lo = q.channel(0)
	}
	if !q.out32 {
		mults, shifts := make([]int32, n), make([]int, n)
		for j := range mults {
			mults[j], shifts[j], _ = q.channel(j)
		}
		tab = kernels.NewRequantTable(mults, shifts)
	}
	var y8 []uint8
	var y32 []int32
	var y7 []int8
	rows := func(w, lo2, hi2 int) {
		kernels.GemmU8S8Packed(lo2, hi2, n, ldk, xpad, ldk, panel, acc, n, gs[w])
		bias := bias[:n]
		for i := lo2; i < hi2; i++ {
			ar := acc[i*n : (i+1)*n]
			switch {
			case q.out32:
				out := y32[i*n : (i+1)*n]
				for j, a := range ar {
					out[j] = a + bias[j]
				}
			case q.scaled:
				kernels.RequantRow(y32[i*n:(i+1)*n], ar, bias, tab, zp, lo, hi)
			case q.int7:
				kernels.RequantRow(ar, ar, bias, tab, zp, lo, hi)
				out := y7[i*n : (i+1)*n]
				for j, v := range ar {
					out[j] = int8(v)
				}
			default:
				kernels.RequantRow(ar, ar, bias, tab, zp, lo, hi)
				out := y8[i*n : (i+1)*n]
				for j, v := range ar {
					out[j] = uint8(v)
				}
			}
		}
	}
	b.Run = func(in, out []*tensor.Tensor) {
		xs := in[0].U8()
		for i := 0; i < m; i++ {
			copy(xpad[i*ldk:i*ldk+k], xs[i*k:(i+1)*k])
		}
		switch q.dtype() {
		case tensor.Int32:
			y32 = out[0].I32()
		case tensor.Int8:
			y7 = out[0].I8()
		default:
			y8 = out[0].U8()
		}
		b.Group.For(m, 4, rows)
	}
	return nil
}

// newScratch8 returns one int8 GEMM scratch per worker of the build's group.
func newScratch8(b *Build, k int) []*kernels.Gemm8Scratch {
	return perWorker(b, func() *kernels.Gemm8Scratch { return kernels.NewGemm8Scratch(k) })
}
