// Package gradcam is a model-agnostic CAM engine: Grad-CAM and friends (see Method) for any GoMLX model given as a
// ModelFn returning logits and named feature maps.
//
// Design (after pytorch-grad-cam's base_cam): one engine computes maps, each method only supplies channel weights or
// the map itself (methods.go). All classes come from one compiled graph and one forward pass per batch: the forward
// runs once, then for each class k graph.Gradient(sum_b logits[b,k], features) builds only the head's backward (from
// the target layers to the logits), never the backbone's. One verb: Explainer.Explain.
package gradcam

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// ModelFn builds the model: images [B,S,S,1] float32 in [0,1] -> logits [B,K] and feature maps by layer name,
// each [B,h,w,C]. It is called in inference mode (the graph is not marked as training).
type ModelFn func(scope *model.Scope, images *graph.Node) (logits *graph.Node, features map[string]*graph.Node)

// HeadWeightsFn returns the dense head's weights [C,K] (logit_k = sum_c W[c,k] * GAP(A)_c + b_k), for CAM.
type HeadWeightsFn func(scope *model.Scope, g *graph.Graph) *graph.Node

// HeadWeightsVariable returns a HeadWeightsFn reading the store variable at the given full path (e.g.
// "/head/dense/weights"); a missing variable is a graph-building error naming the path.
func HeadWeightsVariable(path string) HeadWeightsFn {
	return func(scope *model.Scope, g *graph.Graph) *graph.Node {
		v := scope.Store().GetVariable(path)
		if v == nil {
			exceptions.Panicf("gradcam: head weights variable %q not found in the store", path)
		}
		return v.NodeValue(g)
	}
}

// TTAMode selects test-time augmentation: each transform is applied to the input, maps are computed and mapped back
// with the inverse transform (at layer resolution), then averaged.
type TTAMode int

const (
	TTANone     TTAMode = iota
	TTAFlips            // identity, horizontal, vertical and both flips
	TTADihedral         // all 8 symmetries of the square (needs square layer maps)
)

// Options configure an Explainer. Zero values give Grad-CAM, min-max normalisation, batch 16.
type Options struct {
	Method Method   // default GradCAM
	Layers []string // target layers (names in the ModelFn's features); several are fused (see Result.Raw)
	// HeadWeights is required by CAM: the dense head's [C,K] weights.
	HeadWeights HeadWeightsFn

	TTA          TTAMode
	NoiseSamples int     // > 0: average maps over this many noisy copies (Smooth Grad-CAM++ style)
	NoiseStd     float64 // std of the Gaussian noise added to [0,1] pixels; default 0.1
	Seed         uint64  // noise RNG seed (results are reproducible)

	Normalize  Normalization // how Maps are scaled to [0,1]; default NormMinMax
	Percentile float64       // for NormPercentile; default 99

	// Score is the class score whose gradient the gradient methods use; default ScoreLogit.
	Score Score

	BatchSize    int // compiled batch size (the last batch is padded); default 16
	ScoreCAMTopK int // ScoreCAM: use only the K channels of largest mean activation per image; 0 = all

	// PGC selects pytorch-grad-cam's own formulas where our default differs (see README): gradcam++ adds 1e-6 to
	// the alpha denominator; eigencam keeps the SVD's sign; scorecam weights channels by a softmax over channels of
	// the target logit and upsamples masks with align_corners=True. Other methods ignore it.
	PGC bool
}

// Score selects the class score differentiated by the gradient methods.
type Score int

const (
	// ScoreLogit (default, as pytorch-grad-cam): the raw logit z_k.
	ScoreLogit Score = iota
	// ScoreLogProb: log p_k = z_k - logsumexp(z). Its gradient is dz_k - sum_j p_j dz_j, so evidence that raises
	// every plausible class alike (e.g. plain background texture) cancels and the map shows what sets class k
	// apart from its competitors.
	ScoreLogProb
)

