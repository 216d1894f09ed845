package gradcam

import (
	"math"
	"slices"
	"testing"
)

// TestFlipEquivariance uses a net whose features are equivariant to the 8 symmetries of the square (symmetric
// kernels, mean-pool downsampling): map(T x) must equal T map(x) for every T (at layer and input resolution), and
// the TTA average must then equal the plain maps.
func TestFlipEquivariance(t *testing.T) {
	cfg := defaultTiny
	cfg.symmetric = true
	f := newFixture(t, cfg, 2)
	for _, layer := range []string{"layer1", "stem"} {
		opts := Options{Method: GradCAM, Layers: []string{layer}}
		plain := f.explain(t, opts)
		orig := f.images
		for _, tr := range Dihedral[1:] {
			f.images = make([][]float32, len(orig))
			for n, img := range orig {
				f.images[n] = tr.Apply(img, testSize, testSize)
			}
			r := f.explain(t, opts)
			for n := range orig {
				if e := relErr(r.Probs[n], plain.Probs[n]); e > 1e-5 {
					t.Errorf("%s: probabilities not invariant to transform %d (%.3g)", layer, tr, e)
				}
				for k := range r.Raw[n] {
					want := tr.Apply(plain.Raw[n][k], plain.LayerW, plain.LayerH)
					if e := relErr(r.Raw[n][k], want); e > 1e-4 {
						t.Errorf("%s transform %d image %d class %d: map(T x) != T map(x) (error %.3g)", layer, tr, n, k, e)
					}
					if e := relErr(r.Maps[n][k], tr.Apply(plain.Maps[n][k], testSize, testSize)); e > 1e-4 {
						t.Errorf("%s transform %d: upsampled maps not equivariant (error %.3g)", layer, tr, e)
					}
				}
			}
		}
		f.images = orig
		for _, mode := range []TTAMode{TTAFlips, TTADihedral} {
			o := opts
			o.TTA = mode
			r := f.explain(t, o)
			for n := range r.Raw {
				for k := range r.Raw[n] {
					if e := relErr(r.Raw[n][k], plain.Raw[n][k]); e > 1e-4 {
						t.Errorf("%s TTA %d: differs from the plain map by %.3g on an equivariant net", layer, mode, e)
					}
				}
			}
		}
	}
}

// TestTTAMapsBack: on an ordinary (non-equivariant) net, the TTA result is the average of the inverse-transformed
// maps of the transformed images, and differs from the plain map.
func TestTTAMapsBack(t *testing.T) {
	f := newFixture(t, defaultTiny, 2)
	opts := Options{Method: LayerCAM, Layers: []string{"layer1"}}
	plain := f.explain(t, opts)
	o := opts
	o.TTA = TTADihedral
	tta := f.explain(t, o)
	orig := f.images
	sum := make([][][]float64, len(orig))
	for _, tr := range Dihedral {
		f.images = make([][]float32, len(orig))
		for n, img := range orig {
			f.images[n] = tr.Apply(img, testSize, testSize)
		}
		r := f.explain(t, opts)
		for n := range r.Raw {
			if sum[n] == nil {
				sum[n] = make([][]float64, len(r.Raw[n]))
			}
			for k, m := range r.Raw[n] {
				back := tr.Inverse().Apply(m, r.LayerW, r.LayerH)
				if sum[n][k] == nil {
					sum[n][k] = make([]float64, len(back))
				}
				for i, v := range back {
					sum[n][k][i] += float64(v) / float64(len(Dihedral))
				}
			}
		}
	}
	f.images = orig
	differs := false
	for n := range tta.Raw {
		for k := range tta.Raw[n] {
			want := make([]float32, len(sum[n][k]))
			for i, v := range sum[n][k] {
				want[i] = float32(v)
			}
			if e := relErr(tta.Raw[n][k], want); e > 1e-5 {
				t.Errorf("image %d class %d: TTA differs from the manual average by %.3g", n, k, e)
			}
			if relErr(tta.Raw[n][k], plain.Raw[n][k]) > 1e-2 {
				differs = true
			}
		}
		if e := relErr(tta.Probs[n], plain.Probs[n]); e > 1e-6 {
			t.Errorf("TTA probabilities must be those of the untransformed image (%.3g)", e)
		}
	}
	if !differs {
		t.Error("TTA on a non-equivariant net gave the plain maps: transforms not applied?")
	}
}

