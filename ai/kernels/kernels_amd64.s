#include "textflag.h"

// func dotF32FMA(a, b *float32, k int) float32
TEXT ·dotF32FMA(SB), NOSPLIT, $0-28
	MOVQ   a+0(FP), SI
	MOVQ   b+8(FP), DI
	MOVQ   k+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1

loop16:
	CMPQ        CX, $16
	JL          tail8
	VMOVUPS     (SI), Y2
	VMOVUPS     32(SI), Y3
	VFMADD231PS (DI), Y2, Y0   // Y0 += a[0:8]*b[0:8]
	VFMADD231PS 32(DI), Y3, Y1 // Y1 += a[8:16]*b[8:16]
	ADDQ        $64, SI
	ADDQ        $64, DI
	SUBQ        $16, CX
	JMP         loop16

tail8:
	CMPQ        CX, $8
	JL          reduce
	VMOVUPS     (SI), Y2
	VFMADD231PS (DI), Y2, Y0

reduce:
	VADDPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	VZEROUPPER
	MOVSS        X0, ret+24(FP)
	RET

// func dotF32x4FMA(a, b *float32, ldb, k int, out *[4]float32)
TEXT ·dotF32x4FMA(SB), NOSPLIT, $0-40
	MOVQ   a+0(FP), SI
	MOVQ   b+8(FP), DI
	MOVQ   ldb+16(FP), R8
	SHLQ   $2, R8              // row stride in bytes
	MOVQ   k+24(FP), CX
	MOVQ   out+32(FP), DX
	LEAQ   (DI)(R8*1), R9      // row 1
	LEAQ   (R9)(R8*1), R10     // row 2
	LEAQ   (R10)(R8*1), R11    // row 3
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX              // byte offset

loop:
	VMOVUPS     (SI)(AX*1), Y4
	VFMADD231PS (DI)(AX*1), Y4, Y0
	VFMADD231PS (R9)(AX*1), Y4, Y1
	VFMADD231PS (R10)(AX*1), Y4, Y2
	VFMADD231PS (R11)(AX*1), Y4, Y3
	ADDQ        $32, AX
	SUBQ        $8, CX
	JNZ         loop

	VHADDPS      Y1, Y0, Y0    // per 128-bit lane: a01 a23 b01 b23
	VHADDPS      Y3, Y2, Y2    // c01 c23 d01 d23
	VHADDPS      Y2, Y0, Y0    // a b c d (each half of the sum)
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVUPS      X0, (DX)
	VZEROUPPER
	RET

// func dotU8S8AVX2(a *uint8, b *int8, k int) int32
TEXT ·dotU8S8AVX2(SB), NOSPLIT, $0-28
	MOVQ     a+0(FP), SI
	MOVQ     b+8(FP), DI
	MOVQ     k+16(FP), CX
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15     // sixteen int16 ones
	VPXOR    Y0, Y0, Y0

loop:
	VMOVDQU    (SI), Y1
	VPMADDUBSW (DI), Y1, Y2    // int16 pairs: a[2i]*b[2i] + a[2i+1]*b[2i+1]
	VPMADDWD   Y15, Y2, Y2     // int32 sums of adjacent pairs
	VPADDD     Y2, Y0, Y0
	ADDQ       $32, SI
	ADDQ       $32, DI
	SUBQ       $32, CX
	JNZ        loop

	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4e, X0, X1 // swap 64-bit halves
	VPADDD       X1, X0, X0
	VPSHUFD      $0xb1, X0, X1 // swap 32-bit neighbours
	VPADDD       X1, X0, X0
	VMOVD        X0, AX
	VZEROUPPER
	MOVL         AX, ret+24(FP)
	RET

// func dotU8S8x4AVX2(a *uint8, b *int8, ldb, k int, out *[4]int32)
TEXT ·dotU8S8x4AVX2(SB), NOSPLIT, $0-40
	MOVQ     a+0(FP), SI
	MOVQ     b+8(FP), DI
	MOVQ     ldb+16(FP), R8
	MOVQ     k+24(FP), CX
	MOVQ     out+32(FP), DX
	LEAQ     (DI)(R8*1), R9
	LEAQ     (R9)(R8*1), R10
	LEAQ     (R10)(R8*1), R11
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15
	VPXOR    Y0, Y0, Y0
	VPXOR    Y1, Y1, Y1
	VPXOR    Y2, Y2, Y2
	VPXOR    Y3, Y3, Y3
	XORQ     AX, AX

