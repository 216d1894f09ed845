package resnet

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func ramp(n int) []float32 {
	p := make([]float32, n*n)
	for i := range p {
		p[i] = float32(i) / float32(len(p))
	}
	return p
}

func TestDihedralDrawOrder(t *testing.T) {
	// 3x3 with values 0..8 (row-major):  0 1 2 / 3 4 5 / 6 7 8
	in := []float32{0, 1, 2, 3, 4, 5, 6, 7, 8}
	want := [8][]float32{
		{0, 1, 2, 3, 4, 5, 6, 7, 8}, // identity
		{6, 3, 0, 7, 4, 1, 8, 5, 2}, // rotate 90 clockwise: the left column becomes the top row
		{8, 7, 6, 5, 4, 3, 2, 1, 0}, // rotate 180
		{2, 5, 8, 1, 4, 7, 0, 3, 6}, // rotate 90 counter-clockwise
		{2, 1, 0, 5, 4, 3, 8, 7, 6}, // mirror left-right
		{8, 5, 2, 7, 4, 1, 6, 3, 0}, // anti-transpose
		{6, 7, 8, 3, 4, 5, 0, 1, 2}, // flip top-bottom
		{0, 3, 6, 1, 4, 7, 2, 5, 8}, // transpose
	}
	for k := range 8 {
		if got := dihedral(in, 3, k); !slices.Equal(got, want[k]) {
			t.Errorf("k=%d: %v, want %v", k, got, want[k])
		}
	}
}

func TestAugment(t *testing.T) {
	const n = 32
	p := ramp(n)
	orig := slices.Clone(p)
	a1 := augment(p, n, rand.New(rand.NewPCG(1, 2)))
	a2 := augment(p, n, rand.New(rand.NewPCG(1, 2)))
	a3 := augment(p, n, rand.New(rand.NewPCG(5, 6)))
	if !slices.Equal(a1, a2) {
		t.Error("same rng state, different result")
	}
	if slices.Equal(a1, a3) {
		t.Error("different rng, same result")
	}
	if !slices.Equal(p, orig) {
		t.Error("input modified")
	}
	rng := rand.New(rand.NewPCG(9, 9))
	var meanIn float64
	for _, v := range p {
		meanIn += float64(v)
	}
	meanIn /= n * n
	for i := 0; i < 200; i++ {
		a := augment(p, n, rng)
		var mean float64
		for _, v := range a {
			if !(v >= 0 && v <= 1) || math.IsNaN(float64(v)) {
				t.Fatalf("value %v outside [0,1]", v)
			}
			mean += float64(v)
		}
		mean /= n * n
		// A crop of >= 85% of a ramp moves the mean by <= 0.075, brightness by <= 0.05.
		if math.Abs(mean-meanIn) > 0.13 {
			t.Fatalf("iteration %d: mean %.3f vs input %.3f", i, mean, meanIn)
		}
	}
	// A flat image stays flat up to brightness.
	flat := make([]float32, n*n)
	for i := range flat {
		flat[i] = 0.5
	}
	f := augment(flat, n, rng)
	for _, v := range f {
		if math.Abs(float64(v-f[0])) > 1e-6 || v < 0.45-1e-6 || v > 0.55+1e-6 {
			t.Fatalf("flat image became %v", v)
		}
	}
}

func BenchmarkAugment224(b *testing.B) {
	p := ramp(224)
	rng := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		augment(p, 224, rng)
	}
}
