package heatmap

import (
	"image"
	"math"
	"testing"

	"github.com/neucam/neucam/internal/neutest"
)

func TestPixels(t *testing.T) {
	g := neutest.Gradient(200, 200)
	same := Pixels(g, 200)
	if same[0] != 0 || same[1] != 1.0/255 || same[200] != 2.0/255 {
		t.Errorf("identity copy wrong: %v %v %v", same[0], same[1], same[200])
	}
	flat := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range flat.Pix {
		flat.Pix[i] = 51
	}
	for _, size := range []int{224, 5} {
		p := Pixels(flat, size)
		if len(p) != size*size {
			t.Fatalf("len %d", len(p))
		}
		for i, v := range p {
			if math.Abs(float64(v)-0.2) > 1e-3 {
				t.Fatalf("size %d: pixel %d = %v, want 0.2 (a flat image stays flat)", size, i, v)
			}
		}
	}
	// Downscaling 4000 -> 224 averages: the mean survives and values stay in [0,1].
	big := neutest.Gradient(4000, 3000)
	p := Pixels(big, 224)
	var mean float64
	for _, v := range p {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("value %v outside [0,1]", v)
		}
		mean += float64(v)
	}
	mean /= float64(len(p))
	var want float64
	for _, v := range big.Pix {
		want += float64(v) / 255
	}
	want /= float64(len(big.Pix))
	if math.Abs(mean-want) > 0.01 {
		t.Errorf("mean after resize %.4f, want %.4f", mean, want)
	}
	// Sub-images start at their own Min.
	sub := neutest.Gradient(40, 40).SubImage(image.Rect(10, 10, 20, 20)).(*image.Gray)
	if q := Pixels(sub, 10); q[0] != float32(10+20)/255 {
		t.Errorf("sub-image origin: %v", q[0]*255)
	}
}

func BenchmarkPixels200to224(b *testing.B) {
	g := neutest.Gradient(200, 200)
	for b.Loop() {
		Pixels(g, 224)
	}
}
