package kernels

// RequantTable holds per-column requantization constants laid out for
// RequantRow: multipliers, and the shifts 31+shift with their rounding
// halves, split into even and odd columns of each group of 8 (the 64-bit
// lanes of the AVX2 routine).
type RequantTable struct {
	n      int
	mult   []uint32
	s      []uint64 // per column
	sE, sO []uint64 // per group of 8 columns: columns 0,2,4,6 and 1,3,5,7
	hE, hO []uint64
}

// NewRequantTable returns the table for per-column multipliers (positive
// Q31) and shifts (31+shift in [1, 62]).
func NewRequantTable(mult []int32, shift []int) *RequantTable {
	n := len(mult)
	g := (n + 7) / 8
	t := &RequantTable{n: n, mult: make([]uint32, 8*g), s: make([]uint64, n),
		sE: make([]uint64, 4*g), sO: make([]uint64, 4*g), hE: make([]uint64, 4*g), hO: make([]uint64, 4*g)}
	for j := 0; j < n; j++ {
		s := uint64(31 + shift[j])
		t.mult[j], t.s[j] = uint32(mult[j]), s
		q := j/8*4 + j%8/2
		if j%2 == 0 {
			t.sE[q], t.hE[q] = s, 1<<(s-1)
		} else {
			t.sO[q], t.hO[q] = s, 1<<(s-1)
		}
	}
	return t
}

// RequantRow writes, for each column j of one row,
//
//	a = acc[j] + bias[j]                      (int32, wrapping)
//	r = (|a|·mult[j] + 2^(s[j]−1)) >> s[j]   (|a| as uint32, 64-bit product)
//	v = ±r                                    (the sign of a, int32, wrapping)
//	dst[j] = clamp(v + zp, lo, hi)            (int32, wrapping add)
//
// that is, round(a·M/2^(31+shift)) half away from zero, as Requantize,
// with the result taken modulo 2^32. The AVX2 routine and the pure-Go loop
// compute the same integers.
func RequantRow(dst, acc, bias []int32, t *RequantTable, zp, lo, hi int32) {
	n := t.n
	dst, acc, bias = dst[:n], acc[:n], bias[:n]
	j := 0
	if i8Impl != Generic && n >= 8 {
		j = n &^ 7
		requantAVX2(j/8, &dst[0], &acc[0], &bias[0], &t.mult[0], &t.sE[0], &t.sO[0], &t.hE[0], &t.hO[0], zp, lo, hi)
	}
	for ; j < n; j++ {
		a := acc[j] + bias[j]
		sign := a >> 31
		u := uint64(uint32((a ^ sign) - sign))
		r := int32(uint32((u*uint64(t.mult[j]) + 1<<(t.s[j]-1)) >> t.s[j]))
		v := (r ^ sign - sign) + zp
		dst[j] = min(max(v, lo), hi)
	}
}
