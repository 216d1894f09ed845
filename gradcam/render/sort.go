package render

import (
	"math"
	"sort"
)

// Prediction is what SortByLoss needs of one image: the true class index (-1 when unknown) and the
// predicted class probabilities.
type Prediction struct {
	TrueIdx int
	Probs   []float32
}

// minProb keeps the loss finite when the true class got probability 0.
const minProb = 1e-7

// Loss is the cross-entropy of the true class, -ln(max(p_true, 1e-7)); NaN when the true class is
// unknown or out of range of Probs.
func Loss(p Prediction) float64 {
	if p.TrueIdx < 0 || p.TrueIdx >= len(p.Probs) {
		return math.NaN()
	}
	pt := float64(p.Probs[p.TrueIdx])
	if math.IsNaN(pt) || pt < minProb {
		pt = minProb
	}
	return -math.Log(pt)
}

// SortByLoss returns the indices of preds ordered most-wrong first (fastai's plot_top_losses order):
// by Loss descending; images without a known true class come last in their original order. Equal
// losses keep their original order.
func SortByLoss(preds []Prediction) []int {
	idx := make([]int, len(preds))
	loss := make([]float64, len(preds))
	for i := range preds {
		idx[i] = i
		loss[i] = Loss(preds[i])
	}
	sort.SliceStable(idx, func(a, b int) bool {
		la, lb := loss[idx[a]], loss[idx[b]]
		if math.IsNaN(la) || math.IsNaN(lb) {
			return !math.IsNaN(la) && math.IsNaN(lb)
		}
		return la > lb
	})
	return idx
}
