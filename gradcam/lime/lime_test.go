package lime

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/neucam/neucam/gradcam/heatmap"
)

const size = 200

// The toy defect: a bright square on noisy steel-like texture.
var square = struct{ x0, y0, x1, y1 int }{60, 80, 120, 140}

func inSquare(x, y int) bool {
	return x >= square.x0 && x < square.x1 && y >= square.y0 && y < square.y1
}

func textureImage(seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := make([]float32, size*size)
	for y := range size {
		for x := range size {
			v := 0.4 + 0.08*rng.NormFloat64() + 0.03*math.Sin(float64(x)/3)
			if inSquare(x, y) {
				v += 0.35
			}
			img[y*size+x] = float32(min(1, max(0, v)))
		}
	}
	return img
}

// squarePredictor: class 1 = mean intensity inside the square, class 0 = 1 - that.
func squarePredictor(images [][]float32) ([][]float32, error) {
	out := make([][]float32, len(images))
	n := float64((square.x1 - square.x0) * (square.y1 - square.y0))
	for i, im := range images {
		s := 0.0
		for y := square.y0; y < square.y1; y++ {
			for x := square.x0; x < square.x1; x++ {
				s += float64(im[y*size+x])
			}
		}
		p := float32(s / n)
		out[i] = []float32{1 - p, p}
	}
	return out, nil
}

func TestToyRegion(t *testing.T) {
	img := textureImage(3)
	opts := DefaultOptions()
	res, err := Explain(squarePredictor, img, size, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Maps) != 2 || res.NumSamples != 1000 {
		t.Fatalf("got %d maps, %d samples", len(res.Maps), res.NumSamples)
	}
	e := res.Explanations[1]
	if len(e.Top) == 0 {
		t.Fatal("no positive superpixel for class 1")
	}
	// Centroid of the top superpixel.
	cx, cy, cnt := 0.0, 0.0, 0
	for p, l := range res.Labels {
		if int(l) == e.Top[0] {
			cx += float64(p % size)
			cy += float64(p / size)
			cnt++
		}
	}
	cx, cy = cx/float64(cnt), cy/float64(cnt)
	if !inSquare(int(cx), int(cy)) {
		t.Errorf("top superpixel centroid (%.1f,%.1f) outside the square", cx, cy)
	}
	in, tot := 0.0, 0.0
	for p, v := range e.Map {
		if math.IsNaN(float64(v)) || v < 0 || v > 1 {
			t.Fatalf("map value %v at %d", v, p)
		}
		tot += float64(v)
		if inSquare(p%size, p/size) {
			in += float64(v)
		}
	}
	energy := in / tot
	t.Logf("segments %d, top centroid (%.1f,%.1f), energy in square %.4f (area fraction %.3f), R^2 %.4f, local %.4f vs prob %.4f",
		res.NumSegments, cx, cy, energy, 3600.0/40000, e.Score, e.LocalPred, e.Prob)
	if energy < 0.95 {
		t.Errorf("energy in square %.4f, want >= 0.95", energy)
	}
	// The model is linear in the superpixels, so the local fit must be near perfect.
	if e.Score < 0.99 {
		t.Errorf("R^2 %.4f, want >= 0.99", e.Score)
	}
	if math.Abs(e.LocalPred-e.Prob) > 0.01 {
		t.Errorf("local prediction %.4f vs model %.4f", e.LocalPred, e.Prob)
	}
	// Class 0 = 1 - class 1: weights exactly opposite.
	for s := range e.Weights {
		if d := e.Weights[s] + res.Explanations[0].Weights[s]; math.Abs(d) > 1e-6 {
			t.Fatalf("superpixel %d: class weights %v and %v not opposite", s, e.Weights[s], res.Explanations[0].Weights[s])
		}
	}
}

// ridgeQR solves the same problem as FitRidge by QR least squares on the augmented,
// sqrt-weighted design [sqrt(w) [1 X]; 0 sqrt(alpha) I] (intercept unpenalised).
func ridgeQR(X [][]float64, y, w []float64, alpha float64) []float64 {
	n, d := len(X), len(X[0])
	a := mat.NewDense(n+d, d+1, nil)
	b := mat.NewDense(n+d, 1, nil)
	for i := range n {
		s := math.Sqrt(w[i])
		a.Set(i, 0, s)
		for j := range d {
			a.Set(i, j+1, s*X[i][j])
		}
		b.Set(i, 0, s*y[i])
	}
	for j := range d {
		a.Set(n+j, j+1, math.Sqrt(alpha))
	}
	var qr mat.QR
	qr.Factorize(a)
	var beta mat.Dense
	if err := qr.SolveTo(&beta, false, b); err != nil {
		panic(err)
	}
	return mat.Col(nil, 0, &beta)
}

