package metrics

import (
	"fmt"
	"math"
)

// Metrics against an exact pixel mask of the defect (synthetic data, segmentation labels) rather than its box:
// the same energy, gain and pointing game, with the mask in place of the box union.
const (
	MetricEnergyInMask   = "energy_in_mask"   // EnergyInMask
	MetricEnergyGainMask = "energy_gain_mask" // EnergyGain(EnergyInMask, MaskFraction)
	MetricPointingMask   = "pointing_game_mask"
)

// MaskMetrics lists the metrics AddMask records, in table order.
var MaskMetrics = []string{MetricEnergyInMask, MetricEnergyGainMask, MetricPointingMask}

// MaskFraction is the fraction of true pixels: the energy a uniform map puts inside the mask.
func MaskFraction(mask []bool) float64 {
	if len(mask) == 0 {
		return 0
	}
	n := 0
	for _, v := range mask {
		if v {
			n++
		}
	}
	return float64(n) / float64(len(mask))
}

// EnergyInMask is EnergyInBoxes with a pixel mask (len w*h) for the box union: the share of the map's sum on
// true pixels. An all-zero map or an empty mask gives 0.
func EnergyInMask(m []float32, w, h int, mask []bool) float64 {
	checkMap(m, w, h)
	checkMask(mask, w, h)
	var in, total float64
	for i, v := range m {
		f := value(v)
		total += f
		if mask[i] {
			in += f
		}
	}
	if total <= 0 || math.IsInf(total, 0) {
		return 0
	}
	return in / total
}

// PointingScoreMask is PointingScore with a mask: the fraction of the map's maximal pixels that lie within tol
// pixels (Euclidean) of a true pixel. All-zero map or empty mask: 0.
func PointingScoreMask(m []float32, w, h int, mask []bool, tol float64) float64 {
	checkMap(m, w, h)
	checkMask(mask, w, h)
	best := 0.0
	for _, v := range m {
		best = max(best, value(v))
	}
	if best <= 0 {
		return 0
	}
	d2 := SquaredDistanceToMask(mask, w, h)
	ties, hits := 0, 0
	for i, v := range m {
		if value(v) != best {
			continue
		}
		ties++
		if d2[i] <= tol*tol {
			hits++
		}
	}
	return float64(hits) / float64(ties)
}

func checkMask(mask []bool, w, h int) {
	if len(mask) != w*h {
		panic(fmt.Sprintf("metrics: mask has %d values, want w*h = %d*%d", len(mask), w, h))
	}
}

// SquaredDistanceToMask is the exact squared Euclidean distance from every pixel to the nearest true pixel
// (0 on the mask, +Inf everywhere for an empty mask), by the separable transform of Felzenszwalb and
// Huttenlocher (2012): O(w*h).
func SquaredDistanceToMask(mask []bool, w, h int) []float64 {
	checkMask(mask, w, h)
	d := make([]float64, w*h)
	for i, v := range mask {
		if !v {
			d[i] = math.Inf(1)
		}
	}
	col := make([]float64, h)
	for x := range w {
		for y := range h {
			col[y] = d[y*w+x]
		}
		out := distanceTransform1D(col)
		for y := range h {
			d[y*w+x] = out[y]
		}
	}
	for y := range h {
		copy(d[y*w:(y+1)*w], distanceTransform1D(d[y*w:(y+1)*w]))
	}
	return d
}

