package metrics

import (
	"fmt"
	"math"
	"sort"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// Substrate is what the pixels of a faithfulness curve start from (insertion) or are replaced with (deletion).
type Substrate int

const (
	SubstrateDefault Substrate = iota // RISE: zeros for deletion, a blurred copy for insertion
	SubstrateZero                     // black (0)
	SubstrateMean                     // the image's mean intensity everywhere
	SubstrateBlur                     // Gaussian-blurred copy of the image (BlurSigma, BlurRadius)
)

// CurveOptions configures Deletion / Insertion. Zero values take the defaults.
type CurveOptions struct {
	// Steps is the number of pixel groups changed one after the other (default 32): a curve has Steps+1
	// points. RISE changes 224 pixels per step at 224x224 (224 steps); 32 evenly sized steps keep the cost at
	// one or two Predictor calls per image while the AUC changes little.
	Steps int
	// MaxBatch is the most images per Predictor call (default Steps+1: one call per curve). Curves of several
	// images share calls in DeletionBatch / InsertionBatch.
	MaxBatch int
	// Substrate; SubstrateDefault follows RISE.
	Substrate Substrate
	// BlurSigma and BlurRadius define the blur substrate (default 5 and 5: RISE's gkern(klen=11, nsig=5)).
	BlurSigma  float64
	BlurRadius int
}

func (o CurveOptions) withDefaults(insertion bool, nPix int) CurveOptions {
	if o.Steps <= 0 {
		o.Steps = 32
	}
	o.Steps = min(o.Steps, max(nPix, 1))
	if o.MaxBatch <= 0 {
		o.MaxBatch = o.Steps + 1
	}
	if o.Substrate == SubstrateDefault {
		o.Substrate = SubstrateZero
		if insertion {
			o.Substrate = SubstrateBlur
		}
	}
	if o.BlurSigma <= 0 {
		o.BlurSigma = 5
	}
	if o.BlurRadius <= 0 {
		o.BlurRadius = 5
	}
	return o
}

// Curve is one deletion or insertion curve.
type Curve struct {
	Fraction []float64 // fraction of pixels changed at each point, 0 .. 1
	Prob     []float64 // probability of the explained class at each point
	AUC      float64   // trapezoid area under Prob over Fraction, in [0,1] for probabilities in [0,1]
}

// Deletion is RISE's deletion metric (Petsiuk et al. 2018): starting from the image, the pixels are replaced
// by the substrate (default 0) in decreasing map order (ties in row-major order; NaN is least important),
// Steps groups at a time, and the class probability is read after every step. A faithful map makes the
// probability fall fast: lower AUC is better.
func Deletion(pred heatmap.Predictor, img, m []float32, size, class int, opts CurveOptions) (Curve, error) {
	cs, err := curves(pred, false, [][]float32{img}, [][]float32{m}, []int{class}, size, opts)
	if err != nil {
		return Curve{}, err
	}
	return cs[0], nil
}

// Insertion is RISE's insertion metric: starting from the substrate (default a blurred copy), the original
// pixels are put back in decreasing map order. A faithful map makes the probability rise fast: higher AUC is
// better.
func Insertion(pred heatmap.Predictor, img, m []float32, size, class int, opts CurveOptions) (Curve, error) {
	cs, err := curves(pred, true, [][]float32{img}, [][]float32{m}, []int{class}, size, opts)
	if err != nil {
		return Curve{}, err
	}
	return cs[0], nil
}

// DeletionBatch runs Deletion for several images, packing their steps into shared Predictor calls of at most
// MaxBatch images.
func DeletionBatch(pred heatmap.Predictor, imgs, maps [][]float32, classes []int, size int, opts CurveOptions) ([]Curve, error) {
	return curves(pred, false, imgs, maps, classes, size, opts)
}

// InsertionBatch runs Insertion for several images, packing their steps into shared Predictor calls.
func InsertionBatch(pred heatmap.Predictor, imgs, maps [][]float32, classes []int, size int, opts CurveOptions) ([]Curve, error) {
	return curves(pred, true, imgs, maps, classes, size, opts)
}

// importanceOrder returns pixel indices by decreasing map value, ties by index, NaN last.
func importanceOrder(m []float32) []int {
	key := make([]float64, len(m))
	for i, v := range m {
		if key[i] = float64(v); math.IsNaN(key[i]) {
			key[i] = math.Inf(-1)
		}
	}
	order := make([]int, len(m))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return key[order[a]] > key[order[b]] })
	return order
}

// substrate returns the image every changed pixel comes from (deletion) or every pixel starts as (insertion).
func substrate(img []float32, size int, o CurveOptions) []float32 {
	out := make([]float32, len(img))
	switch o.Substrate {
	case SubstrateMean:
		var s float64
		for _, v := range img {
			s += float64(v)
		}
		mean := float32(s / float64(len(img)))
		for i := range out {
			out[i] = mean
		}
	case SubstrateBlur:
		return Blur(img, size, size, o.BlurSigma, o.BlurRadius)
	}
	return out
}

