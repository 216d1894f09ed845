// Package metrics scores saliency maps (Grad-CAM and friends) against ground-truth boxes and against the
// model itself, in pure Go.
//
// Conventions shared by every function:
//   - A map is a row-major []float32 of w*h values (index y*w+x): the V of a heatmap.Map. Values that are negative, NaN or ±Inf are
//     read as 0 by the localization metrics, so a broken map scores 0 instead of poisoning a mean with NaN.
//   - Boxes are image.Rectangle in the same pixel grid as the map, Min inclusive and Max exclusive; they are
//     clipped to the map before use.
//   - Simple metric functions panic when len(m) != w*h (a programming error); the accumulators and the
//     faithfulness curves return errors instead because they are fed by batch pipelines.
//
// NEU-DET boxes are large (pitted_surface boxes cover ~82% of an image), so naive localization scores of a
// uniform map are already high: every figure should be read next to the baselines in baselines.go and the
// energy gain g = (e-u)/(1-u).
package metrics

import (
	"fmt"
	"image"
	"math"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// value returns the map value as used by the localization metrics: clipped to >= 0, NaN/Inf -> 0.
func value(v float32) float64 {
	f := float64(v)
	if !(f > 0) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

func checkMap(m []float32, w, h int) {
	if w <= 0 || h <= 0 || len(m) != w*h {
		panic(fmt.Sprintf("metrics: map has %d values, want w*h = %d*%d", len(m), w, h))
	}
}

func validMap(m []float32, w, h int) error {
	if w <= 0 || h <= 0 || len(m) != w*h {
		return fmt.Errorf("metrics: map has %d values, want w*h = %d*%d", len(m), w, h)
	}
	return nil
}

// BoxMask returns the union of the boxes (clipped to the w x h grid) as a row-major mask and its area.
func BoxMask(w, h int, boxes []image.Rectangle) (mask []bool, area int) {
	mask = make([]bool, w*h)
	bounds := image.Rect(0, 0, w, h)
	for _, b := range boxes {
		b = b.Canon().Intersect(bounds)
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := mask[y*w : (y+1)*w]
			for x := b.Min.X; x < b.Max.X; x++ {
				if !row[x] {
					row[x] = true
					area++
				}
			}
		}
	}
	return mask, area
}

// BoxFraction is the fraction of the w x h image covered by the union of the boxes. It is the energy a
// uniform map puts inside the boxes, i.e. the baseline u of EnergyGain.
func BoxFraction(w, h int, boxes []image.Rectangle) float64 {
	if w <= 0 || h <= 0 {
		return 0
	}
	_, area := BoxMask(w, h, boxes)
	return float64(area) / float64(w*h)
}

// EnergyInBoxes is the energy-based pointing game of Score-CAM (Wang et al. 2020): the sum of the map inside
// the union of the boxes divided by the total sum, with the map clipped to >= 0. An all-zero (or all-NaN) map
// and an empty box list give 0.
func EnergyInBoxes(m []float32, w, h int, boxes []image.Rectangle) float64 {
	checkMap(m, w, h)
	mask, _ := BoxMask(w, h, boxes)
	return EnergyInMask(m, w, h, mask)
}

// EnergyGain normalises an energy e by the uniform baseline u (the box-union area fraction, BoxFraction):
// g = (e-u)/(1-u). g = 0 for a uniform map, 1 when all energy is inside the boxes and negative when the map
// prefers the background. It is undefined when the boxes cover the whole image (u >= 1); we return 0 there,
// since no map can then do better or worse than uniform. An all-zero map has energy 0, hence g = -u/(1-u).
func EnergyGain(e, u float64) float64 {
	if !(u < 1) || math.IsNaN(e) || math.IsNaN(u) {
		return 0
	}
	return (e - u) / (1 - u)
}

// PointingTolerance scales the pointing-game tolerance of Zhang et al. (2016), 15 px at a 224 px input, to a
// map of width w: 15*w/224 (about 13.4 px at 200).
func PointingTolerance(w int) float64 { return 15 * float64(w) / 224 }

// ArgMax returns the position of the largest map value (values read as in EnergyInBoxes). Ties go to the first
// maximum in row-major order, as numpy's argmax used by the reference implementations (TorchRay). ok is false
// when the map has no positive value (all zero / NaN): such a map points nowhere.
func ArgMax(m []float32, w, h int) (p image.Point, ok bool) {
	checkMap(m, w, h)
	bi := heatmap.ArgMax(m)
	if bi < 0 || !(m[bi] > 0) {
		return image.Point{}, false
	}
	return image.Pt(bi%w, bi/w), true
}

// PointDistance is the Euclidean distance in pixels from pixel p to the nearest pixel of box b (0 inside).
func PointDistance(p image.Point, b image.Rectangle) float64 {
	b = b.Canon()
	if b.Empty() {
		return math.Inf(1)
	}
	dx := max(b.Min.X-p.X, 0, p.X-(b.Max.X-1))
	dy := max(b.Min.Y-p.Y, 0, p.Y-(b.Max.Y-1))
	return math.Hypot(float64(dx), float64(dy))
}

// PointingGame reports a hit when the map's maximum (ArgMax: first maximum on ties) lies within tol pixels
// of a box, i.e. some box pixel is inside the disk of radius tol around it (Zhang et al. 2016; use
// PointingTolerance(w) for the paper's tolerance). An all-zero map and an empty box list miss. Note that a
// uniform map points at (0,0) under this tie rule; the centre-bias baseline is CenterGaussian.
func PointingGame(m []float32, w, h int, boxes []image.Rectangle, tol float64) bool {
	p, ok := ArgMax(m, w, h)
	if !ok {
		return false
	}
	bounds := image.Rect(0, 0, w, h)
	for _, b := range boxes {
		if PointDistance(p, b.Canon().Intersect(bounds)) <= tol {
			return true
		}
	}
	return false
}

// PointingScore is the pointing game with ties broken at random, in expectation: the fraction of the map's
// maximal pixels that lie within tol pixels of a box. It equals PointingGame (as 0 or 1) for a map with a
// single maximum, and gives a flat map the chance level (the share of pixels near a box) instead of the
// verdict at pixel (0,0) that a first-maximum rule would give. An all-zero map or no boxes score 0.
func PointingScore(m []float32, w, h int, boxes []image.Rectangle, tol float64) float64 {
	checkMap(m, w, h)
	best := 0.0
	for _, v := range m {
		best = max(best, value(v))
	}
	if best <= 0 {
		return 0
	}
	bounds := image.Rect(0, 0, w, h)
	clipped := make([]image.Rectangle, 0, len(boxes))
	for _, b := range boxes {
		if b = b.Canon().Intersect(bounds); !b.Empty() {
			clipped = append(clipped, b)
		}
	}
	ties, hits := 0, 0
	for i, v := range m {
		if value(v) != best {
			continue
		}
		ties++
		p := image.Pt(i%w, i/w)
		for _, b := range clipped {
			if PointDistance(p, b) <= tol {
				hits++
				break
			}
		}
	}
	return float64(hits) / float64(ties)
}
