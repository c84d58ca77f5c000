package ops

import (
	"github.com/xairrosx/xairrosx/ai/tensor"
)

func init() {
	register("", "MaxPool", 1, func(b *Build) error { return buildPool(b, true) })
	register("", "AveragePool", 1, func(b *Build) error { return buildPool(b, false) })
	register("", "GlobalAveragePool", 1, buildGlobalAvg)
}

// buildPool handles 1-, 2- and 3-D max and average pooling over float32
// (and uint8/int8 for MaxPool), including MaxPool's optional Indices output.
func buildPool(b *Build, isMax bool) error {
	allowed := []tensor.DType{tensor.Float32}
	if isMax {
		allowed = append(allowed, tensor.Uint8, tensor.Int8)
	}
	if err := b.need(1, 1, allowed...); err != nil {
		return err
	}
	x := b.In[0]
	r := len(x.Shape) - 2
	if r < 1 || r > 3 {
		return b.Errorf("pooling over %d spatial axes is not supported (input %v)", r, x.Shape)
	}
	ks := b.Ints("kernel_shape", nil)
	if ks == nil {
		return b.Errorf("kernel_shape is required")
	}
	win, err := newWindow(b, x.Shape[2:], ks, b.Int("ceil_mode", 0) != 0)
	if err != nil {
		return err
	}
	if !isMax && b.Node.Attrs["dilations"] != nil {
		for _, d := range win.d {
			if d != 1 {
				return b.Errorf("AveragePool dilations are not supported")
			}
		}
	}
	// Work in 3-D: pad the spatial axes at the front with size-1 axes.
	pad3 := func(v []int, fill int) [3]int {
		var o [3]int
		for i := range o {
			o[i] = fill
		}
		copy(o[3-len(v):], v)
		return o
	}
	in, k, s, d, pb, out := pad3(win.in, 1), pad3(win.k, 1), pad3(win.s, 1), pad3(win.d, 1), pad3(win.pb, 0), pad3(win.out, 1)
	pe := pad3(win.pe, 0)
	geom := &poolGeom{in: in, k: k, s: s, d: d, pb: pb}
	n, c := x.Shape[0], x.Shape[1]
	outShape := append([]int{n, c}, win.out...)
	b.Out = []Value{{DType: x.DType, Shape: outShape}}
	withIdx := len(b.Node.Outputs) > 1 && b.Node.Outputs[1] != ""
	if withIdx {
		if !isMax {
			return b.Errorf("has two outputs")
		}
		b.Out = append(b.Out, Value{DType: tensor.Int64, Shape: clone(outShape)})
	}
	colMajor := b.Int("storage_order", 0) == 1
	includePad := b.Int("count_include_pad", 0) != 0
	inPlane := in[0] * in[1] * in[2]
	outPlane := out[0] * out[1] * out[2]
	planes := n * c
	// pool one plane; idx receives flat indices into the whole input
	poolF32 := func(src []float32, dst []float32, idx []int64, base int) {
		q := 0
		for oz := 0; oz < out[0]; oz++ {
			for oy := 0; oy < out[1]; oy++ {
				for ox := 0; ox < out[2]; ox++ {
					best, bestAt, sum, cnt := windowStats(src, geom, oz, oy, ox)
					if isMax {
						dst[q] = best
						if idx != nil {
							at := bestAt
							if colMajor {
								z, rem := at/(in[1]*in[2]), at%(in[1]*in[2])
								y, xx := rem/in[2], rem%in[2]
								at = (xx*in[1]+y)*in[0] + z
							}
							idx[q] = int64(base + at)
						}
					} else {
						if includePad {
							// the window clipped to the padded input
							cnt = 1
							for a := 0; a < 3; a++ {
								o := [3]int{oz, oy, ox}[a]
								lo := o*s[a] - pb[a]
								hi := min(lo+(k[a]-1)*d[a]+1, in[a]+pe[a])
								cnt *= hi - lo
							}
						}
						dst[q] = sum / float32(cnt)
					}
					q++
				}
			}
		}
	}
	switch x.DType {
	case tensor.Float32:
		b.Run = func(inT, outT []*tensor.Tensor) {
			src, dst := inT[0].F32(), outT[0].F32()
			if isMax && !withIdx && maxPoolFast(src, dst, planes, in, out, k, s, d, pb) {
				return
			}
			var idx []int64
			if withIdx {
				idx = outT[1].I64()
			}
			for pl := 0; pl < planes; pl++ {
				var ip []int64
				if idx != nil {
					ip = idx[pl*outPlane:]
				}
				poolF32(src[pl*inPlane:], dst[pl*outPlane:], ip, pl*inPlane)
			}
		}
	case tensor.Uint8:
		b.Run = func(inT, outT []*tensor.Tensor) {
			maxPoolInt(inT[0].U8(), outT[0].U8(), planes, geom, out)
		}
	case tensor.Int8:
		b.Run = func(inT, outT []*tensor.Tensor) {
			maxPoolInt(inT[0].I8(), outT[0].I8(), planes, geom, out)
		}
	}
	if withIdx && x.DType != tensor.Float32 {
		return b.Errorf("Indices output is only supported for float32")
	}
	return nil
}

