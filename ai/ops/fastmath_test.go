package ops

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
		got := float64(expf(float32(x)))
		ref := math.Exp(float64(float32(x)))
		maxExp = math.Max(maxExp, math.Abs(got-ref)/ref)
	}
	for x := -6.0; x <= 6; x += 0.0001 {
		ref := math.Erf(float64(float32(x)))
		maxErf = math.Max(maxErf, math.Abs(float64(erff(float32(x)))-ref))
	}
	t.Logf("expf: largest relative error %.3g; erff: largest absolute error %.3g", maxExp, maxErf)
	if maxExp > 5e-7 {
		t.Errorf("expf relative error %g", maxExp)
	}
	if maxErf > 5e-7 {
		t.Errorf("erff absolute error %g", maxErf)
	}
	if expf(float32(math.Inf(-1))) != 0 || !math.IsInf(float64(expf(100)), 1) || erff(10) != 1 || erff(-10) != -1 {
		t.Error("limits")
	}
}
