package kernels

import "math"

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
	s := uint(31 + shift)
	p := int64(acc) * int64(mult)
	half := int64(1) << (s - 1)
	if p >= 0 {
		return int32((p + half) >> s)
	}
	return -int32((-p + half) >> s)
}
