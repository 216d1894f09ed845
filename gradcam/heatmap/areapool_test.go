package heatmap

import (
	"math"
	"testing"
)

func TestAreaPool(t *testing.T) {
	// 5x1 -> 2x1: cells [0,2.5) and [2.5,5); pixel 2 is split half and half.
	got := AreaPool([]float32{1, 1, 1, 0, 0}, 5, 1, 2, 1)
	want := []float32{1, 0.2} // (1+1+0.5*1)/2.5, (0.5*1)/2.5
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("AreaPool = %v, want %v", got, want)
		}
	}
	// A 200x200 mask of a box pooled to 16x16 (cells of 12.5 px): each cell holds its covered fraction, the
	// mean is preserved, and pooling the flipped mask gives the flipped pooled mask.
	const n, g = 200, 16
	mask := make([]float32, n*n)
	var area float64
	for y := 30; y < 101; y++ {
		for x := 7; x < 150; x++ {
			mask[y*n+x] = 1
			area++
		}
	}
	p := AreaPool(mask, n, n, g, g)
	var mean float64
	for _, v := range p {
		mean += float64(v) / (g * g)
	}
	if math.Abs(mean-area/(n*n)) > 1e-6 {
		t.Fatalf("mean %g, want %g", mean, area/(n*n))
	}
	// cell (row 2, col 0) = x in [0,12.5) x y in [25,37.5); the box covers x in [7,12.5), y in [30,37.5)
	if got, want := p[2*g+0], float32(5.5*7.5/(12.5*12.5)); math.Abs(float64(got-want)) > 1e-6 {
		t.Fatalf("cell (0,2) = %g, want %g", got, want)
	}
	for _, tr := range []Transform{FlipH, Rot90, FlipDiag} {
		a := AreaPool(tr.Apply(mask, n, n), n, n, g, g)
		b := tr.Apply(p, g, g)
		for i := range a {
			if math.Abs(float64(a[i]-b[i])) > 1e-5 {
				t.Fatalf("%v: pool(transform) != transform(pool) at %d: %g vs %g", tr, i, a[i], b[i])
			}
		}
	}
}
