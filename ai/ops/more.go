package ops

import (
	"math"

	"github.com/xairrosx/xairrosx/ai/tensor"
)

func init() {
	register("", "Concat", 4, buildConcat)
	register("", "Gather", 1, buildGather)
	register("", "Shape", 1, buildShape)
	register("", "Unsqueeze", 1, func(b *Build) error { return buildSqueeze(b, true) })
	register("", "Squeeze", 1, func(b *Build) error { return buildSqueeze(b, false) })
	register("", "Slice", 10, buildSlice)
	for _, op := range []string{"ReduceMean", "ReduceSum", "ReduceMax"} {
		op := op
		register("", op, 1, func(b *Build) error { return buildReduce(b, op) })
	}
}

// forEachOffset walks a strided view of shape out whose element i is at
// input offset base + Σ idx[d]·st[d]; it calls f(outIndex, inOffset).
// It is how Slice and Transpose-like copies visit elements.
func forEachOffset(out, st []int, base int, f func(o, in int)) {
	n := tensor.NumElements(out)
	if n == 0 {
		return
	}
	idx := make([]int, len(out))
	off := base
	for k := 0; k < n; k++ {
		f(k, off)
		for d := len(out) - 1; d >= 0; d-- {
			idx[d]++
			off += st[d]
			if idx[d] < out[d] {
				break
			}
			off -= st[d] * idx[d]
			idx[d] = 0
		}
	}
}

func buildConcat(b *Build) error {
	if len(b.In) == 0 {
		return b.Errorf("needs at least one input")
	}
	first := b.In[0]
	r := len(first.Shape)
	ax, err := b.axis(b.Int("axis", 0), r)
	if err != nil {
		return err
	}
	out := clone(first.Shape)
	out[ax] = 0
	for i, v := range b.In {
		if v.DType != first.DType || len(v.Shape) != r {
			return b.Errorf("input %d is %v%v, input 0 is %v%v", i, v.DType, v.Shape, first.DType, first.Shape)
		}
		for d := range v.Shape {
			if d != ax && v.Shape[d] != first.Shape[d] {
				return b.Errorf("input %d shape %v does not match %v outside axis %d", i, v.Shape, first.Shape, ax)
			}
		}
		out[ax] += v.Shape[ax]
	}
	b.Out = []Value{{DType: first.DType, Shape: out}}
	sz := first.DType.Size()
	outer := tensor.NumElements(out[:ax])
	rest := tensor.NumElements(out[ax+1:]) * sz
	chunks := make([]int, len(b.In))
	for i, v := range b.In {
		chunks[i] = v.Shape[ax] * rest
	}
	row := out[ax] * rest
	b.Run = func(in, o []*tensor.Tensor) {
		dst := o[0].Raw()
		for i, t := range in {
			src, c := t.Bytes(), chunks[i]
			at := 0
			for j := 0; j < i; j++ {
				at += chunks[j]
			}
			for q := 0; q < outer; q++ {
				copy(dst[q*row+at:q*row+at+c], src[q*c:(q+1)*c])
			}
		}
	}
	return nil
}

func indicesOf(t *tensor.Tensor) []int64 {
	t = t.Contiguous()
	n := t.Len()
	r := make([]int64, n)
	switch t.DType {
	case tensor.Int64:
		copy(r, t.I64()[:n])
	case tensor.Int32:
		for i, v := range t.I32()[:n] {
			r[i] = int64(v)
		}
	}
	return r
}