func TestResizeMatchesHalfPixelBilinear(t *testing.T) {
	// PyTorch: F.interpolate(tensor([[0,1],[2,3]]), size=4, mode="bilinear", align_corners=False).
	got := Resize([]float32{0, 1, 2, 3}, 2, 2, 4, 4)
	want := []float32{0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3}
	if relErr(got, want) > 1e-6 {
		t.Errorf("Resize 2x2->4x4 = %v, want %v", got, want)
	}
	// Downsampling 4x1 -> 2x1 averages pixel pairs; NaN reads as 0; constant stays constant.
	if got := Resize([]float32{0, 2, 4, float32(math.NaN())}, 4, 1, 2, 1); relErr(got, []float32{1, 2}) > 1e-6 {
		t.Errorf("Resize 4->2 = %v", got)
	}
	c := Resize([]float32{3, 3, 3, 3, 3, 3}, 3, 2, 7, 5)
	if slices.Min(c) != 3 || slices.Max(c) != 3 {
		t.Errorf("constant map not constant after resize: %v", c)
	}
}

func TestNormalize(t *testing.T) {
	if got := Normalize([]float32{-1, 1, 2, 3}, NormMinMax, 0); relErr(got, []float32{0, 1. / 3, 2. / 3, 1}) > 1e-6 {
		t.Errorf("min-max = %v", got)
	}
	for _, m := range [][]float32{{0, 0, 0}, {5, 5, 5}, {-1, -2, -3}, {float32(math.NaN()), float32(math.Inf(1)), 0}} {
		if got := Normalize(slices.Clone(m), NormMinMax, 0); slices.Max(got) != 0 {
			t.Errorf("Normalize(%v) = %v, want zeros", m, got)
		}
	}
	vals := make([]float32, 101)
	for i := range vals {
		vals[i] = float32(i)
	}
	got := Normalize(slices.Clone(vals), NormPercentile, 50)
	if got[25] != 0.5 || got[50] != 1 || got[100] != 1 || got[0] != 0 {
		t.Errorf("percentile 50: got[25]=%g got[50]=%g got[100]=%g", got[25], got[50], got[100])
	}
	sparse := make([]float32, 100)
	sparse[7] = 4
	if got := Normalize(sparse, NormPercentile, 99); got[7] != 1 || got[0] != 0 {
		t.Errorf("sparse map: percentile 0 should fall back to the max, got %v", got[7])
	}
}

func TestTransforms(t *testing.T) {
	// Rot90 turns clockwise: [[1,2],[3,4]] -> [[3,1],[4,2]].
	if got := Rot90.Apply([]float32{1, 2, 3, 4}, 2, 2); !slices.Equal(got, []float32{3, 1, 4, 2}) {
		t.Errorf("Rot90 = %v", got)
	}
	if got := FlipH.Apply([]float32{1, 2, 3, 4, 5, 6}, 3, 2); !slices.Equal(got, []float32{3, 2, 1, 6, 5, 4}) {
		t.Errorf("FlipH = %v", got)
	}
	m := []float32{1, 2, 3, 4, 5, 6} // 3 wide, 2 high
	seen := map[string]bool{}
	for _, tr := range Dihedral {
		out := tr.Apply(m, 3, 2)
		w, h := 3, 2
		if tr.swaps() {
			w, h = 2, 3
		}
		if back := tr.Inverse().Apply(out, w, h); !slices.Equal(back, m) {
			t.Errorf("transform %d: inverse gives %v", tr, back)
		}
		seen[string(rune(w))+fmtFloats(out)] = true
	}
	if len(seen) != 8 {
		t.Errorf("the 8 transforms give %d distinct results", len(seen))
	}
}

func fmtFloats(v []float32) string {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return string(b)
}
