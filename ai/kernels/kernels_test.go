package kernels

import (
	"math"
	"math/rand"
	"testing"
)

func impls(best Impl) []Impl {
	var r []Impl
	for i := Generic; i <= best; i++ {
		r = append(r, i)
	}
	return r
}

func TestInt8ImplementationsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	_, best := Best()
	t.Logf("best int8 implementation on this CPU: %v", best)
	for _, k := range []int{64, 128, 256, 832} {
		const m, n = 7, 13
		a := make([]uint8, m*k)
		b := make([]int8, n*k)
		for i := range a {
			a[i] = uint8(rng.Intn(256))
		}
		// extreme values included: the worst case for int16 saturation
		for i := range b {
			b[i] = int8(MinWeight + rng.Intn(MaxWeight-MinWeight+1))
		}
		for i := 0; i < 64; i++ {
			a[i], b[i] = 255, MinWeight
		}
		want := make([]int32, m*n)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var s int64
				for q := 0; q < k; q++ {
					s += int64(a[i*k+q]) * int64(b[j*k+q])
				}
				want[i*n+j] = int32(s)
			}
		}
		for _, impl := range impls(best) {
			prevF, prevI := Use(Generic, impl)
			got := make([]int32, m*n)
			GemmU8S8(0, m, n, k, a, k, b, k, got, n)
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("k=%d %v: C[%d]=%d, want %d", k, impl, i, got[i], want[i])
				}
			}
			if d := DotU8S8(a[:k], b[:k]); d != want[0] {
				t.Fatalf("k=%d %v: DotU8S8=%d, want %d", k, impl, d, want[0])
			}
			Use(prevF, prevI)
		}
	}
}

func TestGemmF32MatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	best, _ := Best()
	for _, k := range []int{1, 7, 8, 25, 200, 257} {
		const m, n = 5, 11
		a := make([]float32, m*k)
		b := make([]float32, n*k)
		bias := make([]float32, n)
		for i := range a {
			a[i] = rng.Float32()*2 - 1
		}
		for i := range b {
			b[i] = rng.Float32()*2 - 1
		}
		for i := range bias {
			bias[i] = rng.Float32()
		}
		for _, impl := range impls(best) {
			prevF, prevI := Use(impl, Generic)
			c := make([]float32, m*n)
			GemmF32(0, m, n, k, a, k, b, k, c, n, bias, false)
			Use(prevF, prevI)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					s := float64(bias[j])
					for q := 0; q < k; q++ {
						s += float64(a[i*k+q]) * float64(b[j*k+q])
					}
					if d := math.Abs(s - float64(c[i*n+j])); d > 1e-4*math.Max(1, math.Abs(s)) {
						t.Fatalf("k=%d %v: C[%d,%d]=%v, want %v", k, impl, i, j, c[i*n+j], s)
					}
				}
			}
		}
	}
}

func BenchmarkDotU8S8(b *testing.B) {
	x := make([]uint8, 4096)
	y := make([]int8, 4096)
	_, best := Best()
	for _, impl := range impls(best) {
		b.Run(impl.String(), func(b *testing.B) {
			pf, pi := Use(Generic, impl)
			defer Use(pf, pi)
			b.SetBytes(4096)
			for i := 0; i < b.N; i++ {
				DotU8S8(x, y)
			}
		})
	}
}