loop:
	VMOVDQU    (SI)(AX*1), Y4
	VPMADDUBSW (DI)(AX*1), Y4, Y5
	VPMADDWD   Y15, Y5, Y5
	VPADDD     Y5, Y0, Y0
	VPMADDUBSW (R9)(AX*1), Y4, Y6
	VPMADDWD   Y15, Y6, Y6
	VPADDD     Y6, Y1, Y1
	VPMADDUBSW (R10)(AX*1), Y4, Y7
	VPMADDWD   Y15, Y7, Y7
	VPADDD     Y7, Y2, Y2
	VPMADDUBSW (R11)(AX*1), Y4, Y8
	VPMADDWD   Y15, Y8, Y8
	VPADDD     Y8, Y3, Y3
	ADDQ       $32, AX
	SUBQ       $32, CX
	JNZ        loop

	VPHADDD      Y1, Y0, Y0
	VPHADDD      Y3, Y2, Y2
	VPHADDD      Y2, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VMOVDQU      X0, (DX)
	VZEROUPPER
	RET

// func dotU8S8VNNI(a *uint8, b *int8, k int) int32
TEXT ·dotU8S8VNNI(SB), NOSPLIT, $0-28
	MOVQ   a+0(FP), SI
	MOVQ   b+8(FP), DI
	MOVQ   k+16(FP), CX
	VPXORD Z0, Z0, Z0

loop:
	VMOVDQU8 (SI), Z1
	VPDPBUSD (DI), Z1, Z0      // Z0 += Σ4 a(u8)·b(s8) per int32 lane
	ADDQ     $64, SI
	ADDQ     $64, DI
	SUBQ     $64, CX
	JNZ      loop

	VEXTRACTI64X4 $1, Z0, Y1
	VPADDD        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0x4e, X0, X1
	VPADDD        X1, X0, X0
	VPSHUFD       $0xb1, X0, X1
	VPADDD        X1, X0, X0
	VMOVD         X0, AX
	VZEROUPPER
	MOVL          AX, ret+24(FP)
	RET

// func dotU8S8x4VNNI(a *uint8, b *int8, ldb, k int, out *[4]int32)
TEXT ·dotU8S8x4VNNI(SB), NOSPLIT, $0-40
	MOVQ   a+0(FP), SI
	MOVQ   b+8(FP), DI
	MOVQ   ldb+16(FP), R8
	MOVQ   k+24(FP), CX
	MOVQ   out+32(FP), DX
	LEAQ   (DI)(R8*1), R9
	LEAQ   (R9)(R8*1), R10
	LEAQ   (R10)(R8*1), R11
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	XORQ   AX, AX

loop:
	VMOVDQU8 (SI)(AX*1), Z4
	VPDPBUSD (DI)(AX*1), Z4, Z0
	VPDPBUSD (R9)(AX*1), Z4, Z1
	VPDPBUSD (R10)(AX*1), Z4, Z2
	VPDPBUSD (R11)(AX*1), Z4, Z3
	ADDQ     $64, AX
	SUBQ     $64, CX
	JNZ      loop

	VEXTRACTI64X4 $1, Z0, Y4
	VPADDD        Y4, Y0, Y0
	VEXTRACTI64X4 $1, Z1, Y4
	VPADDD        Y4, Y1, Y1
	VEXTRACTI64X4 $1, Z2, Y4
	VPADDD        Y4, Y2, Y2
	VEXTRACTI64X4 $1, Z3, Y4
	VPADDD        Y4, Y3, Y3
	VPHADDD       Y1, Y0, Y0
	VPHADDD       Y3, Y2, Y2
	VPHADDD       Y2, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDD        X1, X0, X0
	VMOVDQU       X0, (DX)
	VZEROUPPER
	RET

