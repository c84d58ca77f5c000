package ops

import (
	"github.com/xairrosx/xairrosx/ai/onnx"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

func init() {
	register("", "Reshape", 5, buildReshape)
	register("", "Flatten", 1, buildFlatten)
	register("", "Transpose", 1, buildTranspose)
	register("", "Constant", 1, buildConstant)
}

func copyKernel(n int) Kernel {
	return func(in, out []*tensor.Tensor) { copy(out[0].Raw()[:n], in[0].Bytes()) }
}

func buildReshape(b *Build) error {
	if err := b.need(2, 2); err != nil {
		return err
	}
	shape, err := b.constInts(1)
	if err != nil {
		return err
	}
	in := b.In[0]
	allowZero := b.Int("allowzero", 0) != 0
	out := make([]int, len(shape))
	infer := -1
	known := 1
	for i, d := range shape {
		switch {
		case d == -1:
			if infer >= 0 {
				return b.Errorf("shape %v has more than one -1", shape)
			}
			infer = i
			continue
		case d == 0 && !allowZero:
			if i >= len(in.Shape) {
				return b.Errorf("shape %v copies dimension %d of a rank-%d input", shape, i, len(in.Shape))
			}
			d = in.Shape[i]
		case d < 0:
			return b.Errorf("shape %v has a negative dimension", shape)
		}
		out[i] = d
		known *= d
	}
	total := tensor.NumElements(in.Shape)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return b.Errorf("cannot reshape %v to %v", in.Shape, shape)
		}
		out[infer] = total / known
	} else if known != total {
		return b.Errorf("cannot reshape %v (%d elements) to %v", in.Shape, total, shape)
	}
	b.Out = []Value{{DType: in.DType, Shape: out}}
	b.Run = copyKernel(total * in.DType.Size())
	return nil
}

func buildFlatten(b *Build) error {
	if err := b.need(1, 1); err != nil {
		return err
	}
	in := b.In[0]
	ax := b.Int("axis", 1)
	if ax < 0 {
		ax += int64(len(in.Shape))
	}
	if ax < 0 || ax > int64(len(in.Shape)) {
		return b.Errorf("axis %d out of range for rank %d", b.Int("axis", 1), len(in.Shape))
	}
	b.Out = []Value{{DType: in.DType, Shape: []int{tensor.NumElements(in.Shape[:ax]), tensor.NumElements(in.Shape[ax:])}}}
	b.Run = copyKernel(tensor.NumElements(in.Shape) * in.DType.Size())
	return nil
}

func buildTranspose(b *Build) error {
	if err := b.need(1, 1); err != nil {
		return err
	}
	in := b.In[0]
	r := len(in.Shape)
	perm := b.Ints("perm", nil)
	if perm == nil {
		perm = make([]int, r)
		for i := range perm {
			perm[i] = r - 1 - i
		}
	}
	if len(perm) != r {
		return b.Errorf("perm %v for rank %d", perm, r)
	}
	seen := make([]bool, r)
	out := make([]int, r)
	for i, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return b.Errorf("perm %v is not a permutation", perm)
		}
		seen[p] = true
		out[i] = in.Shape[p]
	}
	b.Out = []Value{{DType: in.DType, Shape: out}}
	// Precompute, for the output in row-major order, the input stride of each output axis.
	cs := tensor.ContiguousStrides(in.Shape)
	st := make([]int, r)
	for i, p := range perm {
		st[i] = cs[p]
	}
	n := tensor.NumElements(out)
	sz := in.DType.Size()
	idx := make([]int, r)
	if sz == 4 && r > 0 {
		// 4-byte elements: walk the output in rows of its last axis.
		inner, innerStride := out[r-1], st[r-1]
		outer := n / max(1, inner)
		var src, dst []uint32
		rows := func(_, lo, hi int) {
			for row := lo; row < hi; row++ {
				off, rem := 0, row
				for d := r - 2; d >= 0; d-- {
					off += rem % out[d] * st[d]
					rem /= out[d]
				}
				dr := dst[row*inner : (row+1)*inner]
				for x := range dr {
					dr[x] = src[off+x*innerStride]
				}
			}
		}
		b.Run = func(inT, outT []*tensor.Tensor) {
			src, dst = unsafeU32(inT[0]), unsafeU32(outT[0])
			b.Group.For(outer, max(1, 16384/max(1, inner)), rows)
		}
		return nil
	}
	b.Run = func(inT, outT []*tensor.Tensor) {
		src, dst := inT[0].Bytes(), outT[0].Raw()
		for i := range idx {
			idx[i] = 0
		}
		off := 0
		for k := 0; k < n; k++ {
			copy(dst[k*sz:(k+1)*sz], src[off*sz:(off+1)*sz])
			for d := r - 1; d >= 0; d-- {
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
	return nil
}

func buildConstant(b *Build) error {
	if len(b.In) != 0 {
		return b.Errorf("takes no inputs")
	}
	var t *tensor.Tensor
	for name, a := range b.Node.Attrs {
		var err error
		switch name {
		case "value":
			t = a.T
		case "value_float":
			t, err = tensor.New(tensor.Float32)
			if err == nil {
				t.F32()[0] = a.F
			}
		case "value_floats":
			t, err = tensor.New(tensor.Float32, len(a.Floats))
			if err == nil {
				copy(t.F32(), a.Floats)
			}
		case "value_int":
			t, err = tensor.New(tensor.Int64)
			if err == nil {
				t.I64()[0] = a.I
			}
		case "value_ints":
			t, err = tensor.New(tensor.Int64, len(a.Ints))
			if err == nil {
				copy(t.I64(), a.Ints)
			}
		default:
			return b.Errorf("attribute %q is not supported", name)
		}
		if err != nil {
			return b.Errorf("%v", err)
		}
	}
	if t == nil || (b.Node.Attrs["value"] != nil && b.Node.Attrs["value"].Type != onnx.AttrTensor) {
		return b.Errorf("needs a value attribute")
	}
	b.Out = []Value{{DType: t.DType, Shape: clone(t.Shape), Const: t}}
	n := t.Len() * t.DType.Size()
	b.Run = func(in, out []*tensor.Tensor) { copy(out[0].Raw()[:n], t.Contiguous().Bytes()) }
	return nil
}