func curves(pred heatmap.Predictor, insertion bool, imgs, maps [][]float32, classes []int, size int, opts CurveOptions) ([]Curve, error) {
	kind := "Deletion"
	if insertion {
		kind = "Insertion"
	}
	if pred == nil {
		return nil, fmt.Errorf("metrics: %s: nil Predictor", kind)
	}
	if len(imgs) != len(maps) || len(imgs) != len(classes) {
		return nil, fmt.Errorf("metrics: %s: %d images, %d maps, %d classes", kind, len(imgs), len(maps), len(classes))
	}
	nPix := size * size
	if size <= 0 {
		return nil, fmt.Errorf("metrics: %s: size %d", kind, size)
	}
	for i := range imgs {
		if len(imgs[i]) != nPix || len(maps[i]) != nPix {
			return nil, fmt.Errorf("metrics: %s: image %d has %d pixels and map %d values, want %d*%d",
				kind, i, len(imgs[i]), len(maps[i]), size, size)
		}
	}
	o := opts.withDefaults(insertion, nPix)
	nPts := o.Steps + 1
	// Pixels changed after step s: round(s*nPix/Steps), so steps differ by at most one pixel.
	bound := make([]int, nPts)
	frac := make([]float64, nPts)
	for s := range nPts {
		bound[s] = int(math.Round(float64(s) * float64(nPix) / float64(o.Steps)))
		frac[s] = float64(bound[s]) / float64(nPix)
	}
	out := make([]Curve, len(imgs))
	orders := make([][]int, len(imgs))
	starts := make([][]float32, len(imgs))  // image at step 0
	sources := make([][]float32, len(imgs)) // where changed pixels take their values from
	for i := range imgs {
		out[i] = Curve{Fraction: append([]float64(nil), frac...), Prob: make([]float64, nPts)}
		orders[i] = importanceOrder(maps[i])
		sub := substrate(imgs[i], size, o)
		if insertion {
			starts[i], sources[i] = sub, imgs[i]
		} else {
			starts[i], sources[i] = imgs[i], sub
		}
	}
	total := len(imgs) * nPts
	for lo := 0; lo < total; lo += o.MaxBatch {
		hi := min(lo+o.MaxBatch, total)
		batch := make([][]float32, 0, hi-lo)
		for j := lo; j < hi; j++ {
			i, s := j/nPts, j%nPts
			x := append([]float32(nil), starts[i]...)
			for _, p := range orders[i][:bound[s]] {
				x[p] = sources[i][p]
			}
			batch = append(batch, x)
		}
		probs, err := pred(batch)
		if err != nil {
			return nil, fmt.Errorf("metrics: %s: predictor: %w", kind, err)
		}
		if len(probs) != len(batch) {
			return nil, fmt.Errorf("metrics: %s: predictor returned %d rows for %d images", kind, len(probs), len(batch))
		}
		for j := lo; j < hi; j++ {
			i, s := j/nPts, j%nPts
			row := probs[j-lo]
			c := classes[i]
			if c < 0 || c >= len(row) {
				return nil, fmt.Errorf("metrics: %s: class %d of image %d outside the predictor's %d classes", kind, c, i, len(row))
			}
			p := float64(row[c])
			if math.IsNaN(p) || math.IsInf(p, 0) {
				return nil, fmt.Errorf("metrics: %s: predictor gave %v for image %d step %d", kind, p, i, s)
			}
			out[i].Prob[s] = p
		}
	}
	for i := range out {
		out[i].AUC = Trapezoid(out[i].Fraction, out[i].Prob)
	}
	return out, nil
}

// Trapezoid is the trapezoid-rule area under y(x) (x increasing); 0 with fewer than 2 points.
func Trapezoid(x, y []float64) float64 {
	var a float64
	for i := 1; i < len(x) && i < len(y); i++ {
		a += (x[i] - x[i-1]) * (y[i] + y[i-1]) / 2
	}
	return a
}

// riseKernel1D reproduces one axis of RISE's gkern(klen, nsig): scipy's gaussian_filter (truncate 4,
// mode "reflect") applied to a Dirac in the middle of a klen = 2*radius+1 array. The reflection folds the
// tails back inside the window, so the kernel sums to 1 and is flatter than a cropped Gaussian.
func riseKernel1D(sigma float64, radius int) []float64 {
	n := 2*radius + 1
	r := int(4*sigma + 0.5)
	g := make([]float64, 2*r+1)
	var s float64
	for j := -r; j <= r; j++ {
		g[j+r] = math.Exp(-0.5 * float64(j*j) / (sigma * sigma))
		s += g[j+r]
	}
	k := make([]float64, n)
	for i := range n {
		for j := -r; j <= r; j++ {
			// scipy "reflect": d c b a | a b c d | d c b a, period 2n.
			p := ((i+j)%(2*n) + 2*n) % (2 * n)
			if p >= n {
				p = 2*n - 1 - p
			}
			if p == radius {
				k[i] += g[j+r] / s
			}
		}
	}
	return k
}

// Blur is the RISE insertion substrate: a separable blur with riseKernel1D(sigma, radius) along x and y.
// RISE convolves with zero padding, which darkens a radius-wide border; here the kernel is renormalised over
// the pixels inside the image instead, so a constant image stays constant.
func Blur(img []float32, w, h int, sigma float64, radius int) []float32 {
	k := riseKernel1D(sigma, radius)
	tmp := make([]float64, w*h)
	for y := range h {
		for x := range w {
			var s, ws float64
			for d := -radius; d <= radius; d++ {
				if xx := x + d; xx >= 0 && xx < w {
					s += k[d+radius] * float64(img[y*w+xx])
					ws += k[d+radius]
				}
			}
			tmp[y*w+x] = s / ws
		}
	}
	out := make([]float32, w*h)
	for y := range h {
		for x := range w {
			var s, ws float64
			for d := -radius; d <= radius; d++ {
				if yy := y + d; yy >= 0 && yy < h {
					s += k[d+radius] * tmp[yy*w+x]
					ws += k[d+radius]
				}
			}
			out[y*w+x] = float32(s / ws)
		}
	}
	return out
}