// distanceTransform1D returns min_q (p-q)^2 + f[q] for every p (lower envelope of parabolas).
func distanceTransform1D(f []float64) []float64 {
	n := len(f)
	out := make([]float64, n)
	v := make([]int, 0, n)       // parabola vertices of the envelope
	z := make([]float64, 0, n+1) // boundaries between them
	for q := range n {
		if math.IsInf(f[q], 1) {
			continue
		}
		for len(v) > 0 {
			p := v[len(v)-1]
			s := ((f[q] + float64(q*q)) - (f[p] + float64(p*p))) / float64(2*(q-p))
			if s > z[len(z)-1] {
				z = append(z, s)
				break
			}
			v, z = v[:len(v)-1], z[:len(z)-1]
		}
		if len(v) == 0 {
			z = append(z[:0], math.Inf(-1))
		}
		v = append(v, q)
	}
	if len(v) == 0 {
		for i := range out {
			out[i] = math.Inf(1)
		}
		return out
	}
	k := 0
	for p := range n {
		for k+1 < len(v) && z[k+1] < float64(p) {
			k++
		}
		dx := float64(p - v[k])
		out[p] = dx*dx + f[v[k]]
	}
	return out
}

// MaskScore holds the per-image values of one map against an exact mask.
type MaskScore struct {
	MaskFraction float64 `json:"mask_fraction"` // u: the uniform map's energy
	EnergyInMask float64 `json:"energy_in_mask"`
	EnergyGain   float64 `json:"energy_gain_mask"`
	Pointing     float64 `json:"pointing_game_mask"`
}

// AddMask scores the map m explaining class cls against the exact mask of that class (len w*h): energy in the
// mask, its gain over the uniform map's share (MaskFraction) and the pointing game with the tolerance Add uses.
// An empty mask is not scored (false).
func (a *Accumulator) AddMask(cls int, m []float32, w, h int, mask []bool) (MaskScore, bool, error) {
	var s MaskScore
	if err := validMap(m, w, h); err != nil {
		return s, false, fmt.Errorf("%w (method %q)", err, a.Method)
	}
	if len(mask) != w*h {
		return s, false, fmt.Errorf("metrics: mask has %d values, want %d*%d (method %q)", len(mask), w, h, a.Method)
	}
	if cls < 0 || cls >= len(a.Classes) {
		return s, false, fmt.Errorf("metrics: method %q: class %d out of range [0,%d)", a.Method, cls, len(a.Classes))
	}
	if s.MaskFraction = MaskFraction(mask); s.MaskFraction == 0 {
		return s, false, nil
	}
	tol := a.opts.Tolerance
	if tol <= 0 {
		tol = PointingTolerance(w)
	}
	s.EnergyInMask = EnergyInMask(m, w, h, mask)
	s.EnergyGain = EnergyGain(s.EnergyInMask, s.MaskFraction)
	s.Pointing = PointingScoreMask(m, w, h, mask, tol)
	a.add(MetricEnergyInMask, cls, s.EnergyInMask)
	a.add(MetricEnergyGainMask, cls, s.EnergyGain)
	a.add(MetricPointingMask, cls, s.Pointing)
	return s, true, nil
}

// AddMask scores one map of method against an exact mask; see Accumulator.AddMask.
func (s *Suite) AddMask(method string, cls int, m []float32, w, h int, mask []bool) (MaskScore, bool, error) {
	return s.Accumulator(method).AddMask(cls, m, w, h, mask)
}

// AddMaskBaselines scores the Uniform, CenterGaussian and a fresh Random map against an exact mask.
func (s *Suite) AddMaskBaselines(cls int, w, h int, mask []bool) error {
	maps := map[string][]float32{
		BaselineUniform:        s.baseline(0, w, h, func() []float32 { return Uniform(w, h) }),
		BaselineCenterGaussian: s.baseline(1, w, h, func() []float32 { return CenterGaussian(w, h, s.sigma) }),
		BaselineRandom:         Random(w, h, s.rng),
	}
	for _, name := range []string{BaselineUniform, BaselineCenterGaussian, BaselineRandom} {
		if _, _, err := s.AddMask(name, cls, maps[name], w, h, mask); err != nil {
			return err
		}
	}
	return nil
}

// baseline returns the cached baseline map of a kind and size, making it on first use.
func (s *Suite) baseline(kind, w, h int, mk func() []float32) []float32 {
	key := [3]int{kind, w, h}
	if m, ok := s.cache[key]; ok {
		return m
	}
	m := mk()
	s.cache[key] = m
	return m
}
