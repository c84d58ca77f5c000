package kernels

import (
	"math"
	"math/bits"
)

// Requantization is integer-only: y = zp + round(acc · M / 2^(31+S)) with a
// positive Q31 multiplier M and shift S, rounding half away from zero; no
// floating point is involved, so every machine computes the same bytes.

// QuantizeMultiplier converts a positive real scale (below 2^31) into a
// Q31 multiplier in [2^30, 2^31) and a shift such that
// real ≈ mult · 2^-(31+shift). It runs at quantization time, not inference.
func QuantizeMultiplier(real float64) (mult int32, shift int) {
	if real <= 0 || math.IsNaN(real) || math.IsInf(real, 0) {
		return 0, 0
	}
	frac, exp := math.Frexp(real) // real = frac · 2^exp, frac in [0.5, 1)
	q := int64(math.Round(frac * (1 << 31)))
	if q == 1<<31 {
		q /= 2
		exp++
	}
	return int32(q), -exp
}

// Requantize scales an int32 accumulator by mult·2^-(31+shift) with
// rounding half away from zero. 31+shift must be in [1, 62].
func Requantize(acc int32, mult int32, shift int) int32 {
	return int32(RoundShift(int64(acc)*int64(mult), uint(31+shift)))
}

// RoundShift returns p / 2^s rounded half away from zero, without
// branches; s must be in [1, 62] and |p| below 2^63 − 2^(s−1).
func RoundShift(p int64, s uint) int64 {
	s &= 63         // (s is in range; the mask spares the compiler's check for s >= 64)
	sign := p >> 63 // 0 or -1
	a := (p ^ sign) - sign
	r := (a + int64(1)<<((s-1)&63)) >> s
	return (r ^ sign) - sign
}

// DivRound returns n/d rounded half away from zero; d > 0.
func DivRound(n, d int64) int64 {
	if n >= 0 {
		return (n + d/2) / d
	}
	return -((-n + d/2) / d)
}

// Isqrt returns floor(sqrt(v)) exactly, by Newton's iteration on integers.
func Isqrt(v uint64) uint64 {
	if v < 2 {
		return v
	}
	x := uint64(1) << ((bits.Len64(v) + 1) / 2) // >= sqrt(v)
	for {
		y := (x + v/x) / 2
		if y >= x {
			return x
		}
		x = y
	}
}
