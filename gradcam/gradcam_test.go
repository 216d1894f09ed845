package gradcam

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"gonum.org/v1/gonum/mat"

	"github.com/neucam/neucam/gradcam/heatmap"
)

const testSize = 16

// fixture: one backend, the default tiny net and a few images, shared by the tests of this file.
type fixture struct {
	backend compute.Backend
	store   *model.Store
	cfg     tinyConfig
	fn      ModelFn
	images  [][]float32
}

func newFixture(t testing.TB, cfg tinyConfig, n int) *fixture {
	f := &fixture{backend: testBackend(t), store: newTinyStore(t, cfg, 7), cfg: cfg, images: randImages(n, testSize, 3)}
	f.fn = cfg.model
	return f
}

func (f *fixture) explain(t testing.TB, opts Options, targets ...int) *Result {
	t.Helper()
	e, err := NewExplainer(f.backend, f.store, f.fn, opts)
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.Explain(f.images, testSize, targets...)
	if err != nil {
		t.Fatalf("%s: %v", opts, err)
	}
	return r
}

// relErr is max|a-b| / max|b| (0 when both are all zero).
func relErr(a, b []float32) float64 {
	var num, den float64
	for i := range a {
		num = math.Max(num, math.Abs(float64(a[i])-float64(b[i])))
		den = math.Max(den, math.Abs(float64(b[i])))
	}
	if den == 0 {
		return num
	}
	return num / den
}

func scaled(m []float32, s float32) []float32 {
	out := make([]float32, len(m))
	for i, v := range m {
		out[i] = v * s
	}
	return out
}

// hostCAM is ReLU(sum_c wfn(W[c,k]) A[n,p,c]) computed directly from the activations and head weights.
func hostCAM(acts []float32, dims []int, head []float32, k, numK int, n int, wfn func(float64, int) float64) []float32 {
	hw, c := dims[1]*dims[2], dims[3]
	m := make([]float32, hw)
	for p := range hw {
		var s float64
		for ch := range c {
			s += wfn(float64(head[ch*numK+k]), ch) * float64(acts[(n*hw+p)*c+ch])
		}
		m[p] = float32(math.Max(s, 0))
	}
	return m
}