// func sgemm6x16FMA(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, add int)
TEXT ·sgemm6x16FMA(SB), NOSPLIT, $0-64
	MOVQ   k+0(FP), CX
	MOVQ   a+8(FP), SI         // A rows 0-2: (SI), (SI)(R8*1), (SI)(R8*2)
	MOVQ   lda+16(FP), R8
	SHLQ   $2, R8              // A row stride in bytes
	LEAQ   (SI)(R8*2), R10
	ADDQ   R8, R10             // A rows 3-5: (R10), (R10)(R8*1), (R10)(R8*2)
	MOVQ   b+24(FP), DI        // panel: k rows of 16 floats
	MOVQ   ldb+32(FP), BX
	SHLQ   $2, BX              // B row stride in bytes
	MOVQ   c+40(FP), DX
	MOVQ   ldc+48(FP), R9
	SHLQ   $2, R9              // C row stride in bytes
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

loop6:
	VMOVUPS      (DI), Y12     // B[k][0:8]
	VMOVUPS      32(DI), Y13   // B[k][8:16]
	VBROADCASTSS (SI), Y14
	VFMADD231PS  Y12, Y14, Y0
	VFMADD231PS  Y13, Y14, Y1
	VBROADCASTSS (SI)(R8*1), Y14
	VFMADD231PS  Y12, Y14, Y2
	VFMADD231PS  Y13, Y14, Y3
	VBROADCASTSS (SI)(R8*2), Y14
	VFMADD231PS  Y12, Y14, Y4
	VFMADD231PS  Y13, Y14, Y5
	VBROADCASTSS (R10), Y14
	VFMADD231PS  Y12, Y14, Y6
	VFMADD231PS  Y13, Y14, Y7
	VBROADCASTSS (R10)(R8*1), Y14
	VFMADD231PS  Y12, Y14, Y8
	VFMADD231PS  Y13, Y14, Y9
	VBROADCASTSS (R10)(R8*2), Y14
	VFMADD231PS  Y12, Y14, Y10
	VFMADD231PS  Y13, Y14, Y11
	ADDQ         BX, DI
	ADDQ         $4, SI
	ADDQ         $4, R10
	DECQ         CX
	JNZ          loop6

	MOVQ    add+56(FP), CX
	TESTQ   CX, CX
	JZ      store6
	MOVQ    DX, R13            // add the block to C: C + acc, rounded once
	VADDPS  (R13), Y0, Y0
	VADDPS  32(R13), Y1, Y1
	ADDQ    R9, R13
	VADDPS  (R13), Y2, Y2
	VADDPS  32(R13), Y3, Y3
	ADDQ    R9, R13
	VADDPS  (R13), Y4, Y4
	VADDPS  32(R13), Y5, Y5
	ADDQ    R9, R13
	VADDPS  (R13), Y6, Y6
	VADDPS  32(R13), Y7, Y7
	ADDQ    R9, R13
	VADDPS  (R13), Y8, Y8
	VADDPS  32(R13), Y9, Y9
	ADDQ    R9, R13
	VADDPS  (R13), Y10, Y10
	VADDPS  32(R13), Y11, Y11

store6:
	VMOVUPS Y0, (DX)
	VMOVUPS Y1, 32(DX)
	ADDQ    R9, DX
	VMOVUPS Y2, (DX)
	VMOVUPS Y3, 32(DX)
	ADDQ    R9, DX
	VMOVUPS Y4, (DX)
	VMOVUPS Y5, 32(DX)
	ADDQ    R9, DX
	VMOVUPS Y6, (DX)
	VMOVUPS Y7, 32(DX)
	ADDQ    R9, DX
	VMOVUPS Y8, (DX)
	VMOVUPS Y9, 32(DX)
	ADDQ    R9, DX
	VMOVUPS Y10, (DX)
	VMOVUPS Y11, 32(DX)
	VZEROUPPER
	RET

// func gemm8x8x16VNNI(kq int, a *uint8, lda int, b *int8, c *int32, ldc int)
TEXT ·gemm8x8x16VNNI(SB), NOSPLIT, $0-48
	MOVQ   kq+0(FP), CX
	MOVQ   a+8(FP), SI         // rows 0-2: (SI), (SI)(R8*1), (SI)(R8*2)
	MOVQ   lda+16(FP), R8
	MOVQ   b+24(FP), DI        // packed panel: kq blocks of 16 columns × 4 bytes
	MOVQ   c+32(FP), DX
	MOVQ   ldc+40(FP), R9
	SHLQ   $2, R9              // C row stride in bytes
	LEAQ   (SI)(R8*2), R10
	ADDQ   R8, R10             // rows 3-5: (R10), (R10)(R8*1), (R10)(R8*2)
	LEAQ   (R10)(R8*2), R11
	ADDQ   R8, R11             // rows 6-7: (R11), (R11)(R8*1)
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

