package kernels

import "golang.org/x/sys/cpu"

func init() {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		bestF32, bestInt8 = AVX2, AVX2
		if cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI {
			bestInt8 = VNNI
		}
	}
	f32Impl, i8Impl = bestF32, bestInt8
}

// The assembly routines below are in kernels_amd64.s. They are assembly
// because Go has no stable SIMD API: FMA, VPMADDUBSW and VPDPBUSD cannot be
// written in Go 1.26 without GOEXPERIMENT=simd (which lacks VPDPBUSD).

// dotF32FMA returns Σ a[i]*b[i] for i < k; k is a positive multiple of 8.
//
//go:noescape
func dotF32FMA(a, b *float32, k int) float32

// dotF32x4FMA writes to out the dot products of a with the four rows of b
// at b, b+ldb, b+2·ldb, b+3·ldb (ldb in elements), over k elements; k is a
// positive multiple of 8.
//
//go:noescape
func dotF32x4FMA(a, b *float32, ldb, k int, out *[4]float32)

// dotU8S8AVX2 returns Σ a[i]*b[i] (uint8 × int8 → int32) for i < k with
// VPMADDUBSW/VPMADDWD; k is a positive multiple of 32 and b within
// [MinWeight, MaxWeight] so that no int16 pair sum saturates.
//
//go:noescape
func dotU8S8AVX2(a *uint8, b *int8, k int) int32

// dotU8S8x4AVX2 is dotU8S8AVX2 for four rows of b at stride ldb, as dotF32x4FMA.
//
//go:noescape
func dotU8S8x4AVX2(a *uint8, b *int8, ldb, k int, out *[4]int32)

// dotU8S8VNNI returns Σ a[i]*b[i] with VPDPBUSD on 512-bit vectors; k is a
// positive multiple of 64.
//
//go:noescape
func dotU8S8VNNI(a *uint8, b *int8, k int) int32

// dotU8S8x4VNNI is dotU8S8VNNI for four rows of b at stride ldb.
//
//go:noescape
func dotU8S8x4VNNI(a *uint8, b *int8, ldb, k int, out *[4]int32)

// sgemm6x16FMA writes to the 6×16 block at c (row stride ldc) the product
// of six rows of A (at a, stride lda, k values each) with a panel of B:
// k rows of 16 floats, ldb floats apart (16 when packed); k >= 1. It is an outer-product
// kernel: per k, one broadcast of each A value and eight FMAs, so each
// output is an FMA chain over k from zero. With add != 0 the block is added
// to C (one rounding per element) instead of overwriting it.
//
//go:noescape
func sgemm6x16FMA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, add int)

// gemm8x8x16VNNI writes to the 8×16 int32 block at c (row stride ldc) the
// products of eight uint8 rows of A (at a, stride lda, 4·kq bytes each)
// with a packed int8 panel of B (kq blocks of 16 columns × 4 bytes): per
// block, each A row's 4 bytes are broadcast and VPDPBUSD adds the 4-term
// dot products into 16 int32 columns; eight independent accumulators
// hide its latency. kq >= 1.
//
//go:noescape
func gemm8x8x16VNNI(kq int, a *uint8, lda int, b *int8, c *int32, ldc int)

// gemm8x4x16AVX2 is gemm8x8x16VNNI for four rows, with VPMADDUBSW/VPMADDWD
// on 256-bit vectors; exact while B stays within [MinWeight, MaxWeight].
//
//go:noescape
func gemm8x4x16AVX2(kq int, a *uint8, lda int, b *int8, c *int32, ldc int)

// erfAVX2 evaluates Erf32's rational approximation on n floats (n a
// positive multiple of 8) with the vector constants at c.
//
//go:noescape
func erfAVX2(dst, src *float32, n int, c *[8]float32)

// expAVX2 evaluates Exp32's polynomial on n floats (n a positive multiple
// of 8) with the vector constants at c.
//
//go:noescape
func expAVX2(dst, src *float32, n int, c *[8]float32)

// requantAVX2 is RequantRow's loop over groups of 8 columns: 32-bit
// absolute values, VPMULUDQ products on the even and odd lanes, VPSRLVQ
// shifts, the sign restored, zero point added and the result clamped.
//
//go:noescape
func requantAVX2(groups int, dst, acc, bias *int32, mult *uint32, sE, sO, hE, hO *uint64, zp, lo, hi int32)
