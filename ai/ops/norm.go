package ops

import (
	"math"

	"github.com/xairrosx/xairrosx/ai/kernels"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

func init() {
	register("", "Softmax", 1, buildSoftmax)
	register("", "LayerNormalization", 17, buildLayerNorm)
}

// buildSoftmax: before opset 13 the input is flattened to 2-D at axis
// (default 1); from opset 13 softmax runs along one axis (default -1).
func buildSoftmax(b *Build) error {
	if err := b.need(1, 1, tensor.Float32); err != nil {
		return err
	}
	x := b.In[0]
	r := len(x.Shape)
	def := int64(1)
	if b.Opset >= 13 {
		def = -1
	}
	if r == 0 {
		return b.Errorf("softmax of a scalar")
	}
	ax, err := b.axis(b.Int("axis", def), r)
	if err != nil {
		return err
	}
	var outer, len_, inner int
	if b.Opset < 13 {
		outer, len_, inner = tensor.NumElements(x.Shape[:ax]), tensor.NumElements(x.Shape[ax:]), 1
	} else {
		outer, len_, inner = tensor.NumElements(x.Shape[:ax]), x.Shape[ax], tensor.NumElements(x.Shape[ax+1:])
	}
	b.Out = []Value{{DType: tensor.Float32, Shape: clone(x.Shape)}}
	var src, dst []float32
	rows := func(_, lo, hi int) {
		for it := lo; it < hi; it++ {
			o, in := it/inner, it%inner
			base := o*len_*inner + in
			mx := float32(math.Inf(-1))
			for i := 0; i < len_; i++ {
				mx = max(mx, src[base+i*inner])
			}
			var sum float64
			if inner == 1 { // contiguous: subtract the max, then exp eight at a time
				d := dst[base : base+len_]
				for i, v := range src[base : base+len_] {
					d[i] = v - mx
				}
				kernels.ExpF32(d, d)
				for _, e := range d {
					sum += float64(e)
				}
			} else {
				for i := 0; i < len_; i++ {
					e := kernels.Exp32(src[base+i*inner] - mx)
					dst[base+i*inner] = e
					sum += float64(e)
				}
			}
			inv := float32(1 / sum)
			for i := 0; i < len_; i++ {
				dst[base+i*inner] *= inv
			}
		}
	}
	b.Run = func(in, out []*tensor.Tensor) {
		src, dst = in[0].F32(), out[0].F32()
		b.Group.For(outer*inner, max(1, 2048/max(1, len_)), rows)
	}
	return nil
}

// buildLayerNorm normalizes over the axes from axis (default -1) to the
// end: Y = (X - mean) / sqrt(var + epsilon) * Scale + B, with optional Mean
// and InvStdDev outputs.
func buildLayerNorm(b *Build) error {
	if err := b.need(2, 3, tensor.Float32); err != nil {
		return err
	}
	x := b.In[0]
	r := len(x.Shape)
	ax, err := b.axis(b.Int("axis", -1), r)
	if err != nil {
		return err
	}
	eps := float64(b.Float("epsilon", 1e-5))
	outer, size := tensor.NumElements(x.Shape[:ax]), tensor.NumElements(x.Shape[ax:])
	norm := x.Shape[ax:]
	bcScale, ok := BroadcastShape(b.In[1].Shape, norm)
	if !ok || !tensor.SameShape(bcScale, norm) {
		return b.Errorf("Scale %v does not broadcast to the normalized shape %v", b.In[1].Shape, norm)
	}
	sc := newBcast(norm, b.In[1].Shape, norm)
	var bbc *bcast
	if b.Has(2) {
		bb, ok := BroadcastShape(b.In[2].Shape, norm)
		if !ok || !tensor.SameShape(bb, norm) {
			return b.Errorf("B %v does not broadcast to the normalized shape %v", b.In[2].Shape, norm)
		}
		bbc = newBcast(norm, b.In[2].Shape, norm)
	}
	// expand the scale and bias to the full normalized shape once per run
	scale := make([]float32, size)
	bias := make([]float32, size)
	expand := func(bc *bcast, src, dst []float32) {
		for rr := 0; rr < bc.outerCount; rr++ {
			_, ob := bc.offsets(rr)
			ib := bc.ib
			if bc.flat {
				ob, ib = 0, 1
			}
			row := dst[rr*bc.inner : (rr+1)*bc.inner]
			for i := range row {
				row[i] = src[ob+i*ib]
			}
		}
	}
	statShape := clone(x.Shape)
	for i := ax; i < r; i++ {
		statShape[i] = 1
	}
	b.Out = []Value{{DType: tensor.Float32, Shape: clone(x.Shape)}}
	for i := 1; i < len(b.Node.Outputs); i++ {
		b.Out = append(b.Out, Value{DType: tensor.Float32, Shape: clone(statShape)})
	}
	var src, dst, meanOut, invOut []float32
	rows := func(_, lo, hi int) {
		for o := lo; o < hi; o++ {
			row := src[o*size : (o+1)*size]
			var s float64
			for _, v := range row {
				s += float64(v)
			}
			mean := s / float64(size)
			var v2 float64
			for _, v := range row {
				d := float64(v) - mean
				v2 += d * d
			}
			inv := 1 / math.Sqrt(v2/float64(size)+eps)
			y := dst[o*size : (o+1)*size]
			for i, v := range row {
				y[i] = float32((float64(v)-mean)*inv)*scale[i] + bias[i]
			}
			if meanOut != nil {
				meanOut[o] = float32(mean)
			}
			if invOut != nil {
				invOut[o] = float32(inv)
			}
		}
	}
	b.Run = func(in, out []*tensor.Tensor) {
		src, dst = in[0].F32(), out[0].F32()
		expand(sc, in[1].F32(), scale)
		if bbc != nil {
			expand(bbc, in[2].F32(), bias)
		}
		meanOut, invOut = nil, nil
		if len(out) > 1 && out[1] != nil {
			meanOut = out[1].F32()
		}
		if len(out) > 2 && out[2] != nil {
			invOut = out[2].F32()
		}
		b.Group.For(outer, max(1, 4096/max(1, size)), rows)
	}
	return nil
}