loop8:
	VMOVDQU8     (DI), Z8      // B[4kk..4kk+3][0..15]
	VPBROADCASTD (SI), Z9      // A row 0, bytes 4kk..4kk+3, in every lane
	VPDPBUSD     Z8, Z9, Z0
	VPBROADCASTD (SI)(R8*1), Z10
	VPDPBUSD     Z8, Z10, Z1
	VPBROADCASTD (SI)(R8*2), Z11
	VPDPBUSD     Z8, Z11, Z2
	VPBROADCASTD (R10), Z12
	VPDPBUSD     Z8, Z12, Z3
	VPBROADCASTD (R10)(R8*1), Z13
	VPDPBUSD     Z8, Z13, Z4
	VPBROADCASTD (R10)(R8*2), Z14
	VPDPBUSD     Z8, Z14, Z5
	VPBROADCASTD (R11), Z16
	VPDPBUSD     Z8, Z16, Z6
	VPBROADCASTD (R11)(R8*1), Z17
	VPDPBUSD     Z8, Z17, Z7
	ADDQ         $64, DI
	ADDQ         $4, SI
	ADDQ         $4, R10
	ADDQ         $4, R11
	DECQ         CX
	JNZ          loop8

	VMOVDQU32 Z0, (DX)
	ADDQ      R9, DX
	VMOVDQU32 Z1, (DX)
	ADDQ      R9, DX
	VMOVDQU32 Z2, (DX)
	ADDQ      R9, DX
	VMOVDQU32 Z3, (DX)
	ADDQ      R9, DX
	VMOVDQU32 Z4, (DX)
	ADDQ      R9, DX
	VMOVDQU32 Z5, (DX)
	ADDQ      R9, DX
	VMOVDQU32 Z6, (DX)
	ADDQ      R9, DX
	VMOVDQU32 Z7, (DX)
	VZEROUPPER
	RET

// func gemm8x4x16AVX2(kq int, a *uint8, lda int, b *int8, c *int32, ldc int)
TEXT ·gemm8x4x16AVX2(SB), NOSPLIT, $0-48
	MOVQ     kq+0(FP), CX
	MOVQ     a+8(FP), SI
	MOVQ     lda+16(FP), R8
	MOVQ     b+24(FP), DI
	MOVQ     c+32(FP), DX
	MOVQ     ldc+40(FP), R9
	SHLQ     $2, R9
	LEAQ     (SI)(R8*1), R10
	LEAQ     (R10)(R8*1), R11
	LEAQ     (R11)(R8*1), R12
	VPCMPEQW Y15, Y15, Y15
	VPSRLW   $15, Y15, Y15     // sixteen int16 ones
	VPXOR    Y0, Y0, Y0
	VPXOR    Y1, Y1, Y1
	VPXOR    Y2, Y2, Y2
	VPXOR    Y3, Y3, Y3
	VPXOR    Y4, Y4, Y4
	VPXOR    Y5, Y5, Y5
	VPXOR    Y6, Y6, Y6
	VPXOR    Y7, Y7, Y7
	XORQ     AX, AX

