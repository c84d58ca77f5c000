//go:build !amd64

package kernels

func dotF32FMA(a, b *float32, k int) float32                     { panic("unreachable") }
func dotF32x4FMA(a, b *float32, ldb, k int, out *[4]float32)     { panic("unreachable") }
func dotU8S8AVX2(a *uint8, b *int8, k int) int32                 { panic("unreachable") }
func dotU8S8x4AVX2(a *uint8, b *int8, ldb, k int, out *[4]int32) { panic("unreachable") }
func dotU8S8VNNI(a *uint8, b *int8, k int) int32                 { panic("unreachable") }
func dotU8S8x4VNNI(a *uint8, b *int8, ldb, k int, out *[4]int32) { panic("unreachable") }

func gemm8x8x16VNNI(kq int, a *uint8, lda int, b *int8, c *int32, ldc int) { panic("unreachable") }
func gemm8x4x16AVX2(kq int, a *uint8, lda int, b *int8, c *int32, ldc int) { panic("unreachable") }
func erfAVX2(dst, src *float32, n int, c *[8]float32)                      { panic("unreachable") }
func expAVX2(dst, src *float32, n int, c *[8]float32)                      { panic("unreachable") }
func sgemm6x16FMA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, add int) {
	panic("unreachable")
}

func requantAVX2(groups int, dst, acc, bias *int32, mult *uint32, sE, sO, hE, hO *uint64, zp, lo, hi int32) {
	panic("unreachable")
}