func buildGather(b *Build) error {
	if err := b.need(2, 2); err != nil {
		return err
	}
	data, ind := b.In[0], b.In[1]
	if ind.DType != tensor.Int64 && ind.DType != tensor.Int32 {
		return b.Errorf("indices must be int32 or int64, are %v", ind.DType)
	}
	r := len(data.Shape)
	if r == 0 {
		return b.Errorf("Gather on a scalar")
	}
	ax, err := b.axis(b.Int("axis", 0), r)
	if err != nil {
		return err
	}
	out := append(append(clone(data.Shape[:ax]), ind.Shape...), data.Shape[ax+1:]...)
	b.Out = []Value{{DType: data.DType, Shape: out}}
	sz := data.DType.Size()
	outer := tensor.NumElements(data.Shape[:ax])
	dim := data.Shape[ax]
	inner := tensor.NumElements(data.Shape[ax+1:]) * sz
	nIdx := tensor.NumElements(ind.Shape)
	if ind.Const != nil {
		for _, v := range indicesOf(ind.Const) {
			if v < -int64(dim) || v >= int64(dim) {
				return b.Errorf("index %d out of range for axis %d of size %d", v, ax, dim)
			}
		}
	}
	idx := make([]int64, nIdx)
	b.Run = func(in, o []*tensor.Tensor) {
		src, dst := in[0].Bytes(), o[0].Raw()
		t := in[1]
		for i := range idx {
			if t.DType == tensor.Int64 {
				idx[i] = t.I64()[i]
			} else {
				idx[i] = int64(t.I32()[i])
			}
			if idx[i] < 0 {
				idx[i] += int64(dim)
			}
			if idx[i] < 0 || idx[i] >= int64(dim) {
				panic("Gather: index out of range") // becomes an error naming the node
			}
		}
		for q := 0; q < outer; q++ {
			for j, v := range idx {
				copy(dst[(q*nIdx+j)*inner:(q*nIdx+j+1)*inner], src[(q*dim+int(v))*inner:(q*dim+int(v)+1)*inner])
			}
		}
	}
	return nil
}

