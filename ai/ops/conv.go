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
	ph, pw := ih+win.pb[0]+win.pe[0], iw+win.pb[1]+win.pe[1]
	kc := cg * kh * kw
	p := oh * ow
	// The im2col matrix is K×P (one row per (c, ky, kx), one column per
	// output position), rows padded to a multiple of 16 columns: the layout
	// and the summation order of ONNX Runtime's im2col+SGEMM convolution,
	// so both add the same products in the same order (kernels.GemmRows).
	// With stride 1 the matrix is "wide": a column per position of the
	// padded input's rows (oh × pw instead of oh × ow), so that each of its
	// rows is one contiguous run of the padded input; the extra columns are
	// computed and dropped.
	wide := win.s[0] == 1 && win.s[1] == 1
	np, rowLen := p, ow
	if wide {
		np, rowLen = oh*pw, pw
	}
	ldp := (np + kernels.Panel - 1) / kernels.Panel * kernels.Panel
	slack := (kw - 1) * win.d[1] // a wide row's run ends past the plane
	threads := 1
	if b.Group != nil {
		threads = max(1, b.Group.Threads)
	}
	if err := b.Reserve(4 * (threads*(cg*ph*pw+slack+kc*ldp+mg*ldp) + m*kc)); err != nil {
		return err
	}
	if err := b.Work(int64(n) * int64(m) * int64(p) * int64(kc)); err != nil {
		return err
	}
	padded := make([][]float32, threads) // zero borders, written once
	cols := make([][]float32, threads)
	cbuf := make([][]float32, threads)
	for i := range padded {
		padded[i] = make([]float32, cg*ph*pw+slack)
		cols[i] = make([]float32, kc*ldp)
		cbuf[i] = make([]float32, mg*ldp)
	}
	constW := wv.Const != nil
	var ws []float32 // weights, [M][C/g·kh·kw]
	if constW {
		ws = wv.Const.Contiguous().F32()
	}
	if b.Has(2) && b.In[2].Const != nil {
		bias = b.In[2].Const.Contiguous().F32()[:m]
	}
	sh, sw, dh, dw := win.s[0], win.s[1], win.d[0], win.d[1]
	im2col := func(w int, img []float32) {
		pad, col := padded[w], cols[w]
		for ch := 0; ch < cg; ch++ {
			plane := pad[ch*ph*pw:]
			for y := 0; y < ih; y++ {
				at := (y+win.pb[0])*pw + win.pb[1]
				copy(plane[at:at+iw], img[(ch*ih+y)*iw:(ch*ih+y+1)*iw])
			}
		}
		row := 0
		for ch := 0; ch < cg; ch++ {
			for ky := 0; ky < kh; ky++ {
				for kx := 0; kx < kw; kx++ {
					dst := col[row*ldp : row*ldp+np]
					row++
					if wide {
						at := ch*ph*pw + ky*dh*pw + kx*dw
						copy(dst, pad[at:at+np])
						continue
					}
					for oy := 0; oy < oh; oy++ {
						src := pad[ch*ph*pw+(oy*sh+ky*dh)*pw+kx*dw:]
						d := dst[oy*ow : (oy+1)*ow]
						if sw == 1 {
							copy(d, src[:ow])
							continue
						}
						for ox := range d {
							d[ox] = src[ox*sw]
						}
					}
				}
			}
		}
	}
	gs := newScratch(b, kc)
	kblock := kernels.KBlock(p, kc) // MLAS: filters × K times K × positions
	relu := false
	switch act := b.String("xairrosx.activation", ""); act {
	case "":
	case "Relu":
		relu = true
	default:
		return b.Errorf("fused activation %q is not supported", act)
	}
	var xs, ys, bs []float32
	// product computes, on worker w, output channels [lo, hi) of group gi
	// of image img from the im2col matrix in buffer set src, with bias and
	// activation.
	product := func(w, src, img, gi, lo, hi int) {
		kernels.GemmRows(lo, hi, np, kc, ws[gi*mg*kc:], kc, cols[src], ldp, cbuf[src], ldp, kblock, gs[w])
		for j := lo; j < hi; j++ {
			var bj float32
			if bs != nil {
				bj = bs[gi*mg+j]
			}
			plane := ys[(img*m+gi*mg+j)*p : (img*m+gi*mg+j+1)*p]
			for oy := 0; oy < oh; oy++ {
				acc := cbuf[src][j*ldp+oy*rowLen : j*ldp+oy*rowLen+ow]
				dst := plane[oy*ow : (oy+1)*ow]
				if relu {
					for q, v := range acc {
						dst[q] = max(v+bj, 0)
					}
					continue
				}
				for q, v := range acc {
					dst[q] = v + bj
				}
			}
		}
	}
	// one (image, group) pair per work item when there are several images
	perImage := func(w, lo, hi int) {
		for item := lo; item < hi; item++ {
			img, gi := item/g, item%g
			im2col(w, xs[(img*c+gi*cg)*ih*iw:])
			product(w, w, img, gi, 0, mg)
		}
	}
	var curImg, curGroup int
	rows := func(w, lo, hi int) { product(w, 0, curImg, curGroup, lo, hi) }
	b.Run = func(inT, outT []*tensor.Tensor) {
		xs, ys = inT[0].F32(), outT[0].F32()
		if !constW {
			ws = inT[1].F32()
		}
		bs = bias
		if bs == nil && len(inT) > 2 && inT[2] != nil {
			bs = inT[2].F32()
		}
		if n*g >= threads || threads == 1 {
			b.Group.For(n*g, 1, perImage)
			return
		}
		for curImg = 0; curImg < n; curImg++ {
			for curGroup = 0; curGroup < g; curGroup++ {
				im2col(0, xs[(curImg*c+curGroup*cg)*ih*iw:])
				b.Group.For(mg, 4, rows)
			}
		}
	}
	return nil
}
