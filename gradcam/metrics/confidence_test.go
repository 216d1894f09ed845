package metrics

import (
	"math"
	"testing"
)

func TestSparseness(t *testing.T) {
	if g := Sparseness([]float32{2, 2, 2, 2}); math.Abs(g) > 1e-12 {
		t.Errorf("uniform: Gini %g, want 0", g)
	}
	if g := Sparseness([]float32{0, 0, 0, 5}); math.Abs(g-0.75) > 1e-12 {
		t.Errorf("one-hot of 4: Gini %g, want (n-1)/n = 0.75", g)
	}
	// {1,2,3,4}: sum_i (2i - n - 1) x_(i) / (n sum) = (-3*1 - 1*2 + 1*3 + 3*4) / (4*10) = 0.25.
	if g := Sparseness([]float32{3, -1, 4, 2}); math.Abs(g-0.25) > 1e-12 {
		t.Errorf("{1,2,3,4} (abs): Gini %g, want 0.25", g)
	}
	if g := Sparseness([]float32{0, 0}); g != 0 {
		t.Errorf("all-zero: %g", g)
	}
}

// brightness is a two-class predictor whose class-0 probability is the mean of the pixels in region (the rest of
// the image is ignored), so the closed forms below hold.
func brightness(region []bool) func([][]float32) ([][]float32, error) {
	return func(b [][]float32) ([][]float32, error) {
		out := make([][]float32, len(b))
		for i, img := range b {
			var s, n float64
			for j, v := range img {
				if region[j] {
					s += float64(v)
					n++
				}
			}
			p := float32(s / n)
			out[i] = []float32{p, 1 - p}
		}
		return out, nil
	}
}

// TestConfidenceBatch: O is the probability of x * map; Drop = max(0, Y-O)/Y, Increase = [O > Y].
func TestConfidenceBatch(t *testing.T) {
	region := []bool{true, true, false, false}
	img := []float32{0.8, 0.4, 1, 1}
	maps := [][]float32{{1, 0.5, 0, 0}, {1, 1, 0, 0}}
	cs, err := ConfidenceBatch(brightness(region), [][]float32{img, img}, maps, []int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	// Image 0, class 0: Y = 0.6, O = (0.8 + 0.2)/2 = 0.5: drop 1/6. Image 1, class 1: Y = O = 0.4: no change.
	if c := cs[0]; math.Abs(c.Y-0.6) > 1e-6 || math.Abs(c.O-0.5) > 1e-6 || math.Abs(c.Drop-1.0/6) > 1e-6 || c.Increase != 0 {
		t.Errorf("image 0: %+v", c)
	}
	if c := cs[1]; math.Abs(c.Drop) > 1e-6 || c.Increase != 0 {
		t.Errorf("image 1: %+v", c)
	}
	cs, _ = ConfidenceBatch(brightness(region), [][]float32{img}, [][]float32{{1, 1, 1, 1}}, []int{1})
	if cs[0].Increase != 0 || cs[0].Drop != 0 {
		t.Errorf("map of ones changes nothing: %+v", cs[0])
	}
}

// TestImputeLinear: a linear ramp is its own 8-neighbour weighted mean, so an interior hole is filled exactly;
// kept pixels never change; an edge hole satisfies the imputation equations.
func TestImputeLinear(t *testing.T) {
	const size = 12
	img := make([]float32, size*size)
	for y := range size {
		for x := range size {
			img[y*size+x] = float32(0.1*float64(x) + 0.03*float64(y))
		}
	}
	keep := make([]bool, len(img))
	for i := range keep {
		y, x := i/size, i%size
		keep[i] = !(y >= 3 && y < 8 && x >= 2 && x < 9)
	}
	holed := append([]float32(nil), img...)
	for i := range holed {
		if !keep[i] {
			holed[i] = 9 // must not leak into the result
		}
	}
	out := Impute(holed, size, keep, 0, nil)
	for i := range out {
		if math.Abs(float64(out[i]-img[i])) > 1e-5 {
			t.Fatalf("pixel %d: %g, want %g", i, out[i], img[i])
		}
	}
	for i := range keep {
		keep[i] = i%size > 2 // a hole touching the left edge
	}
	out = Impute(img, size, keep, 0, nil)
	for i := range out {
		y, x := i/size, i%size
		if keep[i] {
			if out[i] != img[i] {
				t.Fatalf("kept pixel %d changed", i)
			}
			continue
		}
		var wsum, s float64
		for _, nb := range roadNeighbours {
			ny, nx := y+nb.dy, x+nb.dx
			if ny >= 0 && nx >= 0 && ny < size && nx < size {
				wsum += nb.w
				s += nb.w * float64(out[ny*size+nx])
			}
		}
		if math.Abs(wsum*float64(out[i])-s) > 1e-5 {
			t.Fatalf("pixel %d: %g is not the weighted mean of its neighbours (%g)", i, out[i], s/wsum)
		}
	}
}

// TestROAD: the model looks only at a bright square. A map on the square makes MoRF fall and LeRF stay; the inverted
// map does the opposite.
func TestROAD(t *testing.T) {
	const size = 24
	img := make([]float32, size*size)
	region := make([]bool, size*size)
	good := make([]float32, size*size)
	bad := make([]float32, size*size)
	for i := range img {
		y, x := i/size, i%size
		if y >= 8 && y < 16 && x >= 8 && x < 16 {
			img[i], region[i], good[i] = 1, true, 1
		} else {
			bad[i] = 1
		}
		good[i] += 0.001 * float32(i%7) // break ties
		bad[i] += 0.001 * float32(i%7)
	}
	rs, err := ROADBatch(brightness(region), [][]float32{img, img}, [][]float32{good, bad}, []int{0, 0}, size, 1)
	if err != nil {
		t.Fatal(err)
	}
	g, b := rs[0], rs[1]
	t.Logf("good map %+v, inverted map %+v", g, b)
	if !(g.MoRF < -0.2 && math.Abs(b.MoRF) < 0.05) {
		t.Errorf("MoRF: good %g should fall well below the inverted map's %g (~0)", g.MoRF, b.MoRF)
	}
	if !(math.Abs(g.LeRF) < 0.05 && b.LeRF < -0.2) {
		t.Errorf("LeRF: good %g should stay near 0, inverted %g fall", g.LeRF, b.LeRF)
	}
}
