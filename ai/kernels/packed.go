package kernels

import "math"

// Panel is the column width of a packed B matrix.
const Panel = 16

// PackedLen returns the length of a packed k×n matrix.
func PackedLen(k, n int) int { return (n + Panel - 1) / Panel * Panel * k }

// PackB packs the k×n row-major matrix b (row stride ldb) into panels of 16
// columns, each k rows of 16 floats (zero-padded), as GemmPacked expects.
func PackB(dst []float32, b []float32, ldb, k, n int) {
	for p := 0; p*Panel < n; p++ {
		panel := dst[p*Panel*k : (p+1)*Panel*k]
		w := min(Panel, n-p*Panel)
		for i := 0; i < k; i++ {
			row := panel[i*Panel : (i+1)*Panel]
			copy(row[:w], b[i*ldb+p*Panel:i*ldb+p*Panel+w])
			for j := w; j < Panel; j++ {
				row[j] = 0
			}
		}
	}
}

// PackBT packs B given transposed (bt is n×k, row stride ldb) like PackB.
func PackBT(dst []float32, bt []float32, ldb, k, n int) {
	for p := 0; p*Panel < n; p++ {
		panel := dst[p*Panel*k : (p+1)*Panel*k]
		for j := 0; j < Panel; j++ {
			col := p*Panel + j
			for i := 0; i < k; i++ {
				if col < n {
					panel[i*Panel+j] = bt[col*ldb+i]
				} else {
					panel[i*Panel+j] = 0
				}
			}
		}
	}
}

// GemmScratch is per-goroutine scratch memory for GemmPacked.
type GemmScratch struct {
	a []float32 // 4×k rows for the last, partial group of rows
	c [mrF32 * Panel]float32
}

// NewGemmScratch returns scratch for products with inner dimension k.
func NewGemmScratch(k int) *GemmScratch { return &GemmScratch{a: make([]float32, mrF32*k)} }

// mrF32 is the row count of the float32 kernel's blocks (6×16: twelve
// accumulator registers, two for B, one broadcast).
const mrF32 = 6

// KBlock returns the K block length of the float32 GEMM for a product with
// n columns and inner dimension k: ONNX Runtime's MLAS SGEMM rule
// (MLAS_SGEMM_STRIDEN = MLAS_SGEMM_STRIDEK = 128, traded against each other
// for short K or narrow N). GemmPacked sums each output in the same order as
// MLAS with this block length, so the engine and ONNX Runtime's im2col Conv
// and GEMM agree to the bit on the same inputs.
func KBlock(n, k int) int {
	sn, sk := 128, 128
	if n >= k {
		for sk/2 >= k {
			sn *= 2
			sk /= 2
		}
	} else {
		for sn > 16 && sn/2 >= n {
			sk *= 2
			sn /= 2
		}
	}
	return sk
}