// Result holds the probabilities and maps of one Explain call.
type Result struct {
	Probs [][]float32 // [N][K] softmax of the logits of the clean, untransformed images
	// Targets is nil when all classes were explained (Raw[n][k], Maps[n][k] is class k); otherwise the class
	// explained for each image (Raw[n][0], Maps[n][0]), with -1 resolved to the predicted class.
	Targets []int
	// Raw maps [N][T][LayerH*LayerW] at layer resolution, unnormalised, after ReLU (every method here ends with a
	// ReLU, as in pytorch-grad-cam), averaged over TTA/noise passes. With several layers, Raw is their fusion: each
	// layer's map is upsampled to the finest layer resolution, min-max normalised, and the maps are averaged.
	Raw            [][][]float32
	LayerW, LayerH int
	// Maps [N][T][Size*Size]: Raw upsampled (bilinear, half-pixel centres) to the input size and normalised to
	// [0,1] by Options.Normalize. Never NaN; a constant or zero-gradient map is all zeros.
	Maps [][][]float32
	Size int
}

// Explainer holds the compiled graphs for one (store, ModelFn, Options); reuse it across calls. It is safe for
// concurrent use (calls are serialised).
type Explainer struct {
	backend compute.Backend
	store   *model.Store
	fn      ModelFn
	opts    Options
	spec    methodSpec

	mu                             sync.Mutex
	allExec, targetExec, probsExec *model.Exec
	ablationExecs                  map[string]*model.Exec // AblationCAM, by layer
	debugGrads                     bool                   // tests: also output the gradients [B,T,h,w,C] per layer
}

// NewExplainer validates the options and prepares (lazily compiled) executors.
func NewExplainer(backend compute.Backend, store *model.Store, fn ModelFn, opts Options) (*Explainer, error) {
	if backend == nil || store == nil || fn == nil {
		return nil, errors.New("gradcam.NewExplainer: backend, store and model function are required")
	}
	if opts.Method == "" {
		opts.Method = GradCAM
	}
	spec, ok := methodSpecs[opts.Method]
	if !ok {
		return nil, errors.Errorf("gradcam.NewExplainer: unknown method %q (known: %v)", opts.Method, Methods)
	}
	if opts.PGC && spec.pgc != nil {
		spec = *spec.pgc
	}
	if len(opts.Layers) == 0 {
		return nil, errors.New("gradcam.NewExplainer: Options.Layers is empty: name at least one feature layer")
	}
	if spec.check != nil {
		if err := spec.check(opts); err != nil {
			return nil, errors.WithMessage(err, "gradcam.NewExplainer")
		}
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 16
	}
	if opts.NoiseStd <= 0 {
		opts.NoiseStd = 0.1
	}
	if opts.Percentile <= 0 || opts.Percentile > 100 {
		opts.Percentile = 99
	}
	if opts.NoiseSamples < 0 || opts.ScoreCAMTopK < 0 {
		return nil, errors.New("gradcam.NewExplainer: NoiseSamples and ScoreCAMTopK must be >= 0")
	}
	return &Explainer{backend: backend, store: store, fn: fn, opts: opts, spec: spec}, nil
}

// Options returns the options in use (defaults filled in).
func (e *Explainer) Options() Options { return e.opts }

// buildGraph is the one graph behind every method: forward once, gradients of the target scores w.r.t. the target
// layers, and the method's maps. Inputs: images [B,S,S,1] (and targets [B] int32 when perImage, -1 = predicted).
// Outputs: probs [B,K], (resolved targets [B] when perImage), then per layer the maps [B,T,h,w] after ReLU
// (host-side methods: the activations [B,h,w,C] instead), then (debugGrads) per layer the gradients.
func (e *Explainer) buildGraph(scope *model.Scope, inputs []*graph.Node, perImage bool) []*graph.Node {
	logits, feats := e.fn(scope, inputs[0])
	if logits.Rank() != 2 {
		exceptions.Panicf("gradcam: logits have shape %s, want [batch, classes]", logits.Shape())
	}
	logits = asF32(logits)
	numClasses := logits.Shape().Dimensions[1]
	outs := []*graph.Node{graph.Softmax(logits, -1)}
	var onehot *graph.Node
	if perImage {
		pred := graph.ArgMax(logits, 1, dtypes.Int32)
		t := graph.Where(graph.LessThan(inputs[1], graph.ZerosLike(inputs[1])), pred, inputs[1])
		outs = append(outs, t)
		onehot = graph.OneHot(t, numClasses, dtypes.Float32)
	}
	layers := e.targetLayers(feats)
	var grads []*graph.Node
	if e.spec.needsGrad || e.debugGrads {
		grads = e.layerGradients(e.scores(logits), onehot, layers)
	}
	for i, f := range layers {
		a := sanitize(asF32(f))
		if e.spec.host != nil {
			outs = append(outs, a)
			continue
		}
		var g *graph.Node
		if grads != nil {
			g = grads[i]
		}
		c := &layerCtx{scope: scope, opts: &e.opts, layer: e.opts.Layers[i], numClasses: numClasses, onehot: onehot}
		outs = append(outs, relu(sanitize(e.layerMap(c, a, g))))
	}
	if e.debugGrads {
		outs = append(outs, grads...)
	}
	return outs
}