// buildShape produces the input's shape as a constant int64 tensor
// (shapes are fixed at compile time), with opset 15's start and end.
func buildShape(b *Build) error {
	if err := b.need(1, 1); err != nil {
		return err
	}
	s := b.In[0].Shape
	r := int64(len(s))
	clampAxis := func(v int64) int64 {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	start, end := clampAxis(b.Int("start", 0)), clampAxis(b.Int("end", r))
	end = max(end, start)
	t := tensor.MustNew(tensor.Int64, int(end-start))
	for i := start; i < end; i++ {
		t.I64()[i-start] = int64(s[i])
	}
	b.Out = []Value{{DType: tensor.Int64, Shape: []int{int(end - start)}, Const: t}}
	b.Run = func(in, o []*tensor.Tensor) { copy(o[0].Raw(), t.Bytes()) }
	return nil
}

// buildSqueeze handles Squeeze and Unsqueeze (axes as an attribute before
// opset 13, as a constant input from 13).
func buildSqueeze(b *Build, unsqueeze bool) error {
	if err := b.need(1, 2); err != nil {
		return err
	}
	in := b.In[0]
	var axes []int
	if b.Has(1) {
		a, err := b.constInts(1)
		if err != nil {
			return err
		}
		axes = a
	} else {
		axes = b.Ints("axes", nil)
	}
	var out []int
	if unsqueeze {
		r := len(in.Shape) + len(axes)
		mark := make([]bool, r)
		for _, a := range axes {
			if a < 0 {
				a += r
			}
			if a < 0 || a >= r || mark[a] {
				return b.Errorf("bad axes %v for output rank %d", axes, r)
			}
			mark[a] = true
		}
		j := 0
		for i := 0; i < r; i++ {
			if mark[i] {
				out = append(out, 1)
			} else {
				out = append(out, in.Shape[j])
				j++
			}
		}
	} else {
		r := len(in.Shape)
		drop := make([]bool, r)
		for _, a := range axes {
			if a < 0 {
				a += r
			}
			if a < 0 || a >= r || in.Shape[a] != 1 {
				return b.Errorf("cannot squeeze axis %d of shape %v", a, in.Shape)
			}
			drop[a] = true
		}
		for i, d := range in.Shape {
			if (axes == nil && d == 1) || drop[i] {
				continue
			}
			out = append(out, d)
		}
	}
	b.Out = []Value{{DType: in.DType, Shape: out}}
	b.Run = copyKernel(tensor.NumElements(in.Shape) * in.DType.Size())
	return nil
}

func buildSlice(b *Build) error {
	if err := b.need(3, 5); err != nil {
		return err
	}
	in := b.In[0]
	r := len(in.Shape)
	starts, err := b.constInts(1)
	if err != nil {
		return err
	}
	ends, err := b.constInts(2)
	if err != nil {
		return err
	}
	axes := make([]int, len(starts))
	for i := range axes {
		axes[i] = i
	}
	if b.Has(3) {
		if axes, err = b.constInts(3); err != nil {
			return err
		}
	}
	steps := make([]int, len(starts))
	for i := range steps {
		steps[i] = 1
	}
	if b.Has(4) {
		if steps, err = b.constInts(4); err != nil {
			return err
		}
	}
	if len(ends) != len(starts) || len(axes) != len(starts) || len(steps) != len(starts) {
		return b.Errorf("starts, ends, axes and steps differ in length")
	}
	first := make([]int, r)
	step := make([]int, r)
	out := clone(in.Shape)
	for i := range step {
		step[i] = 1
	}
	for i, a := range axes {
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r || steps[i] == 0 {
			return b.Errorf("bad axis %d or step %d", axes[i], steps[i])
		}
		dim := in.Shape[a]
		s, e, st := starts[i], ends[i], steps[i]
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		if st > 0 {
			s, e = min(max(s, 0), dim), min(max(e, 0), dim)
		} else {
			s, e = min(max(s, 0), dim-1), min(max(e, -1), dim-1)
		}
		n := 0
		if st > 0 && e > s {
			n = (e - s + st - 1) / st
		} else if st < 0 && s > e {
			n = (s - e + (-st) - 1) / (-st)
		}
		first[a], step[a], out[a] = s, st, n
	}
	b.Out = []Value{{DType: in.DType, Shape: out}}
	cs := tensor.ContiguousStrides(in.Shape)
	base := 0
	st := make([]int, r)
	for d := 0; d < r; d++ {
		base += first[d] * cs[d]
		st[d] = step[d] * cs[d]
	}
	sz := in.DType.Size()
	b.Run = func(inT, o []*tensor.Tensor) {
		src, dst := inT[0].Bytes(), o[0].Raw()
		forEachOffset(out, st, base, func(k, off int) { copy(dst[k*sz:(k+1)*sz], src[off*sz:(off+1)*sz]) })
	}
	return nil
}

func buildReduce(b *Build, op string) error {
	if err := b.need(1, 2, tensor.Float32); err != nil {
		return err
	}
	in := b.In[0]
	r := len(in.Shape)
	var axes []int
	if b.Has(1) { // ReduceSum from opset 13
		a, err := b.constInts(1)
		if err != nil {
			return err
		}
		axes = a
	} else {
		axes = b.Ints("axes", nil)
	}
	keep := b.Int("keepdims", 1) != 0
	if len(axes) == 0 && b.Int("noop_with_empty_axes", 0) != 0 {
		b.Out = []Value{{DType: in.DType, Shape: clone(in.Shape)}}
		b.Run = copyKernel(tensor.NumElements(in.Shape) * 4)
		return nil
	}
	red := make([]bool, r)
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	for _, a := range axes {
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r {
			return b.Errorf("axis %d out of range for rank %d", a, r)
		}
		red[a] = true
	}
	var out, kept []int
	for i, d := range in.Shape {
		if red[i] {
			kept = append(kept, 1)
			if keep {
				out = append(out, 1)
			}
		} else {
			kept = append(kept, d)
			out = append(out, d)
		}
	}
	b.Out = []Value{{DType: tensor.Float32, Shape: out}}
	// input element → output offset: strides of the kept shape, 0 on reduced axes
	ks := tensor.ContiguousStrides(kept)
	for i := range ks {
		if red[i] {
			ks[i] = 0
		}
	}
	nOut := tensor.NumElements(kept)
	count := float64(tensor.NumElements(in.Shape)) / float64(max(1, nOut))
	acc := make([]float64, nOut)
	b.Run = func(inT, o []*tensor.Tensor) {
		src, dst := inT[0].F32(), o[0].F32()
		for i := range acc {
			acc[i] = 0
			if op == "ReduceMax" {
				acc[i] = math.Inf(-1)
			}
		}
		forEachOffset(in.Shape, ks, 0, func(k, at int) {
			v := float64(src[k])
			if op == "ReduceMax" {
				acc[at] = math.Max(acc[at], v)
			} else {
				acc[at] += v
			}
		})
		for i, v := range acc {
			if op == "ReduceMean" {
				v /= count
			}
			dst[i] = float32(v)
		}
	}
	return nil
}
