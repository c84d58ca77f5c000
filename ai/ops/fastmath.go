package ops

import "math"

// Float32 versions of exp and erf for the element-wise operators. The
// float64 math functions cost 10-12 ns per call; these are polynomial
// approximations accurate to a few float32 ulps (see fastmath_test.go),
// well inside the 1e-4 tolerance of ONNX's conformance tests.

// expf is Cephes' expf: range reduction by ln 2 and a degree-5 polynomial.
func expf(x float32) float32 {
	switch {
	case x != x:
		return x
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -87.33654:
		return 0
	}
	fx := float32(math.Floor(float64(x*1.44269504088896341 + 0.5)))
	x = x - fx*0.693359375 - fx*-2.12194440e-4
	z := x * x
	y := ((((1.9875691500e-4*x+1.3981999507e-3)*x+8.3334519073e-3)*x+4.1665795894e-2)*x+1.6666665459e-1)*x + 5.0000001201e-1
	y = y*z + x + 1
	e := int32(fx)
	if e > 127 { // 2^128 is not a float32: scale in two steps
		y *= 2
		e--
	}
	return y * math.Float32frombits(uint32(e+127)<<23)
}

// erff is the rational approximation of erf used by Eigen for float
// (clamped to [-4, 4], where erf is ±1 in float32).
func erff(x float32) float32 {
	if x != x {
		return x
	}
	x = min(max(x, -4), 4)
	x2 := x * x
	p := x2*-2.72614225801306e-10 + 2.77068142495902e-08
	p = x2*p + -2.10102402082508e-06
	p = x2*p + -5.69250639462346e-05
	p = x2*p + -7.34990630326855e-04
	p = x2*p + -2.95459980854025e-03
	p = x2*p + -1.60960333262415e-02
	p = x * p
	q := x2*-1.45660718464996e-05 + -2.13374055278905e-04
	q = x2*q + -1.68282697438203e-03
	q = x2*q + -7.37332916720468e-03
	q = x2*q + -1.42647390514189e-02
	return p / q
}
