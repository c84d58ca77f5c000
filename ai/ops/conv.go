package ops

import (
	"github.com/xairrosx/xairrosx/ai/kernels"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

func init() {
	register("", "Conv", 1, buildConv)
}

// buildConv handles 1-D and 2-D float32 convolution (NCW / NCHW) with
// groups, strides, dilations and padding, as im2col followed by GEMM.
func buildConv(b *Build) error {
	if err := b.need(2, 3, tensor.Float32); err != nil {
		return err
	}
	x, wv := b.In[0], b.In[1]
	if len(x.Shape) != 4 && len(x.Shape) != 3 {
		return b.Errorf("only 1-D and 2-D convolution is supported, input has shape %v", x.Shape)
	}
	if len(wv.Shape) != len(x.Shape) || wv.DType != tensor.Float32 {
		return b.Errorf("weight %v%v does not match input %v", wv.DType, wv.Shape, x.Shape)
	}
	in, kshape := x.Shape[2:], wv.Shape[2:]
	if ks := b.Ints("kernel_shape", nil); ks != nil && !tensor.SameShape(ks, kshape) {
		return b.Errorf("kernel_shape %v differs from weight shape %v", ks, wv.Shape)
	}
	win, err := newWindow(b, in, kshape, false)
	if err != nil {
		return err
	}
	if len(in) == 1 { // 1-D as 2-D with height 1
		win = &window{in: []int{1, in[0]}, k: []int{1, win.k[0]}, s: []int{1, win.s[0]}, d: []int{1, win.d[0]},
			pb: []int{0, win.pb[0]}, pe: []int{0, win.pe[0]}, out: []int{1, win.out[0]}}
	}
	n, c := x.Shape[0], x.Shape[1]
	m := wv.Shape[0]
	g := int(b.Int("group", 1))
	if g < 1 || c%g != 0 || m%g != 0 || wv.Shape[1] != c/g {
		return b.Errorf("group %d does not fit %d input and %d output channels (weight %v)", g, c, m, wv.Shape)
	}
	var bias []float32
	if b.Has(2) {
		if b.In[2].DType != tensor.Float32 || tensor.NumElements(b.In[2].Shape) != m { // [M], or [M,1,1] after fusion
			return b.Errorf("bias %v%v does not match %d output channels", b.In[2].DType, b.In[2].Shape, m)
		}
	}
	outShape := append([]int{n, m}, win.out[2-len(in):]...)
	b.Out = []Value{{DType: tensor.Float32, Shape: outShape}}

	cg, mg := c/g, m/g
	kh, kw := win.k[0], win.k[1]
	ih, iw := win.in[0], win.in[1]
	oh, ow := win.out[0], win.out[1]
	kc := cg * kh * kw
	p := oh * ow
	// Rows of the patch matrix are padded to a multiple of 8 floats so the
	// FMA kernel runs over whole vectors.
	ldk := (kc + 7) &^ 7
	threads := 1
	if b.Group != nil {
		threads = max(1, b.Group.Threads)
	}
	if err := b.Reserve(4 * (threads*p*ldk + m*ldk + p*kc + threads*p*m/g + kernels.PackedLen(kc, m/g)*g)); err != nil {
		return err
	}
	if err := b.Work(int64(n) * int64(m) * int64(p) * int64(kc)); err != nil {
		return err
	}
	scratch := make([][]float32, threads)
	for i := range scratch {
		scratch[i] = make([]float32, p*ldk)
	}
	var geo *nhwc
	var padded [][]float32
	if g == 1 && win.d[0] == 1 && win.d[1] == 1 {
		geo = win.nhwc(c)
		if err := b.Reserve(4 * threads * geo.paddedLen()); err != nil {
			return err
		}
		padded = make([][]float32, threads)
		for i := range padded {
			padded[i] = make([]float32, geo.paddedLen())
		}
	}
	// Weights repacked with the same padded row length.
	var wpack []float32
	packW := func(w []float32) {
		if wpack == nil {
			wpack = make([]float32, m*ldk)
		}
		for i := 0; i < m; i++ {
			if geo != nil {
				repack(wpack[i*ldk:i*ldk+kc], w[i*kc:(i+1)*kc], c, kh, kw)
			} else {
				copy(wpack[i*ldk:i*ldk+kc], w[i*kc:(i+1)*kc])
			}
		}
	}
	constW := wv.Const != nil
	if b.Has(2) && b.In[2].Const != nil {
		bias = b.In[2].Const.Contiguous().F32()[:m]
	}
	var xs, ys []float32
	var bs []float32
	table := win.patchTable(cg)
	if constW {
		packW(wv.Const.Contiguous().F32())
	}
	im2col := func(w int, col []float32, img []float32) {
		if geo != nil {
			gatherNHWC(geo, img, padded[w], col, ldk)
		} else {
			gather(table, img, col, ldk, 0)
		}
	}
	// The product is patches (P×K) times the packed transposed weights of
	// the group (K×Mg), giving P×Mg, which scatter writes as Mg planes.
	plen := kernels.PackedLen(kc, mg)
	wp := make([]float32, g*plen)
	packPanels := func() {
		for gi := 0; gi < g; gi++ {
			kernels.PackBT(wp[gi*plen:], wpack[gi*mg*ldk:], ldk, kc, mg)
		}
	}
	if constW {
		packPanels()
	}
	gs := newScratch(b, kc)
	cbuf := make([][]float32, threads)
	for i := range cbuf {
		cbuf[i] = make([]float32, p*mg)
	}
	relu := false
	switch act := b.String("xairrosx.activation", ""); act {
	case "":
	case "Relu":
		relu = true
	default:
		return b.Errorf("fused activation %q is not supported", act)
	}
	scatter := func(cb, dst, bb []float32) {
		for j := 0; j < mg; j++ {
			var bj float32
			if bb != nil {
				bj = bb[j]
			}
			plane := dst[j*p : (j+1)*p]
			if relu {
				for q := range plane {
					plane[q] = max(cb[q*mg+j]+bj, 0)
				}
				continue
			}
			for q := range plane {
				plane[q] = cb[q*mg+j] + bj
			}
		}
	}
	groupBias := func(gi int) []float32 {
		if bs == nil {
			return nil
		}
		return bs[gi*mg : (gi+1)*mg]
	}
	// one (image, group) pair per work item when there are several images
	perImage := func(w, lo, hi int) {
		col := scratch[w]
		for item := lo; item < hi; item++ {
			img, gi := item/g, item%g
			im2col(w, col, xs[(img*c+gi*cg)*ih*iw:])
			kernels.GemmPacked(0, p, mg, kc, col, ldk, wp[gi*plen:], cbuf[w], mg, gs[w])
			scatter(cbuf[w], ys[(img*m+gi*mg)*p:], groupBias(gi))
		}
	}
	var curGroup int
	rows := func(w, lo, hi int) {
		kernels.GemmPacked(lo, hi, mg, kc, scratch[0], ldk, wp[curGroup*plen:], cbuf[0], mg, gs[w])
	}
	b.Run = func(inT, outT []*tensor.Tensor) {
		xs, ys = inT[0].F32(), outT[0].F32()
		if !constW {
			packW(inT[1].F32())
			packPanels()
		}
		bs = bias
		if bs == nil && len(inT) > 2 && inT[2] != nil {
			bs = inT[2].F32()
		}
		if n*g >= threads || threads == 1 {
			b.Group.For(n*g, 1, perImage)
			return
		}
		for img := 0; img < n; img++ {
			for curGroup = 0; curGroup < g; curGroup++ {
				im2col(0, scratch[0], xs[(img*c+curGroup*cg)*ih*iw:])
				b.Group.For(p, 16, rows)
				scatter(cbuf[0], ys[(img*m+curGroup*mg)*p:], groupBias(curGroup))
			}
		}
	}
	return nil
}