// scores are the class scores [B,K] whose gradients the gradient methods use (the method's own, else
// Options.Score).
func (e *Explainer) scores(logits *graph.Node) *graph.Node {
	if e.spec.score != nil {
		return e.spec.score(logits)
	}
	if e.opts.Score == ScoreLogProb {
		return graph.LogSoftmax(logits, -1)
	}
	return logits
}

// targetLayers returns the model's feature maps named in Options.Layers, each checked to be [B,h,w,C].
func (e *Explainer) targetLayers(feats map[string]*graph.Node) []*graph.Node {
	layers := make([]*graph.Node, len(e.opts.Layers))
	for i, name := range e.opts.Layers {
		f, ok := feats[name]
		if !ok || f == nil {
			exceptions.Panicf("gradcam: model has no feature %q (has %v)", name, featureNames(feats))
		}
		mustRank4(name, f)
		layers[i] = f
	}
	return layers
}

// layerGradients returns, per layer, the gradients [B,T,h,w,C] of the scores [B,K]: of each image's target class
// (onehot [B,K], T = 1) or of every class (onehot nil, T = K). The sum over the batch is fine since images don't
// interact in inference.
func (e *Explainer) layerGradients(scores, onehot *graph.Node, layers []*graph.Node) []*graph.Node {
	grads := make([]*graph.Node, len(layers))
	if onehot != nil {
		gs := graph.Gradient(graph.ReduceAllSum(graph.Mul(scores, onehot)), layers...)
		for i := range gs {
			grads[i] = graph.ExpandAxes(sanitize(asF32(gs[i])), 1)
		}
		return grads
	}
	perClass := make([][]*graph.Node, len(layers))
	for k := range scores.Shape().Dimensions[1] {
		score := graph.ReduceAllSum(graph.SliceAxis(scores, 1, graph.AxisElem(k)))
		for i, gk := range graph.Gradient(score, layers...) {
			perClass[i] = append(perClass[i], sanitize(asF32(gk)))
		}
	}
	for i := range layers {
		grads[i] = graph.Stack(perClass[i], 1)
	}
	return grads
}

// layerMap is the method's map [B,T,h,w] (before ReLU) of one layer: weighted activations or a spatial map,
// broadcast to T maps when the method is class-independent.
func (e *Explainer) layerMap(c *layerCtx, a, g *graph.Node) *graph.Node {
	if e.spec.weights != nil {
		return weightedMap(a, e.spec.weights(c, a, g))
	}
	m := e.spec.spatial(c, a, g)
	numT := c.numClasses
	if c.onehot != nil {
		numT = 1
	}
	if dims := a.Shape().Dimensions; m.Shape().Dimensions[1] != numT {
		m = graph.BroadcastToDims(m, dims[0], numT, dims[1], dims[2])
	}
	return m
}