loop:
	VMOVDQU      (DI), Y8      // columns 0-7, 4 bytes each
	VMOVDQU      32(DI), Y9    // columns 8-15
	VPBROADCASTD (SI)(AX*1), Y10
	VPMADDUBSW   Y8, Y10, Y11  // int16 pair sums (cannot saturate: |b| <= 64)
	VPMADDWD     Y15, Y11, Y11 // int32 sums of 4 products per column
	VPADDD       Y11, Y0, Y0
	VPMADDUBSW   Y9, Y10, Y12
	VPMADDWD     Y15, Y12, Y12
	VPADDD       Y12, Y1, Y1
	VPBROADCASTD (R10)(AX*1), Y10
	VPMADDUBSW   Y8, Y10, Y11
	VPMADDWD     Y15, Y11, Y11
	VPADDD       Y11, Y2, Y2
	VPMADDUBSW   Y9, Y10, Y12
	VPMADDWD     Y15, Y12, Y12
	VPADDD       Y12, Y3, Y3
	VPBROADCASTD (R11)(AX*1), Y10
	VPMADDUBSW   Y8, Y10, Y11
	VPMADDWD     Y15, Y11, Y11
	VPADDD       Y11, Y4, Y4
	VPMADDUBSW   Y9, Y10, Y12
	VPMADDWD     Y15, Y12, Y12
	VPADDD       Y12, Y5, Y5
	VPBROADCASTD (R12)(AX*1), Y10
	VPMADDUBSW   Y8, Y10, Y11
	VPMADDWD     Y15, Y11, Y11
	VPADDD       Y11, Y6, Y6
	VPMADDUBSW   Y9, Y10, Y12
	VPMADDWD     Y15, Y12, Y12
	VPADDD       Y12, Y7, Y7
	ADDQ         $64, DI
	ADDQ         $4, AX
	DECQ         CX
	JNZ          loop

	VMOVDQU Y0, (DX)
	VMOVDQU Y1, 32(DX)
	ADDQ    R9, DX
	VMOVDQU Y2, (DX)
	VMOVDQU Y3, 32(DX)
	ADDQ    R9, DX
	VMOVDQU Y4, (DX)
	VMOVDQU Y5, 32(DX)
	ADDQ    R9, DX
	VMOVDQU Y6, (DX)
	VMOVDQU Y7, 32(DX)
	VZEROUPPER
	RET

// func erfAVX2(dst, src *float32, n int, c *[8]float32)
// c: 14 vector constants: -4, 4, P[0..6], Q[0..4] (see fastmath.go).
TEXT ·erfAVX2(SB), NOSPLIT, $0-32
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), SI
	MOVQ    n+16(FP), CX
	MOVQ    c+24(FP), R8
	VMOVUPS 0(R8), Y14         // -4
	VMOVUPS 32(R8), Y15        // 4

loop:
	VMOVUPS     (SI), Y0
	VMAXPS      Y14, Y0, Y0    // clamp to [-4, 4]
	VMINPS      Y15, Y0, Y0
	VMULPS      Y0, Y0, Y1     // x²
	VMOVUPS     64(R8), Y2     // p = P0
	VFMADD213PS 96(R8), Y1, Y2 // p = x²·p + P1
	VFMADD213PS 128(R8), Y1, Y2
	VFMADD213PS 160(R8), Y1, Y2
	VFMADD213PS 192(R8), Y1, Y2
	VFMADD213PS 224(R8), Y1, Y2
	VFMADD213PS 256(R8), Y1, Y2
	VMULPS      Y0, Y2, Y2     // p = x·p
	VMOVUPS     288(R8), Y3    // q = Q0
	VFMADD213PS 320(R8), Y1, Y3
	VFMADD213PS 352(R8), Y1, Y3
	VFMADD213PS 384(R8), Y1, Y3
	VFMADD213PS 416(R8), Y1, Y3
	VDIVPS      Y3, Y2, Y2     // p / q
	VMOVUPS     Y2, (DI)
	ADDQ        $32, SI
	ADDQ        $32, DI
	SUBQ        $8, CX
	JNZ         loop
	VZEROUPPER
	RET

// func expAVX2(dst, src *float32, n int, c *[8]float32)
// c: 13 vector constants: lo, hi, log2(e), 0.5, C1, C2, P[0..5], 1.
TEXT ·expAVX2(SB), NOSPLIT, $0-32
	MOVQ     dst+0(FP), DI
	MOVQ     src+8(FP), SI
	MOVQ     n+16(FP), CX
	MOVQ     c+24(FP), R8
	VMOVUPS  0(R8), Y14        // lo
	VMOVUPS  32(R8), Y15       // hi
	VPCMPEQD Y13, Y13, Y13
	VPSRLD   $25, Y13, Y13     // 127 in each int32 lane
	VMOVUPS  128(R8), Y12      // C1
	VMOVUPS  160(R8), Y11      // C2

