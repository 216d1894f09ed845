package explain

import (
	"fmt"
	"sync"

	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/heatmap"
	"github.com/neucam/neucam/gradcam/lime"
	"github.com/neucam/neucam/gradcam/pixel"
)

// Options configure an Explainer. Every field is used as given (zero means zero); start from DefaultOptions.
type Options struct {
	BatchSize     int          // images per compiled engine call (the last batch is padded); must be > 0
	Seed          int64        // seeds :smooth noise and LIME's sampling
	ScoreCAMTopK  int          // ScoreCAM: only the K most active channels per image; 0 = all channels
	SmoothSamples int          // noisy copies averaged by :smooth; must be > 0 for a :smooth method
	LIME          lime.Options // LIME's settings (lime.DefaultOptions(); Seed is replaced by Options.Seed)
}

// DefaultOptions are the settings of the neucam CLI and reports: batch 16, ScoreCAM on the 32 most active
// channels (they carry nearly all of the map and bound the cost), 8 noisy copies for :smooth, LIME's defaults
// (1,000 samples, 75 superpixels, top 10 features).
func DefaultOptions() Options {
	return Options{BatchSize: 16, Seed: 1, ScoreCAMTopK: 32, SmoothSamples: 8, LIME: lime.DefaultOptions()}
}

// Explainer explains images with any number of methods, compiling each method's graph once (on first use) and
// keeping it for later calls. It is safe for concurrent use (calls are serialised).
type Explainer struct {
	model   *Model
	opts    Options
	mu      sync.Mutex
	mappers map[string]mapper
	predict *gradcam.Explainer
}

// New returns an Explainer for m; nothing is compiled until the first call.
func New(m *Model, opts Options) *Explainer {
	return &Explainer{model: m, opts: opts, mappers: map[string]mapper{}}
}

// Model returns the explained model.
func (e *Explainer) Model() *Model { return e.model }

// mapper computes, for a batch of S*S images, the class probabilities [N][K] and one map per class
// [N][K][S*S] in [0,1].
type mapper interface {
	maps(images [][]float32) (probs [][]float32, maps [][][]float32, err error)
}

// Maps runs one method on a batch of S*S images in [0,1] (S = Model.Size): the class probabilities [N][K] and
// one map per class [N][K][S*S], normalised to [0,1].
func (e *Explainer) Maps(m Method, images [][]float32) (probs [][]float32, maps [][][]float32, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	mp, err := e.mapper(m)
	if err != nil {
		return nil, nil, err
	}
	probs, maps, err = mp.maps(images)
	return probs, maps, errors.WithMessagef(err, "method %s", m)
}

// Predict returns the class probabilities [N][K] of S*S images (forward only).
func (e *Explainer) Predict(images [][]float32) ([][]float32, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.predictLocked(images)
}

// Predictor is Predict as a heatmap.Predictor, for the deletion/insertion curves and LIME.
func (e *Explainer) Predictor() heatmap.Predictor { return e.Predict }

func (e *Explainer) predictLocked(images [][]float32) ([][]float32, error) {
	if e.predict == nil {
		ex, err := gradcam.NewExplainer(e.model.Backend, e.model.Store, e.model.Fn,
			gradcam.Options{Layers: e.model.Layers, BatchSize: max(e.opts.BatchSize, 64)})
		if err != nil {
			return nil, err
		}
		e.predict = ex
	}
	return e.predict.Predict(images, e.model.Size)
}

// mapper returns the cached mapper of m, building (not yet compiling) it on first use.
func (e *Explainer) mapper(m Method) (mapper, error) {
	key := m.String()
	if mp, ok := e.mappers[key]; ok {
		return mp, nil
	}
	if e.opts.BatchSize <= 0 {
		return nil, fmt.Errorf("explain: Options.BatchSize is %d; it must be > 0 (see DefaultOptions)", e.opts.BatchSize)
	}
	f, ok := familyOf(m.Name)
	if !ok {
		return nil, fmt.Errorf("explain: unknown method %q", m.Name)
	}
	var mp mapper
	switch f.kind {
	case kindLIME:
		opts := e.opts.LIME
		opts.Seed = e.opts.Seed
		mp = &limeMapper{e: e, opts: opts}
	case kindPixel:
		ex, err := e.pixelExplainer(m)
		if err != nil {
			return nil, err
		}
		mp = &camMapper{e: ex, size: e.model.Size}
	default:
		ex, err := e.camExplainer(m)
		if err != nil {
			return nil, err
		}
		mp = &camMapper{e: ex, size: e.model.Size}
	}
	e.mappers[key] = mp
	return mp, nil
}

// pixelExplainer builds a gradcam/pixel method (guided-gradcam's Grad-CAM on the method's or the model's layers).
func (e *Explainer) pixelExplainer(m Method) (*pixel.Explainer, error) {
	opts := pixel.DefaultOptions(pixel.Method(m.Name))
	opts.Layers, opts.Seed = m.Layers, uint64(e.opts.Seed)
	if len(opts.Layers) == 0 {
		opts.Layers = e.model.Layers
	}
	return pixel.NewExplainer(e.model.Backend, e.model.Store, e.model.Fn, opts)
}

// camExplainer builds the engine's Explainer for a CAM method.
func (e *Explainer) camExplainer(m Method) (*gradcam.Explainer, error) {
	layers := m.Layers
	if len(layers) == 0 {
		layers = e.model.Layers
	}
	opts := gradcam.Options{
		Method: gradcam.Method(m.Name), Layers: layers, HeadWeights: e.model.HeadWeights,
		TTA: m.TTA, Seed: uint64(e.opts.Seed), BatchSize: e.opts.BatchSize,
	}
	if m.Smooth {
		if e.opts.SmoothSamples <= 0 {
			return nil, fmt.Errorf("method %s: Options.SmoothSamples must be > 0 for :smooth", m)
		}
		opts.NoiseSamples = e.opts.SmoothSamples
	}
	if m.LogProb {
		opts.Score = gradcam.ScoreLogProb
	}
	opts.PGC = m.PGC
	if opts.Method == gradcam.ScoreCAM && !m.PGC {
		opts.ScoreCAMTopK = e.opts.ScoreCAMTopK
	}
	return gradcam.NewExplainer(e.model.Backend, e.model.Store, e.model.Fn, opts)
}

// camMapper runs an engine explainer (gradcam or gradcam/pixel): every class's map in one call.
type camMapper struct {
	e interface {
		Explain(images [][]float32, size int, targets ...int) (*gradcam.Result, error)
	}
	size int
}

func (c *camMapper) maps(images [][]float32) ([][]float32, [][][]float32, error) {
	r, err := c.e.Explain(images, c.size)
	if err != nil {
		return nil, nil, err
	}
	return r.Probs, r.Maps, nil
}

type limeMapper struct {
	e    *Explainer
	opts lime.Options
}

func (l *limeMapper) maps(images [][]float32) ([][]float32, [][][]float32, error) {
	size := l.e.model.Size
	probs := make([][]float32, len(images))
	maps := make([][][]float32, len(images))
	for i, img := range images {
		r, err := lime.Explain(l.e.predictLocked, img, size, l.opts)
		if err != nil {
			return nil, nil, fmt.Errorf("lime: image %d: %w", i, err)
		}
		probs[i], maps[i] = r.Probs, r.Maps
	}
	return probs, maps, nil
}