func featureNames(feats map[string]*graph.Node) []string {
	names := make([]string, 0, len(feats))
	for k := range feats {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func (e *Explainer) exec(perImage bool) (*model.Exec, error) {
	p := &e.allExec
	if perImage {
		p = &e.targetExec
	}
	if *p == nil {
		ex, err := model.NewExec(e.backend, e.store, func(scope *model.Scope, inputs []*graph.Node) []*graph.Node {
			return e.buildGraph(scope, inputs, perImage)
		})
		if err != nil {
			return nil, errors.WithMessage(err, "gradcam: creating the executor")
		}
		*p = ex
	}
	return *p, nil
}

// probsExecutor is a forward-only graph: images -> softmax(logits), logits. Used by Predict and the host-side
// methods' masked forwards.
func (e *Explainer) probsExecutor() (*model.Exec, error) {
	if e.probsExec == nil {
		ex, err := model.NewExec(e.backend, e.store, func(scope *model.Scope, images *graph.Node) []*graph.Node {
			logits, _ := e.fn(scope, images)
			logits = asF32(logits)
			return []*graph.Node{graph.Softmax(logits, -1), logits}
		})
		if err != nil {
			return nil, errors.WithMessage(err, "gradcam: creating the forward executor")
		}
		e.probsExec = ex
	}
	return e.probsExec, nil
}

// layerOut is one pass's maps for one layer: maps[n][t] is a h x w map.
type layerOut struct {
	h, w int
	maps [][][]float32
}

// passOut is the outcome of running the graph on N images (all batches).
type passOut struct {
	probs   [][]float32
	targets []int // resolved, perImage only
	layers  []layerOut
	grads   [][]float32 // debugGrads: per layer, flat [N,T,h,w,C]
}

// Explain returns the probabilities and the maps of the images (each size*size row-major, values in [0,1]).
// Without targets, every class is explained (T = K maps per image); with targets (one per image, -1 = the predicted
// class) only that class (T = 1). NaN/Inf pixels are read as 0.
//
// Steps: check and clean the input; plan the passes (TTA transforms x noise samples); run each pass and add its maps,
// mapped back, to per-layer sums; average; fuse the layers; upsample and normalise.
func (e *Explainer) Explain(images [][]float32, size int, targets ...int) (*Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if size <= 0 {
		return nil, errors.Errorf("gradcam.Explain: invalid image size %d", size)
	}
	perImage := targets != nil
	if perImage && len(targets) != len(images) {
		return nil, errors.Errorf("gradcam.Explain: %d targets for %d images: give one per image or none", len(targets), len(images))
	}
	clean, err := cleanImages(images, size, "gradcam.Explain")
	if err != nil {
		return nil, err
	}
	res := &Result{Size: size}
	if len(images) == 0 {
		return res, nil
	}
	var resolved []int // targets of the later passes are those of the clean image: every pass explains one class
	if perImage {
		resolved = slices.Clone(targets)
	}
	if e.opts.NoiseSamples > 0 {
		// No clean pass among the passes: get the clean probabilities with a forward-only run.
		if res.Probs, err = e.predict(clean, size); err != nil {
			return nil, err
		}
		resolvePredicted(resolved, res.Probs)
	}
	sums, numPasses, err := e.runPasses(clean, size, perImage, resolved, res)
	if err != nil {
		return nil, err
	}
	if perImage && res.Targets == nil { // probabilities came from a separate forward
		res.Targets = resolved
	}
	for _, lo := range sums {
		lo.scale(1 / float32(numPasses))
	}
	res.Raw, res.LayerW, res.LayerH = fuse(sums)
	res.Maps = make([][][]float32, len(res.Raw))
	for n, perT := range res.Raw {
		res.Maps[n] = make([][]float32, len(perT))
		for t, m := range perT {
			res.Maps[n][t] = Normalize(heatmap.Resize(m, res.LayerW, res.LayerH, size, size), e.opts.Normalize, e.opts.Percentile)
		}
	}
	return res, nil
}

// cleanImages checks that every image has size*size pixels and returns copies with NaN/Inf read as 0.
func cleanImages(images [][]float32, size int, caller string) ([][]float32, error) {
	clean := make([][]float32, len(images))
	for i, img := range images {
		if len(img) != size*size {
			return nil, errors.Errorf("%s: image %d has %d pixels, want %d (size %d)", caller, i, len(img), size*size, size)
		}
		clean[i] = make([]float32, len(img))
		for j, v := range img {
			clean[i][j] = finite(v)
		}
	}
	return clean, nil
}

// resolvePredicted replaces each -1 target by the predicted class of its probabilities.
func resolvePredicted(targets []int, probs [][]float32) {
	for n, t := range targets {
		if t < 0 {
			targets[n] = heatmap.ArgMax(probs[n])
		}
	}
}

// pass is one run of the graph: a TTA transform of the clean or of a noisy copy of the images.
type pass struct {
	t     heatmap.Transform
	noise int // -1 clean, else the noise sample
}

// passes lists the runs Explain makes: each TTA transform, of the clean images or of each noise sample.
func (e *Explainer) passes() []pass {
	transforms := []heatmap.Transform{heatmap.NoTransform}
	switch e.opts.TTA {
	case TTAFlips:
		transforms = heatmap.Flips
	case TTADihedral:
		transforms = heatmap.Dihedral
	}
	var out []pass
	if e.opts.NoiseSamples == 0 {
		for _, t := range transforms {
			out = append(out, pass{t, -1})
		}
		return out
	}
	for s := range e.opts.NoiseSamples {
		for _, t := range transforms {
			out = append(out, pass{t, s})
		}
	}
	return out
}

// runPasses runs every pass and returns the per-layer sums of the maps mapped back to the untransformed image, and
// the number of passes. The first clean pass sets res.Probs (and res.Targets when perImage).
func (e *Explainer) runPasses(clean [][]float32, size int, perImage bool, resolved []int, res *Result) ([]*layerOut, int, error) {
	var rng *rand.Rand
	if e.opts.NoiseSamples > 0 {
		rng = rand.New(rand.NewPCG(e.opts.Seed, 0x9e3779b97f4a7c15))
	}
	passes := e.passes()
	var sums []*layerOut
	noisy, lastNoise := clean, -1
	for pi, p := range passes {
		if p.noise != lastNoise {
			noisy, lastNoise = addNoise(clean, rng, e.opts.NoiseStd), p.noise
		}
		out, err := e.run(applyAll(p.t, noisy, size), size, perImage, resolved)
		if err != nil {
			return nil, 0, err
		}
		if pi == 0 && e.opts.NoiseSamples == 0 {
			res.Probs = out.probs
			if perImage {
				resolved, res.Targets = out.targets, out.targets
			}
		}
		if sums == nil {
			sums = make([]*layerOut, len(out.layers))
		}
		for l, lo := range out.layers {
			if p.t.Swaps() && lo.h != lo.w {
				return nil, 0, errors.Errorf("gradcam.Explain: TTA with rotations needs square layer maps, layer %q is %dx%d",
					e.opts.Layers[l], lo.h, lo.w)
			}
			sums[l] = lo.addMappedBack(sums[l], p.t)
		}
	}
	return sums, len(passes), nil
}

// addNoise returns copies of the images with Gaussian noise of the given std added to every pixel.
func addNoise(images [][]float32, rng *rand.Rand, std float64) [][]float32 {
	out := make([][]float32, len(images))
	for n, img := range images {
		out[n] = make([]float32, len(img))
		for j, v := range img {
			out[n][j] = v + float32(rng.NormFloat64()*std)
		}
	}
	return out
}

// applyAll returns the images transformed by t (the same slice for NoTransform).
func applyAll(t heatmap.Transform, images [][]float32, size int) [][]float32 {
	if t == heatmap.NoTransform {
		return images
	}
	out := make([][]float32, len(images))
	for n, img := range images {
		out[n] = t.Apply(img, size, size)
	}
	return out
}

// addMappedBack adds lo's maps, mapped back by the inverse of t, to sum (allocated when nil) and returns sum.
func (lo layerOut) addMappedBack(sum *layerOut, t heatmap.Transform) *layerOut {
	if sum == nil {
		sum = &layerOut{h: lo.h, w: lo.w, maps: make([][][]float32, len(lo.maps))}
	}
	inv := t.Inverse()
	for n := range lo.maps {
		if sum.maps[n] == nil {
			sum.maps[n] = make([][]float32, len(lo.maps[n]))
		}
		for k, m := range lo.maps[n] {
			if t != heatmap.NoTransform {
				m = inv.Apply(m, lo.w, lo.h)
			}
			if sum.maps[n][k] == nil {
				sum.maps[n][k] = make([]float32, len(m))
			}
			acc := sum.maps[n][k]
			for j, v := range m {
				acc[j] += v
			}
		}
	}
	return sum
}

// scale multiplies every map by f.
func (lo *layerOut) scale(f float32) {
	for _, perT := range lo.maps {
		for _, m := range perT {
			for j := range m {
				m[j] *= f
			}
		}
	}
}

// fuse returns the single layer's maps, or, for several layers, the mean of the per-layer maps upsampled to the
// finest layer's resolution and min-max normalised (so layers of different magnitudes weigh the same).
func fuse(layers []*layerOut) ([][][]float32, int, int) {
	if len(layers) == 1 {
		return layers[0].maps, layers[0].w, layers[0].h
	}
	best := 0
	for l, lo := range layers {
		if lo.h*lo.w > layers[best].h*layers[best].w {
			best = l
		}
	}
	h, w := layers[best].h, layers[best].w
	n := len(layers[0].maps)
	out := make([][][]float32, n)
	for i := range n {
		out[i] = make([][]float32, len(layers[0].maps[i]))
		for t := range out[i] {
			acc := make([]float32, h*w)
			for _, lo := range layers {
				m := Normalize(heatmap.Resize(lo.maps[i][t], lo.w, lo.h, w, h), NormMinMax, 0)
				for j, v := range m {
					acc[j] += v / float32(len(layers))
				}
			}
			out[i][t] = acc
		}
	}
	return out, w, h
}

// Predict returns the softmax probabilities [N][K] of the images (forward only, batched like Explain).
func (e *Explainer) Predict(images [][]float32, size int) ([][]float32, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	clean, err := cleanImages(images, size, "gradcam.Predict")
	if err != nil {
		return nil, err
	}
	return e.predict(clean, size)
}

// predict runs the forward-only graph over images in padded batches and returns the probabilities.
func (e *Explainer) predict(images [][]float32, size int) ([][]float32, error) {
	probs, _, err := e.forward(images, size)
	return probs, err
}

// forward runs the forward-only graph over images in padded batches: probabilities and logits [N][K], non-finite
// values read as 0.
func (e *Explainer) forward(images [][]float32, size int) (probs, logits [][]float32, err error) {
	ex, err := e.probsExecutor()
	if err != nil {
		return nil, nil, err
	}
	bs := e.opts.BatchSize
	probs = make([][]float32, 0, len(images))
	logits = make([][]float32, 0, len(images))
	for start := 0; start < len(images); start += bs {
		end := min(start+bs, len(images))
		outs, err := ex.Call(batchTensor(images[start:end], size, bs))
		if err != nil {
			return nil, nil, errors.WithMessage(err, "gradcam: forward pass")
		}
		pFlat, err := tensors.CopyFlatData[float32](outs[0])
		if err != nil {
			return nil, nil, errors.WithMessage(err, "gradcam: reading probabilities")
		}
		lFlat, err := tensors.CopyFlatData[float32](outs[1])
		if err != nil {
			return nil, nil, errors.WithMessage(err, "gradcam: reading logits")
		}
		k := outs[0].Shape().Dimensions[1]
		for n := range end - start {
			probs = append(probs, sanitizeProbs(pFlat[n*k:(n+1)*k]))
			logits = append(logits, sanitizeProbs(lFlat[n*k:(n+1)*k]))
		}
		finalize(outs)
	}
	return probs, logits, nil
}

// sanitizeProbs copies a probability row, mapping non-finite values to 0 (NaN weights in a model must not leak).
func sanitizeProbs(p []float32) []float32 {
	out := make([]float32, len(p))
	for i, v := range p {
		out[i] = finite(v)
	}
	return out
}

func finalize(ts []*tensors.Tensor) {
	for _, t := range ts {
		_ = t.FinalizeAll()
	}
}

// batchTensor packs images into a [bs,S,S,1] tensor, zero-padding the missing rows so one compiled shape serves
// every batch.
func batchTensor(images [][]float32, size, bs int) *tensors.Tensor {
	flat := make([]float32, bs*size*size)
	for n, img := range images {
		copy(flat[n*size*size:], img)
	}
	return tensors.FromFlatDataAndDimensions(flat, bs, size, size, 1)
}

// run executes the CAM graph on all images (already transformed) in padded batches and collects per-layer maps.
func (e *Explainer) run(images [][]float32, size int, perImage bool, targets []int) (*passOut, error) {
	ex, err := e.exec(perImage)
	if err != nil {
		return nil, err
	}
	bs := e.opts.BatchSize
	out := &passOut{layers: make([]layerOut, len(e.opts.Layers))}
	if e.debugGrads {
		out.grads = make([][]float32, len(e.opts.Layers))
	}
	for start := 0; start < len(images); start += bs {
		end := min(start+bs, len(images))
		args := []any{batchTensor(images[start:end], size, bs)}
		if perImage {
			t := make([]int32, bs)
			for n := range end - start {
				t[n] = int32(targets[start+n])
			}
			args = append(args, tensors.FromFlatDataAndDimensions(t, bs))
		}
		outs, err := ex.Call(args...)
		if err != nil {
			return nil, errors.WithMessage(err, "gradcam: running the CAM graph")
		}
		err = e.collectBatch(out, outs, images[start:end], size, perImage)
		finalize(outs)
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// collectBatch appends one batch's graph outputs (probabilities, targets, per-layer maps or activations, gradients)
// for its nb real images to out.
func (e *Explainer) collectBatch(out *passOut, outs []*tensors.Tensor, images [][]float32, size int, perImage bool) error {
	nb := len(images)
	probsFlat, err := tensors.CopyFlatData[float32](outs[0])
	if err != nil {
		return errors.WithMessage(err, "gradcam: reading probabilities")
	}
	numK := outs[0].Shape().Dimensions[1]
	for n := range nb {
		out.probs = append(out.probs, sanitizeProbs(probsFlat[n*numK:(n+1)*numK]))
	}
	next := 1
	var batchTargets []int
	if perImage {
		tFlat, err := tensors.CopyFlatData[int32](outs[1])
		if err != nil {
			return errors.WithMessage(err, "gradcam: reading targets")
		}
		for n := range nb {
			batchTargets = append(batchTargets, int(tFlat[n]))
		}
		out.targets = append(out.targets, batchTargets...)
		next = 2
	}
	numL := len(e.opts.Layers)
	for l := range numL {
		if err := e.collectLayer(&out.layers[l], l, outs[next+l], images, size, numK, batchTargets); err != nil {
			return errors.WithMessagef(err, "gradcam: maps of layer %q", e.opts.Layers[l])
		}
	}
	if e.debugGrads {
		bs := outs[0].Shape().Dimensions[0]
		for l := range numL {
			o := outs[next+numL+l]
			flat, err := tensors.CopyFlatData[float32](o)
			if err != nil {
				return err
			}
			per := o.Shape().Size() / bs
			out.grads[l] = append(out.grads[l], flat[:nb*per]...)
		}
	}
	return nil
}

// collectLayer appends one layer's maps of a batch to lo: the graph's maps [B,T,h,w], or, for host-side methods,
// the maps the method computes from the activations [B,h,w,C].
func (e *Explainer) collectLayer(lo *layerOut, layer int, o *tensors.Tensor, images [][]float32, size, numK int, targets []int) error {
	nb := len(images)
	flat, err := tensors.CopyFlatData[float32](o)
	if err != nil {
		return err
	}
	d := o.Shape().Dimensions
	var maps [][][]float32
	if e.spec.host != nil {
		lo.h, lo.w = d[1], d[2]
		maps, err = e.spec.host(e, hostInput{layer: e.opts.Layers[layer], images: images, size: size, acts: flat[:nb*d[1]*d[2]*d[3]],
			h: d[1], w: d[2], c: d[3], numK: numK, targets: targets})
		if err != nil {
			return err
		}
		for _, perT := range maps {
			for _, m := range perT {
				reluHost(m)
			}
		}
	} else {
		numT, hw := d[1], d[2]*d[3]
		lo.h, lo.w = d[2], d[3]
		maps = make([][][]float32, nb)
		for n := range nb {
			maps[n] = make([][]float32, numT)
			for t := range numT {
				maps[n][t] = slices.Clone(flat[(n*numT+t)*hw : (n*numT+t+1)*hw])
			}
		}
	}
	lo.maps = append(lo.maps, maps...)
	return nil
}

// String describes the options briefly (for logs and captions).
func (o Options) String() string {
	s := fmt.Sprintf("%s@%v", o.Method, o.Layers)
	if o.TTA != TTANone {
		s += fmt.Sprintf(" tta=%d", o.TTA)
	}
	if o.NoiseSamples > 0 {
		s += fmt.Sprintf(" noise=%dx%.2g", o.NoiseSamples, o.NoiseStd)
	}
	return s
}
