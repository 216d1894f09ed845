package gradcam

import (
	"math"
	"slices"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// Normalisation of maps after upsampling; resizing and the dihedral transforms are package heatmap's.

// finite is the engine's short name for heatmap.Finite.
var finite = heatmap.Finite

// Normalization says how a map is scaled to [0,1] after upsampling.
type Normalization int

const (
	// NormMinMax (default): clamp negatives to 0 (ReLU), then (m-min)/(max-min). A constant map (range <= 1e-6 of
	// its largest magnitude, or exactly zero) becomes all zeros.
	NormMinMax Normalization = iota
	// NormPercentile: clamp negatives to 0, divide by the Options.Percentile-th percentile of the map's values and
	// clip to [0,1], so a few hot pixels don't squash the rest. When that percentile is 0 (a sparse map), the max is
	// used instead; an all-zero map stays all zeros.
	NormPercentile
	// NormNone: clamp negatives to 0 only (values not scaled); for callers that fuse or compare raw magnitudes.
	NormNone
)

// Normalize scales m in place according to norm (see Normalization); percentile is in (0,100], used by
// NormPercentile. Non-finite values are treated as 0. It returns m.
func Normalize(m []float32, norm Normalization, percentile float64) []float32 {
	for i, v := range m {
		m[i] = max(heatmap.Finite(v), 0)
	}
	if len(m) == 0 {
		return m
	}
	switch norm {
	case NormNone:
		return m
	case NormPercentile:
		if percentile <= 0 || percentile > 100 {
			percentile = 99
		}
		sorted := slices.Clone(m)
		slices.Sort(sorted)
		pos := percentile / 100 * float64(len(sorted)-1)
		lo := int(math.Floor(pos))
		hi := min(lo+1, len(sorted)-1)
		p := float64(sorted[lo]) + (pos-float64(lo))*float64(sorted[hi]-sorted[lo])
		if p <= 0 {
			p = float64(sorted[len(sorted)-1])
		}
		if p <= 0 || math.IsInf(p, 0) {
			clear(m)
			return m
		}
		for i, v := range m {
			m[i] = float32(math.Min(float64(v)/p, 1))
		}
		return m
	default:
		lo, hi := slices.Min(m), slices.Max(m)
		rng := float64(hi) - float64(lo)
		if !(rng > 1e-6*math.Max(math.Abs(float64(hi)), math.Abs(float64(lo)))) || !(rng > 1e-30) {
			clear(m)
			return m
		}
		for i, v := range m {
			m[i] = float32((float64(v) - float64(lo)) / rng)
		}
		return m
	}
}
