// Package pixel explains a GoMLX image classifier at pixel resolution, beside the CAM engine (package gradcam):
// gradients with respect to the input image (SmoothGrad, VarGrad, Integrated Gradients), guided backpropagation
// and Guided Grad-CAM, and occlusion. It takes the same ModelFn as gradcam and returns gradcam.Result maps (at the
// input resolution), so everything that draws or scores CAM maps takes these too. Every class is explained from
// the same passes (one forward and K backward passes per noisy / interpolated / occluded batch).
package pixel

import (
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/heatmap"
)

// Method names a pixel-level method.
type Method string

const (
	// SmoothGrad (Smilkov et al. 2017; Captum NoiseTunnel(Saliency), nt_type "smoothgrad"): the mean over
	// Options.Samples noisy copies x + N(0, NoiseStd^2) of |d z_k / d x|.
	SmoothGrad Method = "smoothgrad"
	// VarGrad (Adebayo et al. 2018; Captum NoiseTunnel nt_type "vargrad" of the signed gradient): the variance over
	// the noisy copies of d z_k / d x.
	VarGrad Method = "vargrad"
	// IntegratedGradients (Sundararajan et al. 2017; Captum IntegratedGradients, method "riemann_trapezoid",
	// baseline 0): (x - x0) * the trapezoid-rule mean over Options.Steps+1 points x0 + a (x - x0), a in [0,1], of
	// d z_k / d x; its sum over pixels is z_k(x) - z_k(x0) (completeness). Map: the positive part.
	IntegratedGradients Method = "integrated-gradients"
	// GuidedBackprop (Springenberg et al. 2015; pytorch-grad-cam GuidedBackpropReLUModel): d z_k / d x with every
	// ReLU's backward also zeroing negative incoming gradients. Map: |.|.
	GuidedBackprop Method = "guided-backprop"
	// GuidedGradCAM (Selvaraju et al. 2017): guided backprop times the Grad-CAM map (upsampled, min-max
	// normalised) of Options.Layers, as pytorch-grad-cam's example (cam_mask * gb). Map: |.|.
	GuidedGradCAM Method = "guided-gradcam"
	// Occlusion (Zeiler & Fergus 2014; Captum Occlusion, baseline 0): for each pixel, the mean over the
	// Options.Window-square patches (stride Options.Stride) covering it of p_k(x) - p_k(x with the patch set to 0).
	// Forward-only. Map: the positive part.
	Occlusion Method = "occlusion"
)

// Methods lists every pixel method, in a stable order.
var Methods = []Method{GuidedBackprop, GuidedGradCAM, IntegratedGradients, SmoothGrad, VarGrad, Occlusion}

// Options configure an Explainer. Start from DefaultOptions(): zero values mean zero and are rejected where a
// method needs a positive count.
type Options struct {
	Method    Method
	Samples   int      // SmoothGrad/VarGrad: noisy copies (default 25)
	NoiseStd  float64  // SmoothGrad/VarGrad: std of the Gaussian noise on [0,1] pixels (default 0.15, as the paper's 15%)
	Steps     int      // IntegratedGradients: intervals of the trapezoid rule (default 32)
	Window    int      // Occlusion: patch side in pixels (default 16)
	Stride    int      // Occlusion: patch stride in pixels (default 8)
	Layers    []string // GuidedGradCAM: Grad-CAM's target layers
	BatchSize int      // compiled batch size (default 16)
	Seed      uint64   // noise seed

	Normalize  gradcam.Normalization
	Percentile float64
}

// DefaultOptions returns the defaults for method m (documented on Options).
func DefaultOptions(m Method) Options {
	return Options{Method: m, Samples: 25, NoiseStd: 0.15, Steps: 32, Window: 16, Stride: 8, BatchSize: 16,
		Normalize: gradcam.NormMinMax, Percentile: 99}
}

// Explainer computes pixel maps for one (store, ModelFn, Options); safe for concurrent use (calls are serialised).
type Explainer struct {
	backend compute.Backend
	store   *model.Store
	fn      gradcam.ModelFn
	opts    Options

	mu        sync.Mutex
	gradExecs map[bool]*model.Exec // by guided
	fwdExec   *model.Exec
	cam       *gradcam.Explainer // GuidedGradCAM's Grad-CAM
}

