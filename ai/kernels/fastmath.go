package kernels

import "math"

// Float32 versions of exp and erf for the element-wise operators. The
// float64 math functions cost 10-12 ns per call; these are polynomial
// approximations accurate to a few float32 ulps (see fastmath_test.go),
// well inside the 1e-4 tolerance of ONNX's conformance tests. ExpF32 and
// ErfF32 run the same polynomials eight lanes at a time with AVX2+FMA.

// Exp32 is Cephes' expf: range reduction by ln 2 and a degree-5 polynomial.
func Exp32(x float32) float32 {
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
	y := ((((expP[0]*x+expP[1])*x+expP[2])*x+expP[3])*x+expP[4])*x + expP[5]
	y = y*z + x + 1
	e := int32(fx)
	if e > 127 { // 2^128 is not a float32: scale in two steps
		y *= 2
		e--
	}
	return y * math.Float32frombits(uint32(e+127)<<23)
}

// Erf32 is the rational approximation of erf used by Eigen for float
// (clamped to [-4, 4], where erf is ±1 in float32).
func Erf32(x float32) float32 {
	if x != x {
		return x
	}
	x = min(max(x, -4), 4)
	x2 := x * x
	p := erfP[0]
	for _, c := range erfP[1:] {
		p = x2*p + c
	}
	p = x * p
	q := erfQ[0]
	for _, c := range erfQ[1:] {
		q = x2*q + c
	}
	return p / q
}

// Polynomial coefficients, shared by the scalar and vector versions.
var (
	erfP = [7]float32{-2.72614225801306e-10, 2.77068142495902e-08, -2.10102402082508e-06, -5.69250639462346e-05,
		-7.34990630326855e-04, -2.95459980854025e-03, -1.60960333262415e-02}
	erfQ = [5]float32{-1.45660718464996e-05, -2.13374055278905e-04, -1.68282697438203e-03, -7.37332916720468e-03,
		-1.42647390514189e-02}
	expP = [6]float32{1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1}
)

// lanes8 replicates each value over 8 float32 lanes (a vector constant).
func lanes8(vals ...float32) [][8]float32 {
	r := make([][8]float32, len(vals))
	for i, v := range vals {
		for j := range r[i] {
			r[i][j] = v
		}
	}
	return r
}

var (
	erfTable = lanes8(append(append([]float32{-4, 4}, erfP[:]...), erfQ[:]...)...)
	expTable = lanes8(append([]float32{-87.33654, 88.0, 1.44269504088896341, 0.5, 0.693359375, -2.12194440e-4},
		append(expP[:], 1)...)...)
)

// ErfF32 sets dst[i] = Erf32(src[i]) (up to float32 rounding differences
// between the scalar and vector evaluation).
func ErfF32(dst, src []float32) {
	n := len(src)
	dst = dst[:n]
	i := 0
	if f32Impl != Generic && n >= 8 {
		i = n &^ 7
		erfAVX2(&dst[0], &src[0], i, &erfTable[0])
	}
	for ; i < n; i++ {
		dst[i] = Erf32(src[i])
	}
}

// ExpF32 sets dst[i] = Exp32(src[i]); in the vector path inputs are
// clamped to [-87.34, 88] (exp(88) = 1.65e38).
func ExpF32(dst, src []float32) {
	n := len(src)
	dst = dst[:n]
	i := 0
	if f32Impl != Generic && n >= 8 {
		i = n &^ 7
		expAVX2(&dst[0], &src[0], i, &expTable[0])
	}
	for ; i < n; i++ {
		dst[i] = Exp32(src[i])
	}
}
