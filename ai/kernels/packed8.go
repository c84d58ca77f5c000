package kernels

// Packed int8 GEMM: B is stored in panels of 16 columns; within a panel,
// each block of 4 consecutive k holds the 4 bytes of column 0, then of
// column 1, ... (64 bytes), which is the operand layout of VPDPBUSD.

// PackedLen8 returns the length of a packed k×n int8 matrix (k a multiple
// of KAlign).
func PackedLen8(k, n int) int { return (n + Panel - 1) / Panel * Panel * k }

// PackB8 packs B given transposed (bt is n×k int8, row stride ldb, the
// layout of the unpacked kernels) into panels; k is a multiple of KAlign
// and bt rows hold zeros beyond the real K.
func PackB8(dst []int8, bt []int8, ldb, k, n int) {
	for p := 0; p*Panel < n; p++ {
		panel := dst[p*Panel*k : (p+1)*Panel*k]
		for kk := 0; kk < k/4; kk++ {
			blk := panel[kk*4*Panel : (kk+1)*4*Panel]
			for j := 0; j < Panel; j++ {
				col := p*Panel + j
				for t := 0; t < 4; t++ {
					if col < n {
						blk[j*4+t] = bt[col*ldb+kk*4+t]
					} else {
						blk[j*4+t] = 0
					}
				}
			}
		}
	}
}

// Gemm8Scratch is per-goroutine scratch memory for GemmU8S8Packed.
type Gemm8Scratch struct {
	a []uint8
	c [mrI8 * Panel]int32
}

// NewGemm8Scratch returns scratch for products with inner dimension k.
func NewGemm8Scratch(k int) *Gemm8Scratch { return &Gemm8Scratch{a: make([]uint8, mrI8*k)} }

// mrI8 is the row count of the int8 GEMM's blocks: one 8-row VNNI kernel
// call, or two 4-row calls of the AVX2 kernel.
const mrI8 = 8

// GemmU8S8Packed computes rows [m0, m1) of C = A·B in int32: A is M×K
// uint8 (row stride lda, K a multiple of KAlign), B packed by PackB8, C is
// M×N (row stride ldc), overwritten. The result is the exact integer
// product with every implementation.
func GemmU8S8Packed(m0, m1, n, k int, a []uint8, lda int, bp []int8, c []int32, ldc int, s *Gemm8Scratch) {
	if k <= 0 || k%KAlign != 0 {
		panic("kernels: GemmU8S8Packed needs K to be a positive multiple of KAlign")
	}
	panelBlocks(mrI8, m0, m1, n, k, k, a, lda, bp, Panel*k, Panel, c, ldc, s.a, s.c[:], block8)
}

func block8(k int, a []uint8, lda int, panel []int8, _ int, c []int32, ldc int, _ bool) { // packed, one K block
	if i8Impl != Generic {
		_ = a[(mrI8-1)*lda+k-1] // bounds: the kernels read 8 rows of k bytes
		_ = panel[Panel*k-1]
		_ = c[(mrI8-1)*ldc+Panel-1]
		if i8Impl == VNNI {
			gemm8x8x16VNNI(k/4, &a[0], lda, &panel[0], &c[0], ldc)
			return
		}
		gemm8x4x16AVX2(k/4, &a[0], lda, &panel[0], &c[0], ldc)
		gemm8x4x16AVX2(k/4, &a[4*lda], lda, &panel[0], &c[4*ldc], ldc)
		return
	}
	var acc [mrI8][Panel]int32
	for kk := 0; kk < k/4; kk++ {
		blk := panel[kk*4*Panel : (kk+1)*4*Panel]
		for r := 0; r < mrI8; r++ {
			av := a[r*lda+kk*4 : r*lda+kk*4+4]
			for j := 0; j < Panel; j++ {
				b := blk[j*4 : j*4+4]
				acc[r][j] += int32(av[0])*int32(b[0]) + int32(av[1])*int32(b[1]) + int32(av[2])*int32(b[2]) + int32(av[3])*int32(b[3])
			}
		}
	}
	for r := 0; r < mrI8; r++ {
		copy(c[r*ldc:r*ldc+Panel], acc[r][:])
	}
}
