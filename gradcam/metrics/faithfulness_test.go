package metrics

import (
	"errors"
	"math"
	"testing"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// regionPredictor returns, as the probability of class 1, the mean intensity of the pixels in region (and
// 1 minus it for class 0), counting its calls and images.
func regionPredictor(region []int, calls, images *int) heatmap.Predictor {
	return func(batch [][]float32) ([][]float32, error) {
		*calls++
		*images += len(batch)
		out := make([][]float32, len(batch))
		for i, x := range batch {
			var s float64
			for _, p := range region {
				s += float64(x[p])
			}
			p := float32(s / float64(len(region)))
			out[i] = []float32{1 - p, p}
		}
		return out, nil
	}
}

func TestDeletionInsertion(t *testing.T) {
	const size = 10
	region := make([]int, 20) // the first two rows
	perfect := make([]float32, size*size)
	reversed := make([]float32, size*size)
	for i := range region {
		region[i] = i
		perfect[i] = 1
	}
	for i := 20; i < size*size; i++ {
		reversed[i] = 1
	}
	img := Uniform(size, size)
	var calls, images int
	pred := regionPredictor(region, &calls, &images)
	opts := CurveOptions{Steps: 10} // 10 pixels per step

	// Perfect map, deletion to 0: p = 1, 0.5, 0, ..., 0 -> AUC = 0.1*(1+0.5)/2 + 0.1*0.5/2 = 0.1.
	c, err := Deletion(pred, img, perfect, size, 1, opts)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || images != 11 || len(c.Prob) != 11 {
		t.Errorf("one curve took %d calls, %d images, %d points; want 1, 11, 11", calls, images, len(c.Prob))
	}
	near(t, "deletion perfect p[1]", c.Prob[1], 0.5, 1e-6)
	near(t, "deletion perfect p[2]", c.Prob[2], 0, 1e-6)
	near(t, "deletion perfect AUC", c.AUC, 0.1, 1e-6)
	// Reversed map: the region goes last: p = 1 (x8 steps), 0.5, 0 -> AUC = 0.8 + 0.075 + 0.025 = 0.9.
	c, _ = Deletion(pred, img, reversed, size, 1, opts)
	near(t, "deletion reversed AUC", c.AUC, 0.9, 1e-6)
	// Class 0 probability is 1 - p: AUC mirrored.
	c, _ = Deletion(pred, img, perfect, size, 0, opts)
	near(t, "deletion perfect class 0 AUC", c.AUC, 0.9, 1e-6)

	// Insertion from zeros mirrors deletion.
	zero := CurveOptions{Steps: 10, Substrate: SubstrateZero}
	c, _ = Insertion(pred, img, perfect, size, 1, zero)
	near(t, "insertion perfect AUC", c.AUC, 0.9, 1e-6)
	c, _ = Insertion(pred, img, reversed, size, 1, zero)
	near(t, "insertion reversed AUC", c.AUC, 0.1, 1e-6)

	// Mean substrate on a half-bright image: region pixels 1, others 0 -> mean 0.2; deleting the region
	// first: p = 1, 0.6, 0.2, ... -> AUC = 0.1*1.6/2 + 0.1*0.8/2 + 0.8*0.2 = 0.08+0.04+0.16 = 0.28.
	half := make([]float32, size*size)
	copy(half, perfect)
	c, _ = Deletion(pred, half, perfect, size, 1, CurveOptions{Steps: 10, Substrate: SubstrateMean})
	near(t, "deletion mean substrate AUC", c.AUC, 0.28, 1e-6)

	// Default insertion substrate is the blur: a constant image blurs to itself, so p stays 1.
	c, _ = Insertion(pred, img, perfect, size, 1, CurveOptions{})
	near(t, "insertion of a constant image", c.AUC, 1, 1e-6)
	if len(c.Prob) != 33 {
		t.Errorf("default curve has %d points, want 33", len(c.Prob))
	}

	// Fractions follow round(s*N/Steps): 100 pixels in 32 steps.
	near(t, "fraction[1]", c.Fraction[1], 3.0/100, 0)
	near(t, "fraction[32]", c.Fraction[32], 1, 0)
}

func TestCurveBatching(t *testing.T) {
	const size = 10
	region := []int{0, 1, 2, 11, 12, 55}
	var calls, images int
	pred := regionPredictor(region, &calls, &images)
	imgs := [][]float32{Uniform(size, size), CenterGaussian(size, size, 0.3), Blur(CenterGaussian(size, size, 0.1), size, size, 5, 5)}
	maps := [][]float32{CenterGaussian(size, size, 0.2), Uniform(size, size), boxMapFlat(size, region)}
	classes := []int{1, 0, 1}
	opts := CurveOptions{Steps: 10, MaxBatch: 20}
	batch, err := DeletionBatch(pred, imgs, maps, classes, size, opts)
	if err != nil {
		t.Fatal(err)
	}
	if calls != 2 || images != 33 { // 3 curves x 11 points in batches of 20
		t.Errorf("calls %d images %d, want 2 and 33", calls, images)
	}
	for i := range imgs {
		one, _ := Deletion(pred, imgs[i], maps[i], size, classes[i], CurveOptions{Steps: 10})
		near(t, "batched AUC", batch[i].AUC, one.AUC, 0)
	}
	ins, _ := InsertionBatch(pred, imgs, maps, classes, size, opts)
	for i := range imgs {
		one, _ := Insertion(pred, imgs[i], maps[i], size, classes[i], CurveOptions{Steps: 10})
		near(t, "batched insertion AUC", ins[i].AUC, one.AUC, 0)
	}

	// Errors name the problem.
	bad := func(batch [][]float32) ([][]float32, error) { return nil, errors.New("boom") }
	if _, err := Deletion(bad, imgs[0], maps[0], size, 0, opts); err == nil {
		t.Error("predictor error lost")
	}
	short := func(batch [][]float32) ([][]float32, error) { return make([][]float32, 1), nil }
	if _, err := Deletion(short, imgs[0], maps[0], size, 0, opts); err == nil {
		t.Error("short predictor output accepted")
	}
	nan := func(batch [][]float32) ([][]float32, error) {
		out := make([][]float32, len(batch))
		for i := range out {
			out[i] = []float32{float32(math.NaN())}
		}
		return out, nil
	}
	if _, err := Deletion(nan, imgs[0], maps[0], size, 0, opts); err == nil {
		t.Error("NaN probability accepted")
	}
	if _, err := Deletion(pred, imgs[0], maps[0], size, 5, opts); err == nil {
		t.Error("class out of range accepted")
	}
	if _, err := Deletion(pred, imgs[0][:5], maps[0], size, 0, opts); err == nil {
		t.Error("wrong image size accepted")
	}
}

func boxMapFlat(size int, idx []int) []float32 {
	m := make([]float32, size*size)
	for _, i := range idx {
		m[i] = 1
	}
	return m
}

func TestBlur(t *testing.T) {
	k := riseKernel1D(5, 5)
	var s float64
	for i := range k {
		s += k[i]
		near(t, "kernel symmetry", k[i], k[len(k)-1-i], 1e-15)
	}
	near(t, "kernel sum", s, 1, 1e-12)
	// Reflected tails make the window flatter than a cropped Gaussian (edge/centre = exp(-0.5) = 0.607).
	if r := k[0] / k[5]; r <= math.Exp(-0.5) || r >= 1 {
		t.Errorf("edge/centre ratio %v", r)
	}
	const n = 21
	img := make([]float32, n*n)
	img[10*n+10] = 1
	b := Blur(img, n, n, 5, 5)
	// Away from borders the blur of a Dirac is the separable kernel itself.
	near(t, "blurred dirac centre", float64(b[10*n+10]), k[5]*k[5], 1e-6)
	near(t, "blurred dirac offset", float64(b[12*n+7]), k[5+2]*k[5-3], 1e-6)
	near(t, "blurred dirac outside", float64(b[16*n+10]), 0, 0)
	for _, v := range Blur(Uniform(n, n), n, n, 5, 5) {
		near(t, "blurred constant", float64(v), 1, 1e-6)
	}
}

func TestTrapezoid(t *testing.T) {
	near(t, "triangle", Trapezoid([]float64{0, 0.5, 1}, []float64{0, 1, 0}), 0.5, eps)
	near(t, "single point", Trapezoid([]float64{0}, []float64{1}), 0, 0)
}
