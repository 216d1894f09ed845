// Package lime implements LIME for images (Ribeiro et al. 2016, following marcotcr/lime's
// LimeImageExplainer) for grayscale images, model-agnostic: the classifier is a
// heatmap.Predictor callback (which must not keep the image buffers: LIME reuses them). Superpixels come from SLIC on intensity; each of NumSamples
// random binary vectors hides some superpixels; one weighted ridge regression per class
// (all on the same samples) gives per-superpixel weights, which become a map in [0,1]
// compatible with the gradcam package's CAM maps.
package lime

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// FillMode says what hidden superpixels are replaced with.
type FillMode string

const (
	FillMean        FillMode = "mean"         // the mean intensity of the whole image
	FillSegmentMean FillMode = "segment-mean" // each superpixel's own mean (lime's hide_color=None)
	FillBlur        FillMode = "blur"         // a Gaussian-blurred copy of the image (sigma FillSigma)
)

// Options mirror lime's LimeImageExplainer.explain_instance / get_image_and_mask
// parameters. Zero numeric values select the defaults; use DefaultOptions to also get
// lime's PositiveOnly=true.
type Options struct {
	NumSamples   int      // perturbed samples, the first being the unperturbed image; 0 -> 1000
	BatchSize    int      // images per Predictor call; 0 -> 64
	KernelWidth  float64  // exponential kernel width on cosine distance; 0 -> 0.25
	Alpha        float64  // ridge penalty; 0 -> 1 (lime's Ridge(alpha=1))
	NumFeatures  int      // superpixels kept in the map; 0 -> 10; < 0 -> all
	PositiveOnly bool     // keep only positive weights (lime's positive_only)
	Seed         int64    // sampling seed; same seed -> identical result
	NumSegments  int      // SLIC superpixels requested; 0 -> 75
	Compactness  float64  // SLIC compactness m; 0 -> 15 (see SLICOptions)
	Sigma        float64  // SLIC pre-blur std in pixels; 0 -> 1; < 0 -> none
	FillMode     FillMode // "" -> FillMean
	FillSigma    float64  // blur std (pixels) for FillBlur; 0 -> 5
}

// DefaultOptions returns the defaults with PositiveOnly set, as in lime's
// get_image_and_mask and analogous to Grad-CAM's ReLU.
func DefaultOptions() Options {
	return Options{PositiveOnly: true}.withDefaults()
}

func (o Options) withDefaults() Options {
	if o.NumSamples <= 0 {
		o.NumSamples = 1000
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 64
	}
	if o.KernelWidth <= 0 {
		o.KernelWidth = 0.25
	}
	if o.Alpha <= 0 {
		o.Alpha = 1
	}
	if o.NumFeatures == 0 {
		o.NumFeatures = 10
	}
	if o.FillMode == "" {
		o.FillMode = FillMean
	}
	if o.FillSigma <= 0 {
		o.FillSigma = 5
	}
	s := SLICOptions{NumSegments: o.NumSegments, Compactness: o.Compactness, Sigma: o.Sigma}.withDefaults()
	o.NumSegments, o.Compactness, o.Sigma = s.NumSegments, s.Compactness, s.Sigma
	return o
}

// Explanation is the LIME explanation of one class.
type Explanation struct {
	Class     int
	Weights   []float64 // signed ridge coefficient per superpixel
	Intercept float64
	Score     float64 // weighted R^2 of the local linear model
	LocalPred float64 // the linear model's prediction for the unperturbed image
	Prob      float64 // the Predictor's probability for the unperturbed image
	Top       []int   // superpixels shown in Map, most important first
	Map       []float32
}

// Result holds the explanations of every class, all fitted on one set of samples.
type Result struct {
	Size         int
	Labels       []int32 // superpixel of each pixel, row-major Size*Size
	NumSegments  int
	Probs        []float32     // Predictor output for the unperturbed image
	Explanations []Explanation // one per class
	Maps         [][]float32   // [K][Size*Size], the same slices as Explanations[k].Map
	NumSamples   int
	NonFinite    int // non-finite Predictor outputs, replaced by 0 before fitting
}