func TestRidgeMatchesQR(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n, d, K := 40, 6, 3
	X := make([][]float64, n)
	Y := make([][]float64, n)
	for i := range n {
		X[i] = make([]float64, d)
		for j := range d {
			X[i][j] = float64(rng.IntN(2))
		}
		Y[i] = []float64{rng.Float64(), rng.NormFloat64(), 3*X[i][0] - X[i][2] + 0.1*rng.NormFloat64()}
	}
	w := KernelWeights(X, 0.25)
	for i := range w {
		w[i] += 0.05 * rng.Float64() // not only kernel-shaped weights
	}
	for _, alpha := range []float64{1, 0.3} {
		fits, err := FitRidge(X, Y, w, alpha)
		if err != nil {
			t.Fatal(err)
		}
		for k := range K {
			y := make([]float64, n)
			for i := range n {
				y[i] = Y[i][k]
			}
			want := ridgeQR(X, y, w, alpha)
			if d := math.Abs(fits[k].Intercept - want[0]); d > 1e-9 {
				t.Errorf("alpha %v class %d intercept %v want %v", alpha, k, fits[k].Intercept, want[0])
			}
			for j := range d {
				if diff := math.Abs(fits[k].Coef[j] - want[j+1]); diff > 1e-9 {
					t.Errorf("alpha %v class %d coef %d: %v want %v", alpha, k, j, fits[k].Coef[j], want[j+1])
				}
			}
			// Weighted R^2 recomputed independently.
			ym, sw := 0.0, 0.0
			for i := range n {
				ym += w[i] * y[i]
				sw += w[i]
			}
			ym /= sw
			res, tot := 0.0, 0.0
			for i := range n {
				p := want[0]
				for j := range d {
					p += want[j+1] * X[i][j]
				}
				res += w[i] * (y[i] - p) * (y[i] - p)
				tot += w[i] * (y[i] - ym) * (y[i] - ym)
			}
			if diff := math.Abs(fits[k].Score - (1 - res/tot)); diff > 1e-9 {
				t.Errorf("alpha %v class %d score %v want %v", alpha, k, fits[k].Score, 1-res/tot)
			}
		}
	}
	if _, err := FitRidge(X, Y, w, 0); err == nil {
		t.Error("alpha 0 accepted")
	}
}

func TestKernelWeights(t *testing.T) {
	// 4 features, 1 on: cosine distance 1 - sqrt(1/4) = 0.5.
	w := KernelWeights([][]float64{{1, 1, 1, 1}, {1, 0, 0, 0}, {0, 0, 0, 0}}, 0.25)
	want := []float64{1, math.Sqrt(math.Exp(-0.25 / 0.0625)), math.Sqrt(math.Exp(-1 / 0.0625))}
	for i := range w {
		if math.Abs(w[i]-want[i]) > 1e-12 {
			t.Errorf("weight %d = %v, want %v", i, w[i], want[i])
		}
	}
}