func maxPoolInt[T int8 | uint8](src, dst []T, planes int, g *poolGeom, out [3]int) {
	inPlane, q := g.in[0]*g.in[1]*g.in[2], 0
	if maxPoolFast(src, dst, planes, g.in, out, g.k, g.s, g.d, g.pb) {
		return
	}
	for pl := 0; pl < planes; pl++ {
		p := src[pl*inPlane:]
		for oz := 0; oz < out[0]; oz++ {
			for oy := 0; oy < out[1]; oy++ {
				for ox := 0; ox < out[2]; ox++ {
					dst[q], _, _, _ = windowStats(p, g, oz, oy, ox)
					q++
				}
			}
		}
	}
}

// poolGeom is a pooling window in 3-D form (1-D and 2-D pools have leading
// axes of size 1).
type poolGeom struct{ in, k, s, d, pb [3]int }

// windowStats returns the maximum of the window at output position
// (oz, oy, ox) and its offset in the plane (the first one on ties), with
// the sum and count of the elements inside the input.
func windowStats[T float32 | int8 | uint8](src []T, g *poolGeom, oz, oy, ox int) (best T, bestAt int, sum float32, cnt int) {
	bestAt = -1
	for kz := 0; kz < g.k[0]; kz++ {
		z := oz*g.s[0] - g.pb[0] + kz*g.d[0]
		if z < 0 || z >= g.in[0] {
			continue
		}
		for ky := 0; ky < g.k[1]; ky++ {
			y := oy*g.s[1] - g.pb[1] + ky*g.d[1]
			if y < 0 || y >= g.in[1] {
				continue
			}
			for kx := 0; kx < g.k[2]; kx++ {
				x := ox*g.s[2] - g.pb[2] + kx*g.d[2]
				if x < 0 || x >= g.in[2] {
					continue
				}
				at := (z*g.in[1]+y)*g.in[2] + x
				v := src[at]
				if bestAt < 0 || v > best {
					best, bestAt = v, at
				}
				sum += float32(v)
				cnt++
			}
		}
	}
	return best, bestAt, sum, cnt
}

// maxPoolFast handles 2-D max pooling whose windows lie wholly inside the
// input (no padding, dilation 1) without bounds checks; it reports whether
// the case applied.
func maxPoolFast[T float32 | int8 | uint8](src, dst []T, planes int, in, out, k, s, d, pb [3]int) bool {
	if in[0] != 1 || k[0] != 1 || pb != [3]int{} || d != [3]int{1, 1, 1} ||
		(out[1]-1)*s[1]+k[1] > in[1] || (out[2]-1)*s[2]+k[2] > in[2] {
		return false
	}
	inPlane, iw, q := in[1]*in[2], in[2], 0
	if k[1] == 2 && k[2] == 2 { // the common 2×2 window
		for pl := 0; pl < planes; pl++ {
			p := src[pl*inPlane : (pl+1)*inPlane]
			for oy := 0; oy < out[1]; oy++ {
				r0 := p[oy*s[1]*iw:]
				r1 := r0[iw:]
				for ox := 0; ox < out[2]; ox++ {
					x := ox * s[2]
					dst[q] = max(max(r0[x], r0[x+1]), max(r1[x], r1[x+1]))
					q++
				}
			}
		}
		return true
	}
	for pl := 0; pl < planes; pl++ {
		p := src[pl*inPlane : (pl+1)*inPlane]
		for oy := 0; oy < out[1]; oy++ {
			for ox := 0; ox < out[2]; ox++ {
				base := oy*s[1]*iw + ox*s[2]
				best := p[base]
				for ky := 0; ky < k[1]; ky++ {
					for _, v := range p[base+ky*iw : base+ky*iw+k[2]] {
						best = max(best, v)
					}
				}
				dst[q] = best
				q++
			}
		}
	}
	return true
}

func buildGlobalAvg(b *Build) error {
	if err := b.need(1, 1, tensor.Float32); err != nil {
		return err
	}
	x := b.In[0]
	if len(x.Shape) < 3 {
		return b.Errorf("input %v has no spatial axes", x.Shape)
	}
	out := clone(x.Shape)
	for i := 2; i < len(out); i++ {
		out[i] = 1
	}
	b.Out = []Value{{DType: tensor.Float32, Shape: out}}
	planes, size := x.Shape[0]*x.Shape[1], tensor.NumElements(x.Shape[2:])
	b.Run = func(inT, outT []*tensor.Tensor) {
		src, dst := inT[0].F32(), outT[0].F32()
		for p := 0; p < planes; p++ {
			var s float64
			for _, v := range src[p*size : (p+1)*size] {
				s += float64(v)
			}
			dst[p] = float32(s / float64(size))
		}
	}
	return nil
}
