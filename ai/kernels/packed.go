package kernels

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
	c [4 * Panel]float32
}

// NewGemmScratch returns scratch for products with inner dimension k.
func NewGemmScratch(k int) *GemmScratch { return &GemmScratch{a: make([]float32, 4*k)} }

// GemmPacked computes rows [m0, m1) of C = A·B: A is M×K row-major (row
// stride lda), B is packed by PackB, C is M×N (row stride ldc) and is
// overwritten. With AVX2+FMA it runs a 4×16 outer-product kernel.
func GemmPacked(m0, m1, n, k int, a []float32, lda int, bp []float32, c []float32, ldc int, s *GemmScratch) {
	if k == 0 {
		for i := m0; i < m1; i++ {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	panelBlocks(m0, m1, n, k, a, lda, bp, c, ldc, s.a, s.c[:], block4x16)
}

// panelBlocks walks C in blocks of 4 rows × one 16-column panel and calls
// block for each; partial blocks at the bottom and right edges go through
// the scratch memory sa (4×k) and sc (4×16). It serves the float32 and the
// int8 packed GEMMs.
func panelBlocks[TA, TB, TC any](m0, m1, n, k int, a []TA, lda int, bp []TB, c []TC, ldc int, sa []TA, sc []TC,
	block func(k int, a []TA, lda int, panel []TB, c []TC, ldc int)) {
	var zero TA
	for i := m0; i < m1; i += 4 {
		rows := min(4, m1-i)
		ap, lda2 := a[i*lda:], lda
		if rows < 4 { // copy the last rows into a 4-row block
			for r := 0; r < 4; r++ {
				dst := sa[r*k : (r+1)*k]
				if r < rows {
					copy(dst, a[(i+r)*lda:(i+r)*lda+k])
				} else {
					for j := range dst {
						dst[j] = zero
					}
				}
			}
			ap, lda2 = sa, k
		}
		for p := 0; p*Panel < n; p++ {
			w := min(Panel, n-p*Panel)
			panel := bp[p*Panel*k : (p+1)*Panel*k]
			if rows == 4 && w == Panel {
				block(k, ap, lda2, panel, c[i*ldc+p*Panel:], ldc)
				continue
			}
			block(k, ap, lda2, panel, sc, Panel)
			for r := 0; r < rows; r++ {
				copy(c[(i+r)*ldc+p*Panel:(i+r)*ldc+p*Panel+w], sc[r*Panel:r*Panel+w])
			}
		}
	}
}

func block4x16(k int, a []float32, lda int, panel []float32, c []float32, ldc int) {
	if f32Impl != Generic {
		_ = a[3*lda+k-1] // bounds: the kernel reads 4 rows of k values
		_ = panel[Panel*k-1]
		_ = c[3*ldc+Panel-1]
		sgemm4x16FMA(k, &a[0], lda, &panel[0], &c[0], ldc)
		return
	}
	var acc [4][Panel]float32
	for q := 0; q < k; q++ {
		b := panel[q*Panel : (q+1)*Panel]
		for r := 0; r < 4; r++ {
			av := a[r*lda+q]
			for j, bv := range b {
				acc[r][j] += av * bv
			}
		}
	}
	for r := 0; r < 4; r++ {
		copy(c[r*ldc:r*ldc+Panel], acc[r][:])
	}
}