// TestGAPDenseIdentities checks the known identities for a GAP + dense head (Zhou et al.; Selvaraju et al.):
// dG/dA = W[c,k]/(h*w) everywhere, so Grad-CAM = CAM/(h*w) = HiResCAM = XGradCAM, LayerCAM = CAM with relu(W)/(h*w),
// and Grad-CAM++ has the closed form w_c = hw*g/(2+S_c*g) for g = W[c,k]/(hw) > 0. CAM itself is checked against a
// host computation from the activations and the head weights.
func TestGAPDenseIdentities(t *testing.T) {
	f := newFixture(t, defaultTiny, 3)
	acts, dims := features(t, f.backend, f.store, f.fn, f.images, testSize, "layer2")
	head := variable(t, f.store, "/head/weights")
	numK, hw := f.cfg.classes, dims[1]*dims[2]
	sumA := make([][]float64, len(f.images)) // per image, per channel, sum over positions
	for n := range f.images {
		sumA[n] = make([]float64, dims[3])
		for p := range hw {
			for ch := range dims[3] {
				sumA[n][ch] += float64(acts[(n*hw+p)*dims[3]+ch])
			}
		}
	}

	res := map[Method]*Result{}
	for _, m := range []Method{CAM, GradCAM, HiResCAM, XGradCAM, LayerCAM, GradCAMPlusPlus} {
		res[m] = f.explain(t, Options{Method: m, Layers: []string{"layer2"}, HeadWeights: HeadWeightsVariable("/head/weights")})
	}
	var worst = map[string]float64{}
	check := func(name string, got, want []float32, tol float64) {
		e := relErr(got, want)
		worst[name] = math.Max(worst[name], e)
		if e > tol || math.IsNaN(e) {
			t.Errorf("%s: relative error %.3g > %.0e", name, e, tol)
		}
	}
	nonZero := 0
	for n := range f.images {
		for k := range numK {
			cam := hostCAM(acts, dims, head, k, numK, n, func(w float64, _ int) float64 { return w })
			if slices.Max(cam) > 0 {
				nonZero++
			}
			check("cam vs host", res[CAM].Raw[n][k], cam, 1e-5)
			check("gradcam*hw vs cam", scaled(res[GradCAM].Raw[n][k], float32(hw)), res[CAM].Raw[n][k], 1e-4)
			check("hirescam vs gradcam", res[HiResCAM].Raw[n][k], res[GradCAM].Raw[n][k], 1e-4)
			check("xgradcam vs gradcam", res[XGradCAM].Raw[n][k], res[GradCAM].Raw[n][k], 1e-4)
			lcam := hostCAM(acts, dims, head, k, numK, n, func(w float64, _ int) float64 { return math.Max(w, 0) / float64(hw) })
			check("layercam vs relu(W) cam", res[LayerCAM].Raw[n][k], lcam, 1e-4)
			pp := hostCAM(acts, dims, head, k, numK, n, func(w float64, ch int) float64 {
				g := w / float64(hw)
				if g <= 0 {
					return 0
				}
				return float64(hw) * g / (2 + sumA[n][ch]*g)
			})
			check("gradcam++ closed form", res[GradCAMPlusPlus].Raw[n][k], pp, 1e-4)
		}
	}
	if nonZero < len(f.images)*numK/2 {
		t.Fatalf("only %d of %d CAM maps are non-zero: the test net is degenerate", nonZero, len(f.images)*numK)
	}
	t.Logf("max relative errors: %v", worst)
	// Probabilities: rows sum to 1.
	for n, p := range res[GradCAM].Probs {
		var s float64
		for _, v := range p {
			s += float64(v)
		}
		if math.Abs(s-1) > 1e-5 {
			t.Errorf("image %d: probabilities sum to %g", n, s)
		}
	}
}

