package gradcam

import (
	"math"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
)

// TestGAPDenseClosedFormsMore: on the layer feeding a GAP + dense head, zeroing channel c lowers logit k by exactly
// W[c,k] * mean(A_c), so AblationCAM's weight is W[c,k] mean(A_c) / z_k; pytorch-grad-cam's Grad-CAM++ weight is
// hw g^3 / (2 g^2 + S_c g^3 + 1e-6) for g = W[c,k]/hw > 0.
func TestGAPDenseClosedFormsMore(t *testing.T) {
	f := newFixture(t, defaultTiny, 3)
	acts, dims := features(t, f.backend, f.store, f.fn, f.images, testSize, "layer2")
	head, bias := variable(t, f.store, "/head/weights"), variable(t, f.store, "/head/bias")
	numK, hw, c := f.cfg.classes, dims[1]*dims[2], dims[3]
	ablation := f.explain(t, Options{Method: AblationCAM, Layers: []string{"layer2"}})
	pgcPP := f.explain(t, Options{Method: GradCAMPlusPlus, PGC: true, Layers: []string{"layer2"}})
	for n := range f.images {
		meanA := make([]float64, c)
		for p := range hw {
			for ch := range c {
				meanA[ch] += float64(acts[(n*hw+p)*c+ch]) / float64(hw)
			}
		}
		for k := range numK {
			z := float64(bias[k])
			for ch := range c {
				z += float64(head[ch*numK+k]) * meanA[ch]
			}
			want := hostCAM(acts, dims, head, k, numK, n, func(w float64, ch int) float64 { return w * meanA[ch] / z })
			if e := relErr(ablation.Raw[n][k], want); e > 1e-3 {
				t.Errorf("ablationcam image %d class %d: relative error %.3g", n, k, e)
			}
			want = hostCAM(acts, dims, head, k, numK, n, func(w float64, ch int) float64 {
				g := w / float64(hw)
				if g <= 0 {
					return 0
				}
				return float64(hw) * g * g * g / (2*g*g + meanA[ch]*float64(hw)*g*g*g + 1e-6)
			})
			if e := relErr(pgcPP.Raw[n][k], want); e > 1e-4 {
				t.Errorf("gradcam++:pgc image %d class %d: relative error %.3g", n, k, e)
			}
		}
	}
}

// TestFinerScores: FinerCAM's score for main class k contrasts it with the 3 classes of nearest logit, weighted by
// their probabilities (closed form on fixed logits).
func TestFinerScores(t *testing.T) {
	z := []float32{2, 1.5, -1, 0.5, 3, -4}
	got := runGraph1(t, finerScores, z)
	p := make([]float64, len(z))
	var sum float64
	for j, v := range z {
		p[j] = math.Exp(float64(v))
		sum += p[j]
	}
	// Nearest 3 of each class by |z_j - z_k| (no ties here).
	near := [][]int{{1, 4, 3}, {0, 3, 4}, {3, 1, 0}, {1, 2, 0}, {0, 1, 3}, {2, 3, 1}}
	for k, js := range near {
		var num, den float64
		for _, j := range js {
			num += p[j] / sum * float64(z[k]-z[j])
			den += p[j] / sum
		}
		if want := num / (den + 1e-9); math.Abs(float64(got[k])-want) > 1e-5 {
			t.Errorf("class %d: score %g, want %g", k, got[k], want)
		}
	}
}

// runGraph1 evaluates fn on one row [1,K] of values and returns its output row.
func runGraph1(t *testing.T, fn func(*Node) *Node, row []float32) []float32 {
	t.Helper()
	out, err := model.CallOnce(testBackend(t), model.NewStore(), func(_ *model.Scope, x *Node) *Node {
		return fn(x)
	}, tensors.FromFlatDataAndDimensions(row, 1, len(row)))
	if err != nil {
		t.Fatal(err)
	}
	return tensors.MustCopyFlatData[float32](out)
}