// Explain segments img (size*size, row-major, values in [0,1]) with SLIC and explains
// every class the Predictor outputs.
func Explain(pred heatmap.Predictor, img []float32, size int, opts Options) (*Result, error) {
	if size <= 0 || len(img) != size*size {
		return nil, fmt.Errorf("lime: Explain: image has %d pixels, want %dx%d", len(img), size, size)
	}
	opts = opts.withDefaults()
	labels, n, err := SLIC(img, size, size, SLICOptions{NumSegments: opts.NumSegments, Compactness: opts.Compactness, Sigma: opts.Sigma})
	if err != nil {
		return nil, err
	}
	return ExplainSegments(pred, img, size, labels, n, opts)
}

// ExplainSegments is Explain with a given segmentation (labels in 0..n-1, one per pixel).
func ExplainSegments(pred heatmap.Predictor, img []float32, size int, labels []int32, n int, opts Options) (*Result, error) {
	npix := size * size
	if size <= 0 || len(img) != npix || len(labels) != npix {
		return nil, fmt.Errorf("lime: ExplainSegments: image has %d pixels and %d labels, want %dx%d", len(img), len(labels), size, size)
	}
	if pred == nil {
		return nil, fmt.Errorf("lime: ExplainSegments: nil Predictor")
	}
	opts = opts.withDefaults()
	segPix := make([][]int32, n)
	for p, l := range labels {
		if l < 0 || int(l) >= n {
			return nil, fmt.Errorf("lime: ExplainSegments: label %d at pixel %d outside 0..%d", l, p, n-1)
		}
		segPix[l] = append(segPix[l], int32(p))
	}
	clean := make([]float32, npix)
	for i, v := range img {
		clean[i] = float32(finite64(float64(v)))
	}
	fill, err := fillImage(clean, size, labels, segPix, opts)
	if err != nil {
		return nil, err
	}

	// Binary samples, lime-style: uniform bits, the first sample all ones.
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), 0x11e5eed))
	data := make([][]float64, opts.NumSamples)
	for i := range data {
		row := make([]float64, n)
		for j := range row {
			if i == 0 || rng.IntN(2) == 1 {
				row[j] = 1
			}
		}
		data[i] = row
	}

	ys, nonFinite, err := predictSamples(pred, clean, fill, segPix, data, opts.BatchSize)
	if err != nil {
		return nil, err
	}
	weights := KernelWeights(data, opts.KernelWidth)
	fits, err := FitRidge(data, ys, weights, opts.Alpha)
	if err != nil {
		return nil, err
	}

	K := len(ys[0])
	res := &Result{Size: size, Labels: labels, NumSegments: n, Probs: make([]float32, K),
		Explanations: make([]Explanation, K), Maps: make([][]float32, K),
		NumSamples: opts.NumSamples, NonFinite: nonFinite}
	for k, f := range fits {
		res.Probs[k] = float32(ys[0][k])
		m, top := MapFromWeights(labels, f.Coef, opts.NumFeatures, opts.PositiveOnly)
		res.Explanations[k] = Explanation{Class: k, Weights: f.Coef, Intercept: f.Intercept, Score: f.Score,
			LocalPred: f.LocalPred, Prob: ys[0][k], Top: top, Map: m}
		res.Maps[k] = m
	}
	return res, nil
}

