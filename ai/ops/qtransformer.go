package ops

import (
	"github.com/xairrosx/xairrosx/ai/kernels"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

// Integer-only transformer operators (I-BERT, Kim et al. 2021). Every one
// computes with integers only, so its outputs are the same bytes on every
// machine, kernel and thread count:
//
//   - QRescale: uint8 → int32, y = round((x − zp)·M/2^(31+S)), the entry into
//     the int32 residual stream;
//   - QLayerNorm: int32 → uint8 with an integer mean, an exact integer
//     square root (Newton) and rounded integer division;
//   - QGelu: int32 → uint8 with I-BERT's i-GELU (second-order polynomial
//     erf);
//   - QAttention: multi-head self-attention on uint8 queries and 7-bit
//     keys and values, with I-BERT's i-exp Softmax.

func init() {
	register(Domain, "QRescale", 1, buildQRescale)
	register(Domain, "QLayerNorm", 1, buildQLayerNorm)
	register(Domain, "QGelu", 1, buildQGelu)
	register(Domain, "QAttention", 1, buildQAttention)
}

// requantAttrs reads one multiplier/shift pair.
func requantAttrs(b *Build, mName, sName string) (int32, int, error) {
	m, s := b.Int(mName, 0), b.Int(sName, 0)
	if m <= 0 || m >= 1<<31 || s < -30 || s > 90 {
		return 0, 0, b.Errorf("%s %d / %s %d out of range", mName, m, sName, s)
	}
	return int32(m), int(s), nil
}

// buildQRescale: y (int32) = Requantize(x − x_zero_point, multiplier, shift)
// for a uint8 x.
func buildQRescale(b *Build) error {
	if err := b.need(1, 1, tensor.Uint8); err != nil {
		return err
	}
	zp := int32(b.Int("x_zero_point", 0))
	if zp < 0 || zp > 255 {
		return b.Errorf("x_zero_point %d outside [0, 255]", zp)
	}
	mult, shift, err := requantAttrs(b, "multiplier", "shift")
	if err != nil || shift > 31 {
		return b.Errorf("multiplier/shift out of range")
	}
	b.Out = []Value{{DType: tensor.Int32, Shape: clone(b.In[0].Shape)}}
	n := tensor.NumElements(b.In[0].Shape)
	b.Run = func(in, out []*tensor.Tensor) {
		x, y := in[0].U8()[:n], out[0].I32()[:n]
		for i, v := range x {
			y[i] = kernels.Requantize(int32(v)-zp, mult, shift)
		}
	}
	return nil
}

// buildQLayerNorm normalizes the last axis (C values) of an int32 x:
//
//	μ = round(Σx / C), d = x − μ, r = isqrt(C·Σd² + C²·epsilon)   (= C·σ)
//	R = round(2^48 / r), u = round(d·R / 2^24)                    (≈ d/r·2^24)
//	y = clamp(y_zero_point + B[c] + round(u·C·G[c] / 2^(24+frac)), 0, 255)
//
// with int32 G (γ/s_y·2^frac) and B (β/s_y) and int64 intermediates (one
// division per row); the input scale cancels out, except in epsilon
// (given in squared input units). Inputs are clamped to ±2^20; with
// C <= 1024, |G| <= 2^24 and epsilon <= 2^30 nothing overflows.
func buildQLayerNorm(b *Build) error {
	if err := b.need(3, 3, tensor.Int32); err != nil {
		return err
	}
	x := b.In[0]
	if len(x.Shape) < 1 {
		return b.Errorf("input must have at least one axis")
	}
	c := x.Shape[len(x.Shape)-1]
	var g, bb []int32
	for i, dst := range []*[]int32{&g, &bb} {
		v := b.In[1+i]
		if v.DType != tensor.Int32 || v.Const == nil || tensor.NumElements(v.Shape) != c {
			return b.Errorf("input %d must be a constant int32 tensor of %d values, is %v%v", 1+i, c, v.DType, v.Shape)
		}
		*dst = v.Const.Contiguous().I32()[:c]
	}
	eps := b.Int("epsilon", 0)
	frac := b.Int("frac", 16)
	zp := int64(b.Int("y_zero_point", 0))
	if eps < 0 || eps > 1<<30 || frac < 0 || frac > 24 || zp < 0 || zp > 255 || c < 1 || c > 1024 {
		return b.Errorf("epsilon %d, frac %d, y_zero_point %d or width %d out of range", eps, frac, zp, c)
	}
	for i := range g {
		if g[i] < -1<<24 || g[i] > 1<<24 {
			return b.Errorf("scale G[%d] = %d outside ±2^24", i, g[i])
		}
	}
	b.Out = []Value{{DType: tensor.Uint8, Shape: clone(x.Shape)}}
	rows := tensor.NumElements(x.Shape) / c
	cc := int64(c)
	shiftY := uint(24 + frac)
	var xs []int32
	var ys []uint8
	run := func(_, lo, hi int) {
		for r := lo; r < hi; r++ {
			row, out := xs[r*c:(r+1)*c], ys[r*c:(r+1)*c]
			var sum, sq int64
			for _, v := range row {
				x := min(max(int64(v), -1<<20), 1<<20)
				sum += x
				sq += x * x
			}
			mu := kernels.DivRound(sum, cc)
			ss := uint64(sq - 2*mu*sum + cc*mu*mu) // = Σ(x−μ)², exactly
			rr := int64(kernels.Isqrt(uint64(cc)*ss + uint64(cc*cc*eps)))
			inv := kernels.DivRound(1<<48, max(rr, 1))
			gg, bs := g[:len(row)], bb[:len(row)]
			for i, v := range row {
				d := min(max(int64(v), -1<<20), 1<<20) - mu
				u := kernels.RoundShift(d*inv, 24)
				q := zp + int64(bs[i]) + kernels.RoundShift(u*cc*int64(gg[i]), shiftY)
				out[i] = uint8(min(max(q, 0), 255))
			}
		}
	}
	b.Run = func(in, out []*tensor.Tensor) {
		xs, ys = in[0].I32(), out[0].U8()
		b.Group.For(rows, 16, run)
	}
	return nil
}

// buildQGelu applies I-BERT's i-GELU to an int32 x (real value x·S): with
// the erf argument's scale S' = S/√2 and the attributes clip =
// floor(1.769/S') and one = round(1/(0.2888·S'²)),
//
//	x' = clamp(x, −2^15, 2^15), t = min(|x'|, clip) − clip,
//	E = sign(x')·(one − t²)          (erf ≈ E·0.2888·S'², E = one − t² at x' = 0)
//	W = (one + E) >> wshift          (≈ 1 + erf, W < 2^15)
//	y = clamp(y_zero_point + round(x'·W·M / 2^(31+S)), 0, 255)
//
// the last line as kernels.RequantRow with the multiplier M and shift S.
// Everything fits in int32 (clip <= 2^15, one <= 2^30, 2·one >> wshift < 2^15).
func buildQGelu(b *Build) error {
	if err := b.need(1, 1, tensor.Int32); err != nil {
		return err
	}
	clip, one, wshift := b.Int("clip", 0), b.Int("one", 0), b.Int("wshift", 0)
	zp := int32(b.Int("y_zero_point", 0))
	if clip <= 0 || clip > 1<<15 || one <= 0 || one > 1<<30 || wshift < 0 || wshift > 31 || (2*one)>>wshift >= 1<<15 || zp < 0 || zp > 255 {
		return b.Errorf("clip %d, one %d, wshift %d or y_zero_point %d out of range", clip, one, wshift, zp)
	}
	mult, shift, err := requantAttrs(b, "multiplier", "shift")
	if err != nil || shift > 31 {
		return b.Errorf("multiplier/shift out of range")
	}
	b.Out = []Value{{DType: tensor.Uint8, Shape: clone(b.In[0].Shape)}}
	n := tensor.NumElements(b.In[0].Shape)
	const chunk = 256
	ms, ss := make([]int32, chunk), make([]int, chunk)
	for i := range ms {
		ms[i], ss[i] = mult, shift
	}
	tab := kernels.NewRequantTable(ms, ss)
	zero := make([]int32, chunk)
	tmp := perWorker(b, func() []int32 { return make([]int32, chunk) })
	c32, o32, ws := int32(clip), int32(one), uint(wshift)
	var xs []int32
	var ys []uint8
	run := func(w, lo, hi int) {
		t := tmp[w]
		for c0 := lo; c0 < hi; c0 += chunk {
			xc := xs[c0:min(c0+chunk, hi)]
			a := t[:len(xc)]
			for i, v := range xc {
				x := min(max(v, -1<<15), 1<<15)
				sign := x >> 31
				d := min((x^sign)-sign, c32) - c32
				e := o32 - d*d
				e = (e ^ sign) - sign
				a[i] = x * ((o32 + e) >> ws)
			}
			if len(a) == chunk {
				kernels.RequantRow(a, a, zero, tab, zp, 0, 255)
			} else {
				for i, v := range a {
					a[i] = min(max(kernels.Requantize(v, mult, shift)+zp, 0), 255)
				}
			}
			out := ys[c0 : c0+len(a)]
			for i, v := range a {
				out[i] = uint8(v)
			}
		}
	}
	b.Run = func(in, out []*tensor.Tensor) {
		xs, ys = in[0].I32()[:n], out[0].U8()[:n]
		b.Group.For(n, 4096, run)
	}
	return nil
}

// i-exp constants for scores in units of 2^-10: ln 2, and the polynomial
// exp(p) ≈ 0.3585·(p + 1.353)² + 0.344 on (−ln 2, 0] (I-BERT).
const (
	scoreFrac = 10
	expLn2    = 709     // floor(ln2 · 2^10)
	expB      = 1385    // floor(1.353 · 2^10)
	expC      = 1006157 // floor(0.344 / 0.3585 · 2^20)
	// expRecip is ceil(2^32/709): (n·expRecip)>>32 = floor(n/709) for
	// 0 <= n < 709·64, the range where e can be nonzero
	expRecip = 6057782
)

// buildQAttention is multi-head self-attention on Q (uint8, q_zero_point),
// K and V (int8 in [-64, 63], zero point 0), each [B, S, W] with W = heads·D:
//
//	a = (Q_h − zq)·K_hᵀ (int32), s = Requantize(a, score_multiplier, score_shift)
//	(units 2^-10), per row: x = s − max(s), z = floor(−x/709), p = x + 709·z,
//	e = ((p + 1385)² + 1006157) >> z (0 when z >= 64), R = floor(255·2^32 / Σe),
//	P = min((e·R + 2^31) >> 32, 255) (uint8, scale 1/255),
//	ctx = P·V_h (int32), y = clamp(y_zero_point + Requantize(ctx, multiplier, shift), 0, 255)
//
// and the heads are concatenated back into [B, S, W].
func buildQAttention(b *Build) error {
	if err := b.need(3, 3, tensor.Uint8); err != nil {
		return err
	}
	qv, kv, vv := b.In[0], b.In[1], b.In[2]
	if len(qv.Shape) != 3 || !tensor.SameShape(qv.Shape, kv.Shape) || !tensor.SameShape(qv.Shape, vv.Shape) ||
		kv.DType != tensor.Int8 || vv.DType != tensor.Int8 {
		return b.Errorf("Q (uint8), K and V (int8) must share one [B, S, W] shape: %v%v %v%v %v%v",
			qv.DType, qv.Shape, kv.DType, kv.Shape, vv.DType, vv.Shape)
	}
	bs, s, w := qv.Shape[0], qv.Shape[1], qv.Shape[2]
	heads := int(b.Int("heads", 0))
	if heads < 1 || w%heads != 0 || s < 1 {
		return b.Errorf("heads %d does not divide width %d", heads, w)
	}
	d := w / heads
	zq := int32(b.Int("q_zero_point", 0))
	zo := int32(b.Int("y_zero_point", 0))
	if zq < 0 || zq > 255 || zo < 0 || zo > 255 {
		return b.Errorf("zero points must be in [0, 255]")
	}
	sm, ss, err := requantAttrs(b, "score_multiplier", "score_shift")
	if err != nil || ss > 31 {
		return b.Errorf("score multiplier/shift out of range")
	}
	om, os, err := requantAttrs(b, "multiplier", "shift")
	if err != nil || os > 31 {
		return b.Errorf("multiplier/shift out of range")
	}
	ldd, lds := kernels.PadK(d), kernels.PadK(s)
	threads := 1
	if b.Group != nil {
		threads = max(1, b.Group.Threads)
	}
	perWorkerBytes := s*ldd*2 + kernels.PackedLen8(ldd, s) + s*s*4 + s*lds + d*lds + kernels.PackedLen8(lds, d) + s*d*4 + s*8
	if err := b.Reserve(threads * perWorkerBytes); err != nil {
		return err
	}
	if err := b.Work(int64(bs*heads) * int64(s) * int64(s) * int64(ldd+lds)); err != nil {
		return err
	}
	b.Out = []Value{{DType: tensor.Uint8, Shape: []int{bs, s, w}}}
	type scratch struct {
		q      []uint8
		k      []int8
		kp     []int8
		colsum []int32
		acc    []int32
		probs  []uint8
		vt     []int8
		vp     []int8
		ctx    []int32
		e      []int64
		gemm   *kernels.Gemm8Scratch
	}
	sc := perWorker(b, func() *scratch {
		return &scratch{q: make([]uint8, s*ldd), k: make([]int8, s*ldd), kp: make([]int8, kernels.PackedLen8(ldd, s)),
			colsum: make([]int32, s), acc: make([]int32, s*s), probs: make([]uint8, s*lds), vt: make([]int8, d*lds),
			vp: make([]int8, kernels.PackedLen8(lds, d)), ctx: make([]int32, s*d), e: make([]int64, s),
			gemm: kernels.NewGemm8Scratch(max(ldd, lds))}
	})
	sms, sss := make([]int32, s), make([]int, s)
	for j := range sms {
		sms[j], sss[j] = sm, ss
	}
	scoreTab := kernels.NewRequantTable(sms, sss)
	var qs []uint8
	var ks, vs []int8
	var ys []uint8
	run := func(wk, lo, hi int) {
		t := sc[wk]
		for item := lo; item < hi; item++ {
			bi, h := item/heads, item%heads
			base := bi*s*w + h*d
			for i := 0; i < s; i++ {
				copy(t.q[i*ldd:i*ldd+d], qs[base+i*w:base+i*w+d])
				// K and V are clamped to the exact range of the kernels
				kr := t.k[i*ldd : i*ldd+d]
				var sum int32
				for j, v := range ks[base+i*w : base+i*w+d] {
					v = min(max(v, kernels.MinWeight), kernels.MaxWeight)
					kr[j] = v
					sum += int32(v)
				}
				t.colsum[i] = -zq * sum // the zero-point term of key i
				for j, v := range vs[base+i*w : base+i*w+d] {
					t.vt[j*lds+i] = min(max(v, kernels.MinWeight), kernels.MaxWeight)
				}
			}
			kernels.PackB8(t.kp, t.k, ldd, ldd, s)
			kernels.PackB8(t.vp, t.vt, lds, lds, d)
			kernels.GemmU8S8Packed(0, s, s, ldd, t.q, ldd, t.kp, t.acc, s, t.gemm)
			for i := 0; i < s; i++ {
				row := t.acc[i*s : (i+1)*s]
				kernels.RequantRow(row, row, t.colsum, scoreTab, 0, -1<<31, 1<<31-1)
				mx := int32(-1 << 31)
				for _, v := range row {
					mx = max(mx, v)
				}
				var total int64
				for j, v := range row {
					nx := int64(mx) - int64(v) // = −x >= 0
					e := int64(0)
					if nx < expLn2*64 {
						z := (nx * expRecip) >> 32 // = floor(nx/709) in this range
						p := expLn2*z - nx
						e = ((p+expB)*(p+expB) + expC) >> z
					}
					t.e[j] = e
					total += e
				}
				r := (255 << 32) / total
				pr := t.probs[i*lds : i*lds+s]
				for j, e := range t.e[:s] {
					pr[j] = uint8(min((e*r+1<<31)>>32, 255))
				}
			}
			kernels.GemmU8S8Packed(0, s, d, lds, t.probs, lds, t.vp, t.ctx, d, t.gemm)
			for i := 0; i < s; i++ {
				out := ys[base+i*w : base+i*w+d]
				for j, a := range t.ctx[i*d : (i+1)*d] {
					out[j] = uint8(min(max(zo+kernels.Requantize(a, om, os), 0), 255))
				}
			}
		}
	}
	b.Run = func(in, out []*tensor.Tensor) {
		qs, ks, vs, ys = in[0].U8(), in[1].I8(), in[2].I8(), out[0].U8()
		b.Group.For(bs*heads, 1, run)
	}
	return nil
}