// TestGradientsMatchFiniteDifferences perturbs entries of the "stem" feature map of a smooth (softplus, float64)
// net and compares d logit_k / d A (central differences) with the engine's gradients (the graph path Grad-CAM uses).
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	cfg := defaultTiny
	cfg.softplus, cfg.f64 = true, true
	f := newFixture(t, cfg, 2)
	e, err := NewExplainer(f.backend, f.store, f.fn, Options{Method: GradCAM, Layers: []string{"stem"}, BatchSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	e.debugGrads = true
	out, err := e.run(f.images, testSize, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	grads := out.grads[0] // [N,K,h,w,C]
	stemOut, err := model.CallOnceN(f.backend, f.store, func(scope *model.Scope, x *Node) []*Node {
		logits, feats := cfg.model(scope, x)
		return []*Node{feats["stem"], logits}
	}, batchTensor(f.images, testSize, len(f.images)))
	if err != nil {
		t.Fatal(err)
	}
	stem, dims := tensors.MustCopyFlatData[float64](stemOut[0]), stemOut[0].Shape().Dimensions
	h, w, c, numK := dims[1], dims[2], dims[3], cfg.classes
	per := h * w * c

	headExec, err := model.NewExec(f.backend, f.store, func(scope *model.Scope, feat *Node) *Node {
		logits, _ := cfg.fromStem(scope, feat)
		return logits
	})
	if err != nil {
		t.Fatal(err)
	}
	logitsOf := func(feat []float64) []float64 {
		o, err := headExec.Call(tensors.FromFlatDataAndDimensions(feat, 1, h, w, c))
		if err != nil {
			t.Fatal(err)
		}
		return tensors.MustCopyFlatData[float64](o[0])
	}
	var maxG float64
	for _, v := range grads {
		maxG = math.Max(maxG, math.Abs(float64(v)))
	}
	if maxG == 0 {
		t.Fatal("all gradients are zero")
	}
	rng := rand.New(rand.NewPCG(5, 5))
	const eps = 1e-4
	worst := 0.0
	for range 24 {
		n, idx := rng.IntN(len(f.images)), rng.IntN(per)
		feat := slices.Clone(stem[n*per : (n+1)*per])
		orig := feat[idx]
		feat[idx] = orig + eps
		up := logitsOf(feat)
		feat[idx] = orig - eps
		down := logitsOf(feat)
		for k := range numK {
			fd := (up[k] - down[k]) / (2 * eps)
			g := float64(grads[(n*numK+k)*per+idx])
			d := math.Abs(fd-g) / maxG
			worst = math.Max(worst, d)
			if d > 1e-5 {
				t.Errorf("image %d entry %d class %d: gradient %.8g, finite difference %.8g", n, idx, k, g, fd)
			}
		}
	}
	t.Logf("max |grad - finite difference| / max|grad| = %.3g (max|grad| %.3g)", worst, maxG)
}

// TestTargetsAndBatching: per-image targets give the same maps as the all-classes run, -1 picks the predicted class,
// and padding the last batch (5 images, batch 2) changes nothing versus one batch of 8.
func TestTargetsAndBatching(t *testing.T) {
	f := newFixture(t, defaultTiny, 5)
	all := f.explain(t, Options{Method: GradCAM, Layers: []string{"layer1"}, BatchSize: 8})
	small := f.explain(t, Options{Method: GradCAM, Layers: []string{"layer1"}, BatchSize: 2})
	targets := []int{0, -1, 5, -1, 2}
	one := f.explain(t, Options{Method: GradCAM, Layers: []string{"layer1"}, BatchSize: 2}, targets...)
	if all.LayerW != testSize/2 || all.LayerH != testSize/2 || len(all.Maps[0]) != 6 || len(all.Maps[0][0]) != testSize*testSize {
		t.Fatalf("unexpected shapes: layer %dx%d, %d maps of %d", all.LayerW, all.LayerH, len(all.Maps[0]), len(all.Maps[0][0]))
	}
	for n := range f.images {
		for k := range 6 {
			if e := relErr(small.Raw[n][k], all.Raw[n][k]); e > 1e-5 {
				t.Errorf("image %d class %d: batch 2 vs 8 differ by %.3g", n, k, e)
			}
		}
		want := targets[n]
		if want < 0 {
			want = heatmap.ArgMax(all.Probs[n])
		}
		if one.Targets[n] != want {
			t.Errorf("image %d: target %d, want %d", n, one.Targets[n], want)
		}
		if len(one.Raw[n]) != 1 {
			t.Fatalf("per-image result has %d maps", len(one.Raw[n]))
		}
		if e := relErr(one.Raw[n][0], all.Raw[n][want]); e > 1e-5 {
			t.Errorf("image %d: target map differs from the all-classes map by %.3g", n, e)
		}
		if e := relErr(one.Maps[n][0], all.Maps[n][want]); e > 1e-4 {
			t.Errorf("image %d: upsampled target map differs by %.3g", n, e)
		}
		if e := relErr(one.Probs[n], all.Probs[n]); e > 1e-5 {
			t.Errorf("image %d: probabilities differ by %.3g", n, e)
		}
	}
}

// TestZeroGradientAndBadInput: a head that ignores the features gives all-zero maps, and NaN/Inf/constant images
// give finite maps in [0,1], for every method.
func TestZeroGradientAndBadInput(t *testing.T) {
	cfg := defaultTiny
	cfg.zeroHead = true
	f := newFixture(t, cfg, 2)
	for _, m := range []Method{GradCAM, GradCAMPlusPlus, XGradCAM, HiResCAM, LayerCAM} {
		r := f.explain(t, Options{Method: m, Layers: []string{"layer2"}})
		for n := range r.Maps {
			for k := range r.Maps[n] {
				if slices.Max(r.Raw[n][k]) != 0 || slices.Min(r.Raw[n][k]) != 0 || slices.Max(r.Maps[n][k]) != 0 {
					t.Fatalf("%s image %d class %d: zero gradient should give an all-zero map, got max raw %g",
						m, n, k, slices.Max(r.Raw[n][k]))
				}
			}
		}
	}

	g := newFixture(t, defaultTiny, 0)
	bad := make([]float32, testSize*testSize)
	for i := range bad {
		switch i % 3 {
		case 0:
			bad[i] = float32(math.NaN())
		case 1:
			bad[i] = float32(math.Inf(1))
		default:
			bad[i] = 0.5
		}
	}
	g.images = [][]float32{bad, make([]float32, testSize*testSize), randImages(1, testSize, 9)[0]}
	for _, m := range Methods {
		for _, norm := range []Normalization{NormMinMax, NormPercentile} {
			r := g.explain(t, Options{Method: m, Layers: []string{"layer2"}, HeadWeights: HeadWeightsVariable("/head/weights"),
				Normalize: norm, ScoreCAMTopK: 4})
			for n := range r.Maps {
				for k := range r.Maps[n] {
					for _, v := range append(slices.Clone(r.Maps[n][k]), r.Raw[n][k]...) {
						if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || v < 0 {
							t.Fatalf("%s norm %d image %d class %d: bad value %g", m, norm, n, k, v)
						}
					}
					if slices.Max(r.Maps[n][k]) > 1 {
						t.Fatalf("%s: map above 1", m)
					}
				}
			}
			// The third image is a normal one: at least some of its maps must be non-trivial.
			nonZero := 0
			for k := range r.Maps[2] {
				if slices.Max(r.Maps[2][k]) > 0.99 {
					nonZero++
				}
			}
			if nonZero == 0 {
				t.Errorf("%s norm %d: every map of a normal image is zero", m, norm)
			}
		}
	}
}

// TestEigenCAMMatchesSVD compares EigenCAM with a gonum SVD of the position-centred activations (both layer sizes:
// h*w > C uses the C x C Gram matrix, h*w <= C the positions' one).
func TestEigenCAMMatchesSVD(t *testing.T) {
	cfg := defaultTiny
	cfg.c1 = 40 // stem 16x16=256 positions > 40 channels; layer2 8x8=64 positions > 10 channels
	f := newFixture(t, cfg, 2)
	smallCfg := defaultTiny
	smallCfg.c3 = 80 // layer2: 64 positions <= 80 channels
	g := newFixture(t, smallCfg, 2)
	for _, tc := range []struct {
		f     *fixture
		layer string
	}{{f, "stem"}, {f, "layer2"}, {g, "layer2"}} {
		r := tc.f.explain(t, Options{Method: EigenCAM, Layers: []string{tc.layer}})
		acts, dims := features(t, tc.f.backend, tc.f.store, tc.f.fn, tc.f.images, testSize, tc.layer)
		hw, c := dims[1]*dims[2], dims[3]
		for n := range tc.f.images {
			x := mat.NewDense(hw, c, nil)
			for p := range hw {
				for ch := range c {
					x.Set(p, ch, float64(acts[(n*hw+p)*c+ch]))
				}
			}
			for ch := range c {
				var mean float64
				for p := range hw {
					mean += x.At(p, ch)
				}
				mean /= float64(hw)
				for p := range hw {
					x.Set(p, ch, x.At(p, ch)-mean)
				}
			}
			var svd mat.SVD
			if !svd.Factorize(x, mat.SVDThin) {
				t.Fatal("SVD failed")
			}
			var v mat.Dense
			svd.VTo(&v)
			proj := make([]float64, hw)
			meanMap := make([]float64, hw)
			var cov, avg float64
			for p := range hw {
				for ch := range c {
					proj[p] += x.At(p, ch) * v.At(ch, 0)
					meanMap[p] += float64(acts[(n*hw+p)*c+ch]) / float64(c)
				}
				avg += meanMap[p] / float64(hw)
			}
			for p := range hw {
				cov += proj[p] * (meanMap[p] - avg)
			}
			want := make([]float32, hw)
			for p := range hw {
				if cov < 0 {
					proj[p] = -proj[p]
				}
				want[p] = float32(math.Max(proj[p], 0))
			}
			for k := range r.Raw[n] {
				if e := relErr(r.Raw[n][k], want); e > 1e-3 {
					t.Errorf("%s image %d class %d: EigenCAM vs SVD relative error %.3g", tc.layer, n, k, e)
				}
			}
		}
	}
}

// TestScoreCAM checks ScoreCAM against a direct host implementation using Predict, and that TopK = C equals all.
func TestScoreCAM(t *testing.T) {
	f := newFixture(t, defaultTiny, 2)
	layer := "layer2"
	r := f.explain(t, Options{Method: ScoreCAM, Layers: []string{layer}, BatchSize: 4})
	rTop := f.explain(t, Options{Method: ScoreCAM, Layers: []string{layer}, BatchSize: 4, ScoreCAMTopK: f.cfg.c3})
	rTop3 := f.explain(t, Options{Method: ScoreCAM, Layers: []string{layer}, BatchSize: 4, ScoreCAMTopK: 3})
	e, err := NewExplainer(f.backend, f.store, f.fn, Options{Layers: []string{layer}, BatchSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	acts, dims := features(t, f.backend, f.store, f.fn, f.images, testSize, layer)
	h, w, c := dims[1], dims[2], dims[3]
	for n, img := range f.images {
		var masked [][]float32
		for ch := range c {
			m := make([]float32, h*w)
			for p := range m {
				m[p] = acts[(n*h*w+p)*c+ch]
			}
			up := Normalize(heatmap.Resize(m, w, h, testSize, testSize), NormMinMax, 0)
			x := make([]float32, len(img))
			for i := range x {
				x[i] = img[i] * up[i]
			}
			masked = append(masked, x)
		}
		probs, err := e.Predict(masked, testSize)
		if err != nil {
			t.Fatal(err)
		}
		for k := range f.cfg.classes {
			want := make([]float32, h*w)
			for p := range want {
				var s float64
				for ch := range c {
					s += float64(probs[ch][k]) * float64(acts[(n*h*w+p)*c+ch])
				}
				want[p] = float32(math.Max(s, 0))
			}
			if e := relErr(r.Raw[n][k], want); e > 1e-4 {
				t.Errorf("image %d class %d: ScoreCAM vs host relative error %.3g", n, k, e)
			}
			if e := relErr(rTop.Raw[n][k], r.Raw[n][k]); e > 1e-6 {
				t.Errorf("TopK=C differs from all channels by %.3g", e)
			}
			if slices.Equal(rTop3.Raw[n][k], r.Raw[n][k]) {
				t.Errorf("TopK=3 should differ from all %d channels", c)
			}
		}
	}
}

// TestLayerFusion: two layers fuse into the mean of their min-max normalised maps at the finer resolution.
func TestLayerFusion(t *testing.T) {
	f := newFixture(t, defaultTiny, 2)
	fused := f.explain(t, Options{Layers: []string{"layer2", "stem"}})
	a := f.explain(t, Options{Layers: []string{"layer2"}})
	b := f.explain(t, Options{Layers: []string{"stem"}})
	if fused.LayerW != testSize || fused.LayerH != testSize {
		t.Fatalf("fused resolution %dx%d, want the finest (%d)", fused.LayerW, fused.LayerH, testSize)
	}
	for n := range f.images {
		for k := range 6 {
			ma := Normalize(heatmap.Resize(a.Raw[n][k], a.LayerW, a.LayerH, testSize, testSize), NormMinMax, 0)
			mb := Normalize(slices.Clone(b.Raw[n][k]), NormMinMax, 0)
			want := make([]float32, len(ma))
			for i := range want {
				want[i] = (ma[i] + mb[i]) / 2
			}
			if e := relErr(fused.Raw[n][k], want); e > 1e-5 {
				t.Errorf("image %d class %d: fusion error %.3g", n, k, e)
			}
		}
	}
}

// TestNoiseAveraging: tiny noise reproduces the clean maps; real noise is reproducible for a seed and changes maps.
func TestNoiseAveraging(t *testing.T) {
	f := newFixture(t, defaultTiny, 2)
	base := Options{Method: GradCAMPlusPlus, Layers: []string{"layer1"}}
	clean := f.explain(t, base)
	tiny := base
	tiny.NoiseSamples, tiny.NoiseStd = 3, 1e-7
	rt := f.explain(t, tiny)
	noisy := base
	noisy.NoiseSamples, noisy.NoiseStd, noisy.Seed = 3, 0.2, 11
	r1, r2 := f.explain(t, noisy), f.explain(t, noisy)
	for n := range f.images {
		for k := range 6 {
			if e := relErr(rt.Raw[n][k], clean.Raw[n][k]); e > 1e-3 {
				t.Errorf("tiny noise changed the map by %.3g", e)
			}
			if !slices.Equal(r1.Raw[n][k], r2.Raw[n][k]) {
				t.Errorf("same seed, different maps")
			}
		}
		if e := relErr(r1.Probs[n], clean.Probs[n]); e > 1e-6 {
			t.Errorf("probabilities must be those of the clean image (error %.3g)", e)
		}
	}
	if e := relErr(r1.Raw[0][0], clean.Raw[0][0]); e < 1e-3 {
		t.Errorf("noise std 0.2 left the map unchanged (%.3g)", e)
	}
}

func TestNewExplainerErrors(t *testing.T) {
	b := testBackend(t)
	store := newTinyStore(t, defaultTiny, 1)
	fn := ModelFn(defaultTiny.model)
	for name, opts := range map[string]Options{
		"no layers":      {},
		"unknown method": {Method: "nope", Layers: []string{"stem"}},
		"cam no head":    {Method: CAM, Layers: []string{"layer2"}},
	} {
		if _, err := NewExplainer(b, store, fn, opts); err == nil {
			t.Errorf("%s: expected an error", name)
		}
	}
	e, err := NewExplainer(b, store, fn, Options{Layers: []string{"layer9"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Explain(randImages(1, testSize, 1), testSize); err == nil {
		t.Error("unknown layer: expected an error")
	}
	if _, err := e.Explain(randImages(1, testSize, 1), testSize+1); err == nil {
		t.Error("wrong image size: expected an error")
	}
	if _, err := e.Explain(randImages(2, testSize, 1), testSize, 1); err == nil {
		t.Error("targets count mismatch: expected an error")
	}
}

// TestLogProbScore: with Score = ScoreLogProb the gradient of log p_k through a GAP + dense head is
// (W[c,k] - sum_j p_j W[c,j]) / (h*w) at every position, so Grad-CAM is that channel weighting of the activations.
func TestLogProbScore(t *testing.T) {
	f := newFixture(t, defaultTiny, 3)
	acts, dims := features(t, f.backend, f.store, f.fn, f.images, testSize, "layer2")
	head := variable(t, f.store, "/head/weights")
	numK, hw := f.cfg.classes, dims[1]*dims[2]
	res := f.explain(t, Options{Method: GradCAM, Layers: []string{"layer2"}, Score: ScoreLogProb})
	plain := f.explain(t, Options{Method: GradCAM, Layers: []string{"layer2"}})
	differs := false
	for n := range f.images {
		p := res.Probs[n]
		for k := range numK {
			want := hostCAM(acts, dims, head, k, numK, n, func(w float64, ch int) float64 {
				avg := 0.0
				for j := range numK {
					avg += float64(p[j]) * float64(head[ch*numK+j])
				}
				return (w - avg) / float64(hw)
			})
			if e := relErr(res.Raw[n][k], want); e > 1e-4 || math.IsNaN(e) {
				t.Errorf("image %d class %d: relative error %.3g vs the closed form", n, k, e)
			}
			if relErr(res.Raw[n][k], plain.Raw[n][k]) > 1e-3 {
				differs = true
			}
		}
	}
	if !differs {
		t.Error("log-prob maps equal the logit maps: the option has no effect")
	}
}