loop:
	VMOVUPS      (SI), Y0
	VMAXPS       Y14, Y0, Y0
	VMINPS       Y15, Y0, Y0
	VMOVUPS      64(R8), Y1    // log2(e)
	VFMADD213PS  96(R8), Y0, Y1 // t = x·log2(e) + 0.5
	VROUNDPS     $1, Y1, Y1    // fx = floor(t)
	VFNMADD231PS Y12, Y1, Y0   // x -= fx·C1
	VFNMADD231PS Y11, Y1, Y0   // x -= fx·C2
	VMULPS       Y0, Y0, Y2    // z = x²
	VMOVUPS      192(R8), Y3   // y = P0
	VFMADD213PS  224(R8), Y0, Y3
	VFMADD213PS  256(R8), Y0, Y3
	VFMADD213PS  288(R8), Y0, Y3
	VFMADD213PS  320(R8), Y0, Y3
	VFMADD213PS  352(R8), Y0, Y3
	VFMADD213PS  Y0, Y2, Y3    // y = z·y + x
	VADDPS       384(R8), Y3, Y3 // y += 1
	VCVTPS2DQ    Y1, Y1        // fx as int32
	VPADDD       Y13, Y1, Y1   // + 127
	VPSLLD       $23, Y1, Y1   // 2^fx as float32 bits
	VMULPS       Y1, Y3, Y3
	VMOVUPS      Y3, (DI)
	ADDQ         $32, SI
	ADDQ         $32, DI
	SUBQ         $8, CX
	JNZ          loop
	VZEROUPPER
	RET

// func requantAVX2(groups int, dst, acc, bias *int32, mult *uint32, sE, sO, hE, hO *uint64, zp, lo, hi int32)
TEXT ·requantAVX2(SB), NOSPLIT, $0-84
	MOVQ         groups+0(FP), CX
	MOVQ         dst+8(FP), DI
	MOVQ         acc+16(FP), SI
	MOVQ         bias+24(FP), DX
	MOVQ         mult+32(FP), R8
	MOVQ         sE+40(FP), R9
	MOVQ         sO+48(FP), R10
	MOVQ         hE+56(FP), R11
	MOVQ         hO+64(FP), R12
	MOVL         zp+72(FP), AX
	VMOVD        AX, X13
	VPBROADCASTD X13, Y13
	MOVL         lo+76(FP), AX
	VMOVD        AX, X14
	VPBROADCASTD X14, Y14
	MOVL         hi+80(FP), AX
	VMOVD        AX, X1
	VPBROADCASTD X1, Y1

rqloop:
	VMOVDQU   (SI), Y0
	VPADDD    (DX), Y0, Y0      // a = acc + bias
	VPSRAD    $31, Y0, Y2       // sign mask
	VPABSD    Y0, Y3            // |a| (as uint32)
	VMOVDQU   (R8), Y4          // multipliers
	VPMULUDQ  Y4, Y3, Y5        // even lanes: |a|·mult, 64-bit
	VPSRLQ    $32, Y3, Y6
	VPSRLQ    $32, Y4, Y7
	VPMULUDQ  Y7, Y6, Y8        // odd lanes
	VPADDQ    (R11), Y5, Y5     // + half
	VPADDQ    (R12), Y8, Y8
	VMOVDQU   (R9), Y9
	VPSRLVQ   Y9, Y5, Y5        // >> s
	VMOVDQU   (R10), Y10
	VPSRLVQ   Y10, Y8, Y8
	VPSLLQ    $32, Y8, Y8
	VPBLENDD  $0xAA, Y8, Y5, Y5 // low dwords: even lanes from Y5, odd from Y8
	VPXOR     Y2, Y5, Y5        // restore the sign
	VPSUBD    Y2, Y5, Y5
	VPADDD    Y13, Y5, Y5       // + zero point
	VPMAXSD   Y14, Y5, Y5
	VPMINSD   Y1, Y5, Y5
	VMOVDQU   Y5, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DX
	ADDQ      $32, R8
	ADDQ      $32, R9
	ADDQ      $32, R10
	ADDQ      $32, R11
	ADDQ      $32, R12
	ADDQ      $32, DI
	DECQ      CX
	JNZ       rqloop
	VZEROUPPER
	RET
