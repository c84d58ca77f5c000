package ops

import (
	"github.com/xairrosx/xairrosx/ai/kernels"
	"github.com/xairrosx/xairrosx/ai/tensor"
)

func init() {
	register("", "MatMul", 1, buildMatMul)
	register("", "Gemm", 1, buildGemm)
}

// newScratch returns one GEMM scratch per worker of the build's group.
func newScratch(b *Build, k int) []*kernels.GemmScratch {
	return perWorker(b, func() *kernels.GemmScratch { return kernels.NewGemmScratch(k) })
}

// perWorker returns one value made by mk for each worker of the build's group.
func perWorker[T any](b *Build, mk func() T) []T {
	threads := 1
	if b.Group != nil {
		threads = max(1, b.Group.Threads)
	}
	s := make([]T, threads)
	for i := range s {
		s[i] = mk()
	}
	return s
}

// gemmKBlock is the K block length of an m×k by k×n float32 product, as
// ONNX Runtime's MLAS sums it: a single row (its M=1 kernel) is one FMA
// chain over all of K, larger products follow kernels.KBlock.
func gemmKBlock(m, n, k int) int {
	if m == 1 {
		return 0
	}
	return kernels.KBlock(n, k)
}

// transposeInto writes the k×n row-major matrix src transposed (n×k, row
// stride ld) into dst.
func transposeInto(dst []float32, ld int, src []float32, k, n int) {
	for i := 0; i < k; i++ {
		row := src[i*n : (i+1)*n]
		for j, v := range row {
			dst[j*ld+i] = v
		}
	}
}

// buildMatMul implements numpy matmul semantics for float32, with batch
// broadcasting. Constant right-hand sides are transposed once at build time.
func buildMatMul(b *Build) error {
	maxIn := 2
	if b.Int("xairrosx.bias", 0) != 0 { // a fused bias (runtime's fusion pass)
		maxIn = 3
	}
	if err := b.need(2, maxIn, tensor.Float32); err != nil {
		return err
	}
	a, bv := b.In[0], b.In[1]
	if bv.DType != tensor.Float32 {
		return b.Errorf("input types differ: %v and %v", a.DType, bv.DType)
	}
	as, bs := clone(a.Shape), clone(bv.Shape)
	if len(as) == 0 || len(bs) == 0 {
		return b.Errorf("MatMul of a scalar")
	}
	aVec, bVec := len(as) == 1, len(bs) == 1
	if aVec {
		as = []int{1, as[0]}
	}
	if bVec {
		bs = []int{bs[0], 1}
	}
	m, k := as[len(as)-2], as[len(as)-1]
	k2, n := bs[len(bs)-2], bs[len(bs)-1]
	if k != k2 {
		return b.Errorf("shapes %v and %v do not multiply (inner %d vs %d)", a.Shape, bv.Shape, k, k2)
	}
	batch, ok := BroadcastShape(as[:len(as)-2], bs[:len(bs)-2])
	if !ok {
		return b.Errorf("batch dimensions of %v and %v do not broadcast", a.Shape, bv.Shape)
	}
	out := append(clone(batch), m, n)
	if aVec {
		out = append(out[:len(out)-2], n)
	}
	if bVec {
		out = out[:len(out)-1]
		if aVec {
			out = clone(batch)
		}
	}
	b.Out = []Value{{DType: tensor.Float32, Shape: out}}
	nb := tensor.NumElements(batch)
	sa := bstrides(as[:len(as)-2], batch)
	sb := bstrides(bs[:len(bs)-2], batch)
	// batch offsets, in matrices
	nbB := tensor.NumElements(bs[:len(bs)-2])
	if err := b.Reserve(4*nbB*kernels.PackedLen(k, n) + 16*nb); err != nil {
		return err
	}
	if err := b.Work(int64(nb) * int64(m) * int64(n) * int64(k)); err != nil {
		return err
	}
	aOff, bOff := make([]int, nb), make([]int, nb)
	for i := 0; i < nb; i++ {
		r := i
		for d := len(batch) - 1; d >= 0; d-- {
			j := r % batch[d]
			r /= batch[d]
			aOff[i] += j * sa[d]
			bOff[i] += j * sb[d]
		}
	}
	plen := kernels.PackedLen(k, n)
	bp := make([]float32, nbB*plen)
	constB := bv.Const != nil
	var bsrc []float32
	packRange := func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			kernels.PackB(bp[i*plen:], bsrc[i*k*n:], n, k, n)
		}
	}
	packB := func(src []float32) { // B matrices in parallel
		bsrc = src
		b.Group.For(nbB, max(1, 16384/max(1, k*n)), packRange)
	}
	if constB {
		packB(bv.Const.Contiguous().F32())
	}
	scratch := newScratch(b, k)
	kblock := gemmKBlock(m, n, k)
	if nbB == 1 { // one B for all: MLAS runs one GEMM over every row
		kblock = gemmKBlock(nb*m, n, k)
	}
	var bias []float32
	if b.Has(2) {
		if b.In[2].Const == nil || tensor.NumElements(b.In[2].Shape) != n {
			return b.Errorf("fused bias must be a constant of %d values", n)
		}
		bias = b.In[2].Const.Contiguous().F32()[:n]
	}
	var xa, yc []float32
	rows := func(w, lo, hi int) {
		// work items are (batch, row) pairs
		for it := lo; it < hi; {
			bi, r := it/m, it%m
			end := min(m, r+(hi-it))
			kernels.GemmPacked(r, end, n, k, xa[aOff[bi]*m*k:], k, bp[bOff[bi]*plen:], yc[bi*m*n:], n, kblock, scratch[w])
			if bias != nil {
				for i := r; i < end; i++ {
					row := yc[(bi*m+i)*n : (bi*m+i+1)*n]
					for j := range row {
						row[j] += bias[j]
					}
				}
			}
			it += end - r
		}
	}
	b.Run = func(in, o []*tensor.Tensor) {
		xa, yc = in[0].F32(), o[0].F32()
		if !constB {
			packB(in[1].F32())
		}
		b.Group.For(nb*m, max(1, 4096/max(1, n*k)), rows)
	}
	return nil
}