// GemmPacked computes rows [m0, m1) of C = A·B: A is M×K row-major (row
// stride lda), B is packed by PackB, C is M×N (row stride ldc) and is
// overwritten. With AVX2+FMA it runs a 4×16 outer-product kernel.
//
// The summation order of every output is fixed: K is cut into blocks of
// kblock (kblock <= 0: one block); within a block the products are
// accumulated with fused multiply-adds, k ascending, starting from zero;
// the block sums are then added to the output one after another. That is
// the order of ONNX Runtime's MLAS SGEMM kernels (with kblock = KBlock(N,
// K)), and it does not depend on how rows are split between threads.
func GemmPacked(m0, m1, n, k int, a []float32, lda int, bp []float32, c []float32, ldc int, kblock int, s *GemmScratch) {
	if k == 0 {
		for i := m0; i < m1; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	if kblock <= 0 {
		kblock = k
	}
	panelBlocks(mrF32, m0, m1, n, k, kblock, a, lda, bp, Panel*k, Panel, c, ldc, s.a, s.c[:], block6x16)
}

// GemmRows is GemmPacked for a B that is not packed: B is K×N row-major
// with row stride ldb >= N rounded up to a multiple of 16, and the columns
// between N and that bound must be readable (their products are computed
// and dropped). It sums in the same order as GemmPacked. Convolutions use
// it to multiply weights by an im2col matrix without repacking it.
func GemmRows(m0, m1, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int, kblock int, s *GemmScratch) {
	if k == 0 {
		for i := m0; i < m1; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	if ldb < (n+Panel-1)/Panel*Panel {
		panic("kernels: GemmRows needs ldb >= N rounded up to 16")
	}
	if kblock <= 0 {
		kblock = k
	}
	panelBlocks(mrF32, m0, m1, n, k, kblock, a, lda, b, Panel, ldb, c, ldc, s.a, s.c[:], block6x16)
}

// rowChunk is how many rows of A panelBlocks sweeps per panel of B: the
// panel (k×16 values) stays in L1 and the chunk of A in L2 while B
// streams through once per chunk.
const rowChunk = 48

// panelBlocks walks C in blocks of mr rows × one 16-column panel and calls
// block for each K block of length kblock (add is false for the first,
// which overwrites C, and true for the others, which add to it). Panel p of
// B starts at bp[p·pstride] and has rows ldb apart. Rows go in chunks of
// rowChunk (a multiple of mr), panel by panel within a chunk. A partial
// block of rows at the bottom goes through the scratch memory sa (mr×k), a
// partial panel at the right through sc (mr×16). The order of the blocks
// does not change how any output is summed. It serves the float32 and the
// int8 GEMMs.
func panelBlocks[TA, TB, TC any](mr, m0, m1, n, k, kblock int, a []TA, lda int, bp []TB, pstride, ldb int, c []TC, ldc int, sa []TA, sc []TC,
	block func(k int, a []TA, lda int, panel []TB, ldb int, c []TC, ldc int, add bool)) {
	if tail := (m1 - m0) % mr; tail != 0 { // copy the last rows into a full block
		var zero TA
		first := m1 - tail
		for r := 0; r < mr; r++ {
			dst := sa[r*k : (r+1)*k]
			if r < tail {
				copy(dst, a[(first+r)*lda:(first+r)*lda+k])
			} else {
				for j := range dst {
					dst[j] = zero
				}
			}
		}
	}
	for c0 := m0; c0 < m1; c0 += rowChunk {
		c1 := min(c0+rowChunk, m1)
		for p := 0; p*Panel < n; p++ {
			w := min(Panel, n-p*Panel)
			panel := bp[p*pstride : p*pstride+(k-1)*ldb+Panel]
			for i := c0; i < c1; i += mr {
				rows := min(mr, c1-i)
				ap, lda2 := a[i*lda:], lda
				if rows < mr {
					ap, lda2 = sa, k
				}
				dst, ldd := c[i*ldc+p*Panel:], ldc
				if rows < mr || w < Panel {
					dst, ldd = sc, Panel
				}
				for k0 := 0; k0 < k; k0 += kblock {
					block(min(kblock, k-k0), ap[k0:], lda2, panel[k0*ldb:], ldb, dst, ldd, k0 > 0)
				}
				if rows < mr || w < Panel {
					for r := 0; r < rows; r++ {
						copy(c[(i+r)*ldc+p*Panel:(i+r)*ldc+p*Panel+w], sc[r*Panel:r*Panel+w])
					}
				}
			}
		}
	}
}

// fma32 is a float32 fused multiply-add, a·b+c (computed in float64 and
// rounded once more to float32, which agrees with a single rounding except
// in rare double-rounding cases).
func fma32(a, b, c float32) float32 {
	return float32(math.FMA(float64(a), float64(b), float64(c)))
}

func block6x16(k int, a []float32, lda int, panel []float32, ldb int, c []float32, ldc int, add bool) {
	if f32Impl != Generic {
		_ = a[(mrF32-1)*lda+k-1] // bounds: the kernel reads 6 rows of k values
		_ = panel[(k-1)*ldb+Panel-1]
		_ = c[(mrF32-1)*ldc+Panel-1]
		acc := 0
		if add {
			acc = 1
		}
		sgemm6x16FMA(k, &a[0], lda, &panel[0], ldb, &c[0], ldc, acc)
		return
	}
	var acc [mrF32][Panel]float32
	for q := 0; q < k; q++ {
		b := panel[q*ldb : q*ldb+Panel]
		for r := 0; r < mrF32; r++ {
			av := a[r*lda+q]
			for j, bv := range b {
				acc[r][j] = fma32(av, bv, acc[r][j])
			}
		}
	}
	for r := 0; r < mrF32; r++ {
		cr := c[r*ldc : r*ldc+Panel]
		if add {
			for j := range cr {
				cr[j] += acc[r][j]
			}
			continue
		}
		copy(cr, acc[r][:])
	}
}
