// Package kernels holds the engine's compute loops: float32 dot products and
// GEMM, and u8×s8→int32 dot products and GEMM, each as a pure-Go reference
// plus amd64 assembly (AVX2+FMA for float32; AVX2 VPMADDUBSW/VPMADDWD and
// AVX-512 VNNI VPDPBUSD for int8) chosen by CPUID at start-up.
//
// Integer kernels give results identical to the pure-Go reference on every
// machine, provided the int8 operand stays in [-64, 63] (see MinWeight): with
// that range VPMADDUBSW's int16 pair sums cannot saturate, so all three
// implementations compute the exact integer dot product.
package kernels

// Impl names an implementation of the kernels.
type Impl int

// The implementations, from slowest to fastest.
const (
	Generic Impl = iota // pure Go
	AVX2                // AVX2 (+FMA for float32)
	VNNI                // AVX-512 VNNI for int8 (float32 uses AVX2+FMA)
)

// String returns the implementation's name.
func (i Impl) String() string {
	switch i {
	case Generic:
		return "generic"
	case AVX2:
		return "avx2"
	case VNNI:
		return "avx512vnni"
	}
	return "unknown"
}

// The int8 weight range that keeps the AVX2 path exact.
const (
	MinWeight = -64
	MaxWeight = 63
)

// KAlign is the multiple of K to which int8 rows must be padded (with
// zeros) before calling the int8 kernels.
const KAlign = 64

// PadK rounds k up to a multiple of KAlign.
func PadK(k int) int { return (k + KAlign - 1) / KAlign * KAlign }

var (
	f32Impl  = Generic
	i8Impl   = Generic
	bestF32  = Generic
	bestInt8 = Generic
)

// Best returns the fastest float32 and int8 implementations this CPU runs.
func Best() (f32, int8 Impl) { return bestF32, bestInt8 }

// Current returns the implementations in use.
func Current() (f32, int8 Impl) { return f32Impl, i8Impl }

// Use selects implementations (clamped to what the CPU supports) and returns
// the previous selection; tests use it to compare implementations.
func Use(f32, int8 Impl) (prevF32, prevInt8 Impl) {
	prevF32, prevInt8 = f32Impl, i8Impl
	if f32 > bestF32 {
		f32 = bestF32
	}
	if int8 > bestInt8 {
		int8 = bestInt8
	}
	f32Impl, i8Impl = f32, int8
	return
}

// DotF32 returns the dot product of a and b[:len(a)].
func DotF32(a, b []float32) float32 {
	k := len(a)
	b = b[:k]
	if f32Impl != Generic && k >= 8 {
		k8 := k &^ 7
		s := dotF32FMA(&a[0], &b[0], k8)
		for i := k8; i < k; i++ {
			s += a[i] * b[i]
		}
		return s
	}
	return dotF32Go(a, b)
}

func dotF32Go(a, b []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// GemmF32 computes rows [m0, m1) of C = A·Btᵀ: A is M×K (row stride lda),
// Bt is N×K (row stride ldb, so B is given transposed), C is M×N (row stride
// ldc). bias, when not nil, is added per column n; when biasRow is true it
// is added per row m instead.
func GemmF32(m0, m1, n, k int, a []float32, lda int, bt []float32, ldb int, c []float32, ldc int, bias []float32, biasRow bool) {
	k8 := k &^ 7
	useAsm := f32Impl != Generic && k8 > 0
	var out [4]float32
	for i := m0; i < m1; i++ {
		ar := a[i*lda : i*lda+k]
		cr := c[i*ldc : i*ldc+n]
		j := 0
		if useAsm {
			for ; j+4 <= n; j += 4 {
				dotF32x4FMA(&ar[0], &bt[j*ldb], ldb, k8, &out)
				for q := 0; q < 4; q++ {
					s := out[q]
					br := bt[(j+q)*ldb : (j+q)*ldb+k]
					for t := k8; t < k; t++ {
						s += ar[t] * br[t]
					}
					cr[j+q] = s
				}
			}
		}
		for ; j < n; j++ {
			cr[j] = DotF32(ar, bt[j*ldb:j*ldb+k])
		}
		if bias != nil {
			if biasRow {
				bv := bias[i]
				for j := range cr {
					cr[j] += bv
				}
			} else {
				for j := range cr {
					cr[j] += bias[j]
				}
			}
		}
	}
}

// DotU8S8 returns the exact integer dot product of a (uint8) and b (int8,
// within [MinWeight, MaxWeight]); len(a) must be a multiple of KAlign.
func DotU8S8(a []uint8, b []int8) int32 {
	k := len(a)
	b = b[:k]
	if k == 0 || k%KAlign != 0 {
		return dotU8S8Go(a, b)
	}
	switch i8Impl {
	case VNNI:
		return dotU8S8VNNI(&a[0], &b[0], k)
	case AVX2:
		return dotU8S8AVX2(&a[0], &b[0], k)
	}
	return dotU8S8Go(a, b)
}

func dotU8S8Go(a []uint8, b []int8) int32 {
	var s int32
	for i, v := range a {
		s += int32(v) * int32(b[i])
	}
	return s
}

// GemmU8S8 computes rows [m0, m1) of C = A·Btᵀ in int32: A is M×K uint8
// (row stride lda), Bt is N×K int8 (row stride ldb), k a multiple of KAlign.
func GemmU8S8(m0, m1, n, k int, a []uint8, lda int, bt []int8, ldb int, c []int32, ldc int) {
	var out [4]int32
	impl := i8Impl
	if k <= 0 || k%KAlign != 0 {
		impl = Generic // the assembly loops need whole 64-byte blocks
	}
	for i := m0; i < m1; i++ {
		ar := a[i*lda : i*lda+k]
		cr := c[i*ldc : i*ldc+n]
		j := 0
		switch impl {
		case VNNI:
			for ; j+4 <= n; j += 4 {
				dotU8S8x4VNNI(&ar[0], &bt[j*ldb], ldb, k, &out)
				copy(cr[j:j+4], out[:])
			}
		case AVX2:
			for ; j+4 <= n; j += 4 {
				dotU8S8x4AVX2(&ar[0], &bt[j*ldb], ldb, k, &out)
				copy(cr[j:j+4], out[:])
			}
		}
		for ; j < n; j++ {
			if impl == Generic {
				cr[j] = dotU8S8Go(ar, bt[j*ldb:j*ldb+k])
			} else {
				cr[j] = DotU8S8(ar, bt[j*ldb:j*ldb+k])
			}
		}
	}
}