// fillImage builds the image whose pixels replace hidden superpixels.
func fillImage(img []float32, size int, labels []int32, segPix [][]int32, opts Options) ([]float32, error) {
	fill := make([]float32, len(img))
	switch opts.FillMode {
	case FillMean:
		s := 0.0
		for _, v := range img {
			s += float64(v)
		}
		m := float32(s / float64(len(img)))
		for i := range fill {
			fill[i] = m
		}
	case FillSegmentMean:
		for _, pix := range segPix {
			s := 0.0
			for _, p := range pix {
				s += float64(img[p])
			}
			m := float32(s / float64(max(1, len(pix))))
			for _, p := range pix {
				fill[p] = m
			}
		}
	case FillBlur:
		v := make([]float64, len(img))
		for i, x := range img {
			v[i] = float64(x)
		}
		for i, x := range gaussianBlur(v, size, size, opts.FillSigma) {
			fill[i] = float32(x)
		}
	default:
		return nil, fmt.Errorf("lime: unknown FillMode %q (want %q, %q or %q)", opts.FillMode, FillMean, FillSegmentMean, FillBlur)
	}
	return fill, nil
}

// predictSamples renders each binary sample (1 = superpixel visible) and evaluates the
// Predictor in batches, reusing the batch buffers. It returns [len(data)][K]
// probabilities with non-finite values replaced by 0, and how many were replaced.
func predictSamples(pred heatmap.Predictor, img, fill []float32, segPix [][]int32, data [][]float64, batch int) ([][]float64, int, error) {
	npix := len(img)
	bufs := make([][]float32, min(batch, len(data)))
	for i := range bufs {
		bufs[i] = make([]float32, npix)
	}
	ys := make([][]float64, 0, len(data))
	K, nonFinite := -1, 0
	for start := 0; start < len(data); start += batch {
		end := min(start+batch, len(data))
		images := bufs[:end-start]
		for bi, row := range data[start:end] {
			im := images[bi]
			copy(im, img)
			for s, on := range row {
				if on == 0 {
					for _, p := range segPix[s] {
						im[p] = fill[p]
					}
				}
			}
		}
		out, err := pred(images)
		if err != nil {
			return nil, 0, fmt.Errorf("lime: Predictor on samples %d..%d: %w", start, end-1, err)
		}
		if len(out) != len(images) {
			return nil, 0, fmt.Errorf("lime: Predictor returned %d rows for %d images", len(out), len(images))
		}
		for i, o := range out {
			if K < 0 {
				K = len(o)
				if K == 0 {
					return nil, 0, fmt.Errorf("lime: Predictor returned 0 classes")
				}
			}
			if len(o) != K {
				return nil, 0, fmt.Errorf("lime: Predictor returned %d classes for sample %d, %d before", len(o), start+i, K)
			}
			y := make([]float64, K)
			for k, v := range o {
				f := float64(v)
				if math.IsNaN(f) || math.IsInf(f, 0) {
					f = 0
					nonFinite++
				}
				y[k] = f
			}
			ys = append(ys, y)
		}
	}
	return ys, nonFinite, nil
}

// MapFromWeights turns per-superpixel weights into a map (len(labels), values in [0,1],
// never NaN) and returns the shown superpixels, most important first. With positiveOnly
// only the numFeatures largest positive weights are shown, scaled by the largest;
// otherwise the numFeatures largest |weight| are shown as |weight| / max |weight|
// (signs stay in the weights). numFeatures < 0 shows all. No usable weight -> zero map.
func MapFromWeights(labels []int32, weights []float64, numFeatures int, positiveOnly bool) ([]float32, []int) {
	score := make([]float64, len(weights))
	var cand []int
	for s, w := range weights {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			continue
		}
		if positiveOnly {
			if w <= 0 {
				continue
			}
			score[s] = w
		} else {
			if w == 0 {
				continue
			}
			score[s] = math.Abs(w)
		}
		cand = append(cand, s)
	}
	slices.SortStableFunc(cand, func(a, b int) int { return cmp.Compare(score[b], score[a]) })
	if numFeatures >= 0 && len(cand) > numFeatures {
		cand = cand[:numFeatures]
	}
	m := make([]float32, len(labels))
	if len(cand) == 0 {
		return m, cand
	}
	top := score[cand[0]]
	val := make([]float32, len(weights))
	for _, s := range cand {
		val[s] = float32(score[s] / top)
	}
	for p, l := range labels {
		if l >= 0 && int(l) < len(val) {
			m[p] = val[l]
		}
	}
	return m, cand
}