func BenchmarkGemmF32(b *testing.B) {
	const m, n, k = 64, 64, 256
	x := make([]float32, m*k)
	y := make([]float32, n*k)
	c := make([]float32, m*n)
	best, _ := Best()
	for _, impl := range impls(best) {
		b.Run(impl.String(), func(b *testing.B) {
			pf, pi := Use(impl, Generic)
			defer Use(pf, pi)
			for i := 0; i < b.N; i++ {
				GemmF32(0, m, n, k, x, k, y, k, c, n, nil, false)
			}
			b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func TestGemmPackedMatchesFloat64(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	best, _ := Best()
	for _, dims := range [][3]int{{1, 1, 1}, {4, 16, 8}, {5, 17, 3}, {7, 33, 64}, {13, 40, 100}} {
		m, n, k := dims[0], dims[1], dims[2]
		a := make([]float32, m*k)
		b := make([]float32, k*n)
		for i := range a {
			a[i] = rng.Float32()*2 - 1
		}
		for i := range b {
			b[i] = rng.Float32()*2 - 1
		}
		bp := make([]float32, PackedLen(k, n))
		PackB(bp, b, n, k, n)
		bt := make([]float32, n*k)
		for i := 0; i < k; i++ {
			for j := 0; j < n; j++ {
				bt[j*k+i] = b[i*n+j]
			}
		}
		bp2 := make([]float32, PackedLen(k, n))
		PackBT(bp2, bt, k, k, n)
		for i := range bp {
			if bp[i] != bp2[i] {
				t.Fatalf("PackB and PackBT differ at %d", i)
			}
		}
		for _, impl := range impls(best) {
			prevF, prevI := Use(impl, Generic)
			c := make([]float32, m*n)
			GemmPacked(0, m, n, k, a, k, bp, c, n, KBlock(n, k), NewGemmScratch(k))
			Use(prevF, prevI)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var s float64
					for q := 0; q < k; q++ {
						s += float64(a[i*k+q]) * float64(b[q*n+j])
					}
					if d := math.Abs(s - float64(c[i*n+j])); d > 1e-4*math.Max(1, math.Abs(s)) {
						t.Fatalf("%v m=%d n=%d k=%d: C[%d,%d]=%v, want %v", impl, m, n, k, i, j, c[i*n+j], s)
					}
				}
			}
		}
	}
}

func BenchmarkGemmPacked(b *testing.B) {
	const m, n, k = 64, 64, 256
	x := make([]float32, m*k)
	y := make([]float32, PackedLen(k, n))
	c := make([]float32, m*n)
	s := NewGemmScratch(k)
	best, _ := Best()
	for _, impl := range impls(best) {
		b.Run(impl.String(), func(b *testing.B) {
			pf, pi := Use(impl, Generic)
			defer Use(pf, pi)
			for i := 0; i < b.N; i++ {
				GemmPacked(0, m, n, k, x, k, y, c, n, 0, s)
			}
			b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func TestGemmU8S8PackedBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	_, best := Best()
	for _, dims := range [][3]int{{1, 1, 64}, {4, 16, 64}, {5, 17, 128}, {7, 33, 256}, {13, 8, 832}} {
		m, n, k := dims[0], dims[1], dims[2]
		a := make([]uint8, m*k)
		bt := make([]int8, n*k)
		for i := range a {
			a[i] = uint8(rng.Intn(256))
		}
		for i := range bt {
			bt[i] = int8(MinWeight + rng.Intn(MaxWeight-MinWeight+1))
		}
		for i := 0; i < k && i < len(a); i++ {
			a[i], bt[i] = 255, MinWeight // worst case for int16 pair sums
		}
		bp := make([]int8, PackedLen8(k, n))
		PackB8(bp, bt, k, k, n)
		for _, impl := range impls(best) {
			prevF, prevI := Use(Generic, impl)
			c := make([]int32, m*n)
			GemmU8S8Packed(0, m, n, k, a, k, bp, c, n, NewGemm8Scratch(k))
			Use(prevF, prevI)
			for i := 0; i < m; i++ {
				for j := 0; j < n; j++ {
					var s int32
					for q := 0; q < k; q++ {
						s += int32(a[i*k+q]) * int32(bt[j*k+q])
					}
					if c[i*n+j] != s {
						t.Fatalf("%v m=%d n=%d k=%d: C[%d,%d]=%d, want %d", impl, m, n, k, i, j, c[i*n+j], s)
					}
				}
			}
		}
	}
}

func BenchmarkGemmU8S8Packed(b *testing.B) {
	const m, n, k = 64, 64, 256
	x := make([]uint8, m*k)
	y := make([]int8, PackedLen8(k, n))
	c := make([]int32, m*n)
	s := NewGemm8Scratch(k)
	_, best := Best()
	for _, impl := range impls(best) {
		b.Run(impl.String(), func(b *testing.B) {
			pf, pi := Use(Generic, impl)
			defer Use(pf, pi)
			for i := 0; i < b.N; i++ {
				GemmU8S8Packed(0, m, n, k, x, k, y, c, n, s)
			}
			b.ReportMetric(float64(2*m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
		})
	}
}

// TestGemmPackedSummationOrder checks the documented summation order of
// GemmPacked against a scalar model of it (FMA chain per K block from zero,
// block sums added in turn), bit for bit, for every implementation and for
// split row ranges.
func TestGemmPackedSummationOrder(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	best, _ := Best()
	for _, dims := range [][4]int{{6, 20, 300, 128}, {9, 33, 200, 128}, {1, 10, 256, 0}, {5, 16, 40, 16}} {
		m, n, k, kb := dims[0], dims[1], dims[2], dims[3]
		a := make([]float32, m*k)
		b := make([]float32, k*n)
		for i := range a {
			a[i] = rng.Float32()*200 - 100
		}
		for i := range b {
			b[i] = rng.Float32()*2 - 1
		}
		want := make([]float32, m*n)
		blk := kb
		if blk <= 0 {
			blk = k
		}
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				var c float32
				for k0 := 0; k0 < k; k0 += blk {
					var s float32
					for q := k0; q < min(k, k0+blk); q++ {
						s = fma32(a[i*k+q], b[q*n+j], s)
					}
					if k0 == 0 {
						c = s
					} else {
						c += s
					}
				}
				want[i*n+j] = c
			}
		}
		bp := make([]float32, PackedLen(k, n))
		PackB(bp, b, n, k, n)
		ldb := (n+15)/16*16 + 16
		brows := make([]float32, k*ldb)
		for q := 0; q < k; q++ {
			copy(brows[q*ldb:], b[q*n:(q+1)*n])
		}
		for _, impl := range impls(best) {
			prevF, prevI := Use(impl, Generic)
			c := make([]float32, m*n)
			s := NewGemmScratch(k)
			half := m / 2
			GemmPacked(0, half, n, k, a, k, bp, c, n, kb, s)
			GemmPacked(half, m, n, k, a, k, bp, c, n, kb, s)
			c2 := make([]float32, m*n) // the same with B unpacked, rows ldb apart
			GemmRows(0, half, n, k, a, k, brows, ldb, c2, n, kb, s)
			GemmRows(half, m, n, k, a, k, brows, ldb, c2, n, kb, s)
			Use(prevF, prevI)
			for i := range c {
				if c[i] != want[i] || c2[i] != want[i] {
					t.Fatalf("%v m=%d n=%d k=%d kblock=%d: C[%d]=%v (packed), %v (rows), want %v", impl, m, n, k, kb, i, c[i], c2[i], want[i])
				}
			}
		}
	}
	if KBlock(196, 200) != 128 || KBlock(784, 25) != 32 || KBlock(32, 1024) != 512 {
		t.Errorf("KBlock(196, 200)=%d KBlock(784, 25)=%d KBlock(32, 1024)=%d, want 128, 32, 512", KBlock(196, 200), KBlock(784, 25), KBlock(32, 1024))
	}
}

// TestRequantRowBitIdentical compares RequantRow's AVX2 routine with its
// pure-Go loop and with Requantize, over random and extreme accumulators.
func TestRequantRowBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	const n = 77
	mult, shift := make([]int32, n), make([]int, 0, n)
	for j := 0; j < n; j++ {
		mult[j] = 1<<30 + rng.Int31n(1<<30)
		shift = append(shift, rng.Intn(50)-25)
	}
	tab := NewRequantTable(mult, shift)
	acc, bias := make([]int32, n), make([]int32, n)
	for round := 0; round < 200; round++ {
		for j := range acc {
			acc[j], bias[j] = rng.Int31()-1<<30, rng.Int31n(1<<20)-1<<19
			if round < 3 {
				acc[j], bias[j] = []int32{-1 << 31, 1<<31 - 1, 0}[round], 0
			}
		}
		for _, clamp := range [][3]int32{{0, -1 << 31, 1<<31 - 1}, {118, 0, 255}, {0, MinWeight, MaxWeight}} {
			var got [2][n]int32
			for i, impl := range []Impl{Generic, AVX2} {
				pf, pi := Use(Generic, impl)
				RequantRow(got[i][:], acc, bias, tab, clamp[0], clamp[1], clamp[2])
				Use(pf, pi)
			}
			for j := 0; j < n; j++ {
				want := int32(int64(Requantize(acc[j]+bias[j], mult[j], shift[j])) + int64(clamp[0]))
				want = min(max(want, clamp[1]), clamp[2])
				if got[0][j] != got[1][j] || (round >= 3 && got[0][j] != want) {
					t.Fatalf("round %d column %d: generic %d, avx2 %d, Requantize %d", round, j, got[0][j], got[1][j], want)
				}
			}
		}
	}
}
