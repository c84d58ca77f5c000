package kernels

import (
	"math"
	"testing"
)

func TestFastMathAccuracy(t *testing.T) {
	var maxExp, maxErf float64
	for x := -90.0; x <= 89; x += 0.0007 {
		want := math.Exp(x)
		if want > math.MaxFloat32 || want < 1.2e-38 {
			continue
		}
		got := float64(Exp32(float32(x)))
		ref := math.Exp(float64(float32(x)))
		maxExp = math.Max(maxExp, math.Abs(got-ref)/ref)
	}
	for x := -6.0; x <= 6; x += 0.0001 {
		ref := math.Erf(float64(float32(x)))
		maxErf = math.Max(maxErf, math.Abs(float64(Erf32(float32(x)))-ref))
	}
	t.Logf("expf: largest relative error %.3g; erff: largest absolute error %.3g", maxExp, maxErf)
	if maxExp > 5e-7 {
		t.Errorf("expf relative error %g", maxExp)
	}
	if maxErf > 5e-7 {
		t.Errorf("erff absolute error %g", maxErf)
	}
	if Exp32(float32(math.Inf(-1))) != 0 || !math.IsInf(float64(Exp32(100)), 1) || Erf32(10) != 1 || Erf32(-10) != -1 {
		t.Error("limits")
	}
}

func TestVectorExpErfMatchScalar(t *testing.T) {
	n := 1003
	src := make([]float32, n)
	for i := range src {
		src[i] = float32(i-n/2) * 0.013
	}
	best, _ := Best()
	for _, impl := range impls(best) {
		pf, pi := Use(impl, Generic)
		e, f := make([]float32, n), make([]float32, n)
		ExpF32(e, src)
		ErfF32(f, src)
		Use(pf, pi)
		for i, x := range src {
			if d := math.Abs(float64(e[i]-Exp32(x))) / float64(Exp32(x)); d > 1e-6 {
				t.Fatalf("%v: exp(%v) = %v, scalar %v", impl, x, e[i], Exp32(x))
			}
			if d := math.Abs(float64(f[i] - Erf32(x))); d > 1e-6 {
				t.Fatalf("%v: erf(%v) = %v, scalar %v", impl, x, f[i], Erf32(x))
			}
		}
	}
}