// buildGemm implements Y = alpha·A'·B' + beta·C for float32.
func buildGemm(b *Build) error {
	if err := b.need(2, 3, tensor.Float32); err != nil {
		return err
	}
	a, bv := b.In[0], b.In[1]
	if len(a.Shape) != 2 || len(bv.Shape) != 2 {
		return b.Errorf("A %v and B %v must be matrices", a.Shape, bv.Shape)
	}
	transA, transB := b.Int("transA", 0) != 0, b.Int("transB", 0) != 0
	alpha, beta := b.Float("alpha", 1), b.Float("beta", 1)
	m, k := a.Shape[0], a.Shape[1]
	if transA {
		m, k = k, m
	}
	k2, n := bv.Shape[0], bv.Shape[1]
	if transB {
		k2, n = n, k2
	}
	if k != k2 {
		return b.Errorf("A %v and B %v do not multiply (transA=%v transB=%v)", a.Shape, bv.Shape, transA, transB)
	}
	var bc *bcast
	if b.Has(2) {
		cs := b.In[2].Shape
		if out, ok := BroadcastShape(cs, []int{m, n}); !ok || !tensor.SameShape(out, []int{m, n}) {
			return b.Errorf("C %v does not broadcast to %dx%d", cs, m, n)
		}
		bc = newBcast([]int{m, n}, cs, []int{m, n})
	}
	b.Out = []Value{{DType: tensor.Float32, Shape: []int{m, n}}}
	if err := b.Reserve(4 * (kernels.PackedLen(k, n) + m*k)); err != nil {
		return err
	}
	if err := b.Work(int64(m) * int64(n) * int64(k)); err != nil {
		return err
	}
	bp := make([]float32, kernels.PackedLen(k, n))
	at := make([]float32, m*k)
	constB := bv.Const != nil
	packB := func(src []float32) {
		if transB {
			kernels.PackBT(bp, src, k, k, n)
		} else {
			kernels.PackB(bp, src, n, k, n)
		}
	}
	if constB {
		packB(bv.Const.Contiguous().F32())
	}
	scratch := newScratch(b, k)
	kblock := gemmKBlock(m, n, k)
	var xa, yc, cc []float32
	rows := func(w, lo, hi int) {
		kernels.GemmPacked(lo, hi, n, k, xa, k, bp, yc, n, kblock, scratch[w])
		for i := lo; i < hi; i++ {
			row := yc[i*n : (i+1)*n]
			if alpha != 1 {
				for j := range row {
					row[j] *= alpha
				}
			}
			if cc != nil {
				_, ob := bc.offsets(i)
				ib := bc.ib
				if bc.flat {
					ob, ib = i*n, 1
				}
				for j := range row {
					row[j] += beta * cc[ob+j*ib]
				}
			}
		}
	}
	b.Run = func(in, o []*tensor.Tensor) {
		xa, yc, cc = in[0].F32(), o[0].F32(), nil
		if transA {
			transposeInto(at, k, xa, k, m) // A is stored k×m
			xa = at
		}
		if !constB {
			packB(in[1].F32())
		}
		if bc != nil {
			cc = in[2].F32()
		}
		b.Group.For(m, 4, rows)
	}
	return nil
}