func TestDeterminism(t *testing.T) {
	img := textureImage(5)
	opts := DefaultOptions()
	opts.NumSamples = 200
	run := func(seed int64) *Result {
		o := opts
		o.Seed = seed
		r, err := Explain(squarePredictor, img, size, o)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := run(1), run(1), run(2)
	for k := range a.Maps {
		if !slices.Equal(a.Maps[k], b.Maps[k]) || !slices.Equal(a.Explanations[k].Weights, b.Explanations[k].Weights) {
			t.Errorf("class %d: same seed, different result", k)
		}
	}
	if slices.Equal(a.Maps[1], c.Maps[1]) || slices.Equal(a.Explanations[1].Weights, c.Explanations[1].Weights) {
		t.Error("seeds 1 and 2 gave identical class-1 results")
	}
}

func TestSLICQuadrants(t *testing.T) {
	// Borders deliberately off the SLIC grid.
	const bx, by = 90, 117
	quad := func(x, y int) int {
		q := 0
		if x >= bx {
			q++
		}
		if y >= by {
			q += 2
		}
		return q
	}
	vals := []float32{0.2, 0.45, 0.6, 0.85}
	img := make([]float32, size*size)
	for y := range size {
		for x := range size {
			img[y*size+x] = vals[quad(x, y)]
		}
	}
	for _, sigma := range []float64{-1, 0} {
		for _, segs := range []int{50, 75, 100} {
			labels, n, err := SLIC(img, size, size, SLICOptions{NumSegments: segs, Sigma: sigma})
			if err != nil {
				t.Fatal(err)
			}
			if n < segs*6/10 || n > segs*14/10 {
				t.Errorf("sigma %v: requested %d segments, got %d", sigma, segs, n)
			}
			// Majority quadrant of each segment.
			votes := make([][4]int, n)
			for p, l := range labels {
				if l < 0 || int(l) >= n {
					t.Fatalf("label %d outside 0..%d", l, n-1)
				}
				votes[l][quad(p%size, p/size)]++
			}
			for l, v := range votes {
				if v == [4]int{} {
					t.Errorf("labels not contiguous: %d unused", l)
				}
			}
			stray, far := 0, 0
			for p, l := range labels {
				x, y := p%size, p/size
				v := votes[l]
				if v[quad(x, y)] == max(v[0], v[1], v[2], v[3]) {
					continue
				}
				stray++
				if abs(x-bx) > 2 && abs(x+1-bx) > 2 && abs(y-by) > 2 && abs(y+1-by) > 2 {
					far++
				}
			}
			if sigma < 0 && stray > 0 {
				// Without blur the quadrants are exactly flat: no segment may cross.
				t.Errorf("no blur, %d segments: %d pixels across a quadrant border", segs, stray)
			}
			// The pre-blur mixes intensities within ~2 px of a border (most at the
			// corner), so a few pixels there may join the neighbouring quadrant (observed: <= 33).
			if far > 0 || stray > 40 { // 0.1% of the image
				t.Errorf("sigma %v, %d segments: %d pixels across a border, %d of them > 2 px from it", sigma, segs, stray, far)
			}
			checkConnected(t, labels, size, size, n)
		}
	}
}

func abs(x int) int { return max(x, -x) }

func TestSLICTextureConnected(t *testing.T) {
	img := textureImage(9)
	labels, n, err := SLIC(img, size, size, SLICOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n < 45 || n > 110 {
		t.Errorf("default SLIC gave %d segments, want about 75", n)
	}
	checkConnected(t, labels, size, size, n)
	// The bright square should be captured: the square's pixels mostly in segments
	// that lie mostly inside it.
	cnt := make([]int, n)
	inside := make([]int, n)
	for p, l := range labels {
		cnt[l]++
		if inSquare(p%size, p/size) {
			inside[l]++
		}
	}
	covered := 0
	for l := range n {
		if inside[l]*10 >= cnt[l]*9 {
			covered += inside[l]
		}
	}
	if frac := float64(covered) / 3600; frac < 0.9 {
		t.Errorf("only %.3f of the square in segments >= 90%% inside it", frac)
	}
}

// checkConnected asserts every label forms one 4-connected component.
func checkConnected(t *testing.T, labels []int32, w, h, n int) {
	t.Helper()
	seen := make([]bool, len(labels))
	comps := 0
	for p := range labels {
		if seen[p] {
			continue
		}
		comps++
		seen[p] = true
		q := []int{p}
		for len(q) > 0 {
			c := q[len(q)-1]
			q = q[:len(q)-1]
			x, y := c%w, c/w
			for _, nb := range [][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if nb[0] < 0 || nb[1] < 0 || nb[0] >= w || nb[1] >= h {
					continue
				}
				r := nb[1]*w + nb[0]
				if !seen[r] && labels[r] == labels[p] {
					seen[r] = true
					q = append(q, r)
				}
			}
		}
	}
	if comps != n {
		t.Errorf("%d labels but %d connected components", n, comps)
	}
}

func TestDegenerateInputs(t *testing.T) {
	opts := DefaultOptions()
	opts.NumSamples = 100
	constant := make([]float32, size*size)
	for i := range constant {
		constant[i] = 0.5
	}
	res, err := Explain(squarePredictor, constant, size, opts)
	if err != nil {
		t.Fatal(err)
	}
	for k, m := range res.Maps {
		for p, v := range m {
			// Fill = image mean = every pixel, so the prediction never changes.
			if v != 0 {
				t.Fatalf("constant image class %d: map %v at %d, want 0", k, v, p)
			}
		}
	}

	nan := textureImage(4)
	for i := 0; i < len(nan); i += 37 {
		nan[i] = float32(math.NaN())
	}
	nan[5] = float32(math.Inf(1))
	nanPred := func(images [][]float32) ([][]float32, error) {
		out, _ := squarePredictor(images)
		out[0][0] = float32(math.NaN()) // a model that sometimes emits NaN
		return out, nil
	}
	for _, fm := range []FillMode{FillMean, FillSegmentMean, FillBlur} {
		o := opts
		o.FillMode = fm
		o.PositiveOnly = fm != FillBlur
		res, err := Explain(nanPred, nan, size, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.NonFinite == 0 {
			t.Error("NaN predictions not counted")
		}
		pos := false
		for _, m := range res.Maps {
			for _, v := range m {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v < 0 || v > 1 {
					t.Fatalf("fill %s: map value %v", fm, v)
				}
				pos = pos || v > 0
			}
		}
		if !pos {
			t.Errorf("fill %s: all maps zero on a textured image", fm)
		}
	}
}

func TestMapFromWeights(t *testing.T) {
	labels := []int32{0, 1, 2, 3, 3, 2}
	w := []float64{-4, 2, 1, math.NaN()}
	m, top := MapFromWeights(labels, w, 10, true)
	if !slices.Equal(top, []int{1, 2}) || !slices.Equal(m, []float32{0, 1, 0.5, 0, 0, 0.5}) {
		t.Errorf("positive-only: top %v map %v", top, m)
	}
	m, top = MapFromWeights(labels, w, 2, false)
	if !slices.Equal(top, []int{0, 1}) || !slices.Equal(m, []float32{1, 0.5, 0, 0, 0, 0}) {
		t.Errorf("abs top-2: top %v map %v", top, m)
	}
	m, _ = MapFromWeights(labels, []float64{-1, 0, -2, -3}, 3, true)
	if slices.ContainsFunc(m, func(v float32) bool { return v != 0 }) {
		t.Errorf("no positive weight: map %v, want zeros", m)
	}
}

func TestErrors(t *testing.T) {
	img := textureImage(1)
	if _, err := Explain(squarePredictor, img[:10], size, Options{}); err == nil {
		t.Error("wrong image size accepted")
	}
	bad := func(images [][]float32) ([][]float32, error) { return make([][]float32, len(images)-1), nil }
	if _, err := Explain(bad, img, size, Options{NumSamples: 10}); err == nil {
		t.Error("short Predictor output accepted")
	}
	if _, err := Explain(squarePredictor, img, size, Options{NumSamples: 10, FillMode: "zero"}); err == nil {
		t.Error("unknown FillMode accepted")
	}
}

// cheapPredictor is a fake 6-class model costing a few ops per pixel, so the benchmark
// measures LIME's own cost (SLIC, rendering samples, regression).
func cheapPredictor(images [][]float32) ([][]float32, error) {
	out := make([][]float32, len(images))
	for i, im := range images {
		p := make([]float32, 6)
		for j, v := range im {
			p[j%6] += v
		}
		s := float32(0)
		for _, v := range p {
			s += v
		}
		for k := range p {
			p[k] /= s
		}
		out[i] = p
	}
	return out, nil
}

// BenchmarkLIME: one 200x200 image, 1,000 samples, all 6 classes. "cheap" reads every
// pixel of every sample (like any real model must); "free" reads one pixel, so it is
// LIME's own cost: SLIC + rendering samples + kernel + ridge.
func BenchmarkLIME(b *testing.B) {
	img := textureImage(2)
	opts := DefaultOptions()
	free := func(images [][]float32) ([][]float32, error) {
		out := make([][]float32, len(images))
		for i, im := range images {
			out[i] = []float32{im[0], 1 - im[0], 0, 0, 0, 0}
		}
		return out, nil
	}
	for _, c := range []struct {
		name string
		pred heatmap.Predictor
	}{{"cheap", cheapPredictor}, {"free", free}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := Explain(c.pred, img, size, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/image")
		})
	}
}

func BenchmarkSLIC(b *testing.B) {
	img := textureImage(2)
	for b.Loop() {
		if _, _, err := SLIC(img, size, size, SLICOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFitRidge(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	n, d, K := 1000, 75, 6
	X := make([][]float64, n)
	Y := make([][]float64, n)
	for i := range n {
		X[i] = make([]float64, d)
		for j := range d {
			X[i][j] = float64(rng.IntN(2))
		}
		Y[i] = make([]float64, K)
		for k := range K {
			Y[i][k] = rng.Float64()
		}
	}
	w := KernelWeights(X, 0.25)
	for b.Loop() {
		if _, err := FitRidge(X, Y, w, 1); err != nil {
			b.Fatal(err)
		}
	}
}