// NewExplainer validates the options.
func NewExplainer(backend compute.Backend, store *model.Store, fn gradcam.ModelFn, opts Options) (*Explainer, error) {
	if backend == nil || store == nil || fn == nil {
		return nil, errors.New("pixel.NewExplainer: backend, store and model function are required")
	}
	if err := opts.check(); err != nil {
		return nil, errors.WithMessage(err, "pixel.NewExplainer")
	}
	e := &Explainer{backend: backend, store: store, fn: fn, opts: opts}
	if opts.Method == GuidedGradCAM {
		cam, err := gradcam.NewExplainer(backend, store, fn, gradcam.Options{Method: gradcam.GradCAM, Layers: opts.Layers,
			BatchSize: opts.BatchSize})
		if err != nil {
			return nil, errors.WithMessage(err, "pixel.NewExplainer")
		}
		e.cam = cam
	}
	return e, nil
}

func (o Options) check() error {
	known := false
	for _, m := range Methods {
		known = known || m == o.Method
	}
	switch {
	case !known:
		return errors.Errorf("unknown method %q (known: %v)", o.Method, Methods)
	case o.BatchSize <= 0:
		return errors.Errorf("BatchSize %d: want > 0", o.BatchSize)
	case (o.Method == SmoothGrad || o.Method == VarGrad) && (o.Samples <= 0 || o.NoiseStd < 0):
		return errors.Errorf("%s needs Samples > 0 and NoiseStd >= 0 (got %d, %g)", o.Method, o.Samples, o.NoiseStd)
	case o.Method == VarGrad && o.Samples < 2:
		return errors.New("vargrad needs Samples >= 2")
	case o.Method == IntegratedGradients && o.Steps <= 0:
		return errors.Errorf("integrated-gradients needs Steps > 0 (got %d)", o.Steps)
	case o.Method == Occlusion && (o.Window <= 0 || o.Stride <= 0):
		return errors.Errorf("occlusion needs Window > 0 and Stride > 0 (got %d, %d)", o.Window, o.Stride)
	case o.Method == GuidedGradCAM && len(o.Layers) == 0:
		return errors.New("guided-gradcam needs Options.Layers (Grad-CAM's target layers)")
	}
	return nil
}

// Options returns the options in use.
func (e *Explainer) Options() Options { return e.opts }

// Explain returns the probabilities and one map per class (targets nil) or per image (targets given, -1 = the
// predicted class) of the images, each size*size in [0,1] (Result.Raw: the unnormalised map at the input size).
func (e *Explainer) Explain(images [][]float32, size int, targets ...int) (*gradcam.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if size <= 0 {
		return nil, errors.Errorf("pixel.Explain: invalid image size %d", size)
	}
	if targets != nil && len(targets) != len(images) {
		return nil, errors.Errorf("pixel.Explain: %d targets for %d images: give one per image or none", len(targets), len(images))
	}
	for i, img := range images {
		if len(img) != size*size {
			return nil, errors.Errorf("pixel.Explain: image %d has %d pixels, want %d (size %d)", i, len(img), size*size, size)
		}
	}
	res := &gradcam.Result{Size: size, LayerW: size, LayerH: size}
	if len(images) == 0 {
		return res, nil
	}
	raw, probs, err := e.rawMaps(images, size)
	if err != nil {
		return nil, err
	}
	res.Probs, res.Raw = probs, raw
	if targets != nil {
		res.Targets = make([]int, len(targets))
		for n, t := range targets {
			if t < 0 {
				t = heatmap.ArgMax(probs[n])
			}
			res.Targets[n] = t
			res.Raw[n] = [][]float32{raw[n][t]}
		}
	}
	res.Maps = make([][][]float32, len(res.Raw))
	for n, perT := range res.Raw {
		res.Maps[n] = make([][]float32, len(perT))
		for t, m := range perT {
			res.Maps[n][t] = gradcam.Normalize(append([]float32(nil), m...), e.opts.Normalize, e.opts.Percentile)
		}
	}
	return res, nil
}

// rawMaps dispatches to the method: maps [N][K][S*S] (unnormalised, >= 0) and the clean images' probabilities.
func (e *Explainer) rawMaps(images [][]float32, size int) ([][][]float32, [][]float32, error) {
	switch e.opts.Method {
	case SmoothGrad, VarGrad:
		return e.noiseTunnel(images, size)
	case IntegratedGradients:
		return e.integratedGradients(images, size)
	case GuidedBackprop:
		return e.guided(images, size, nil)
	case GuidedGradCAM:
		cam, err := e.cam.Explain(images, size)
		if err != nil {
			return nil, nil, err
		}
		return e.guided(images, size, cam.Maps)
	default:
		return e.occlusion(images, size)
	}
}
