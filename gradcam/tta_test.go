package gradcam

import (
	"math"
	"slices"
	"testing"

	"github.com/neucam/neucam/gradcam/heatmap"
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
		for _, tr := range heatmap.Dihedral[1:] {
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
	for _, tr := range heatmap.Dihedral {
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
					sum[n][k][i] += float64(v) / float64(len(heatmap.Dihedral))
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
