package metrics

import (
	"fmt"
	"math"
	"sort"
)

// ranks returns 1-based ranks with ties given their average rank; NaN is ranked as 0.
func ranks(a []float32) []float64 {
	n := len(a)
	v := make([]float64, n)
	for i, x := range a {
		if v[i] = float64(x); math.IsNaN(v[i]) {
			v[i] = 0
		}
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return v[idx[i]] < v[idx[j]] })
	r := make([]float64, n)
	for i := 0; i < n; {
		j := i + 1
		for j < n && v[idx[j]] == v[idx[i]] {
			j++
		}
		avg := float64(i+j+1) / 2 // mean of ranks i+1 .. j
		for k := i; k < j; k++ {
			r[idx[k]] = avg
		}
		i = j
	}
	return r
}

// SpearmanRank is Spearman's rank correlation of two maps (Pearson correlation of their ranks, ties given
// average ranks), used by the model-randomization sanity check (Adebayo et al. 2018): a map that survives
// randomizing the weights correlates highly with the trained model's map. NaN values rank as 0. It returns 0
// (not NaN) when either input is constant or has fewer than 2 values; it panics when the lengths differ.
func SpearmanRank(a, b []float32) float64 {
	if len(a) != len(b) {
		panic(fmt.Sprintf("metrics: SpearmanRank: lengths %d and %d differ", len(a), len(b)))
	}
	if len(a) < 2 {
		return 0
	}
	ra, rb := ranks(a), ranks(b)
	mean := float64(len(a)+1) / 2 // average ranks keep the mean rank
	var sab, saa, sbb float64
	for i := range ra {
		da, db := ra[i]-mean, rb[i]-mean
		sab += da * db
		saa += da * da
		sbb += db * db
	}
	if saa <= 0 || sbb <= 0 {
		return 0
	}
	r := sab / math.Sqrt(saa*sbb)
	return max(-1, min(1, r))
}

// MeanSpearman is the mean SpearmanRank over pairs of maps (a[i], b[i]); 0 for no pairs. It errors when the
// counts or a pair's lengths differ.
func MeanSpearman(a, b [][]float32) (float64, error) {
	if len(a) != len(b) {
		return 0, fmt.Errorf("metrics: MeanSpearman: %d maps vs %d maps", len(a), len(b))
	}
	if len(a) == 0 {
		return 0, nil
	}
	var s float64
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return 0, fmt.Errorf("metrics: MeanSpearman: pair %d has lengths %d and %d", i, len(a[i]), len(b[i]))
		}
		s += SpearmanRank(a[i], b[i])
	}
	return s / float64(len(a)), nil
}
