package report

import (
	"fmt"
	"image"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/pkg/errors"
	"golang.org/x/image/draw"

	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/heatmap"
	"github.com/neucam/neucam/gradcam/metrics"
	"github.com/neucam/neucam/gradcam/render"
	"github.com/neucam/neucam/neu"
)

// Config is one explain/evaluate run over a dataset.
type Config struct {
	Model   *Model
	Methods []MethodSpec
	// BatchSize images are read, classified and explained at a time; memory stays bounded by it.
	BatchSize int
	// OutDir receives one PNG per image (images/NAME.png); "" writes no images (evaluate).
	OutDir string
	Render render.Options
	// FaithfulnessImages: deletion/insertion AUC (RISE) on the first N labelled images, per method (0: off).
	FaithfulnessImages int
	// SanityImages: Spearman correlation between the maps of the model and of the same model with its top layers
	// re-initialised (Adebayo et al. 2018), on the first N labelled images, per CAM method (0: off).
	SanityImages int
	// RandomizeScopes are the variable scopes re-initialised for the sanity check.
	RandomizeScopes []string
	Seed            int64
	Progress        io.Writer // progress lines; nil: silent
}

// ImageResult is one image's line in results.json.
type ImageResult struct {
	File      string             `json:"file"`
	Name      string             `json:"name"`
	Width     int                `json:"width"`
	Height    int                `json:"height"`
	TrueClass string             `json:"true_class,omitempty"`
	PredClass string             `json:"pred_class"`
	Prob      float64            `json:"prob"`
	Correct   *bool              `json:"correct,omitempty"`
	Loss      *float64           `json:"loss,omitempty"`
	Probs     map[string]float64 `json:"probs"`
	// Metrics per method: the map of the true class scored against that class's GT boxes.
	Metrics map[string]ImageMetrics `json:"metrics,omitempty"`
	PNG     string                  `json:"png,omitempty"`
	// Boxes read from each method's class maps (classes with p >= 0.1, components above 50% of the map's
	// max), in the image's own pixels: xmin, ymin inclusive, xmax, ymax exclusive.
	Boxes []DetectedBox `json:"boxes,omitempty"`

	trueIdx int
	probs   []float32
}

// DetectedBox is one CAM box scored as a detection (metrics.Detect).
type DetectedBox struct {
	Method string  `json:"method"`
	Class  string  `json:"class"`
	Score  float64 `json:"score"`
	XMin   int     `json:"xmin"`
	YMin   int     `json:"ymin"`
	XMax   int     `json:"xmax"`
	YMax   int     `json:"ymax"`
}

// ImageMetrics are the localization scores of one map (see gradcam/metrics).
type ImageMetrics struct {
	EnergyInBox  float64 `json:"energy_in_box"`
	EnergyGain   float64 `json:"energy_gain"`
	PointingGame float64 `json:"pointing_game"`
	IoU          float64 `json:"iou"`
}

// Results is what a run measured; it is written as results.json (explain) or the evaluate JSON.
type Results struct {
	Images           int                           `json:"images"`
	Labelled         int                           `json:"labelled"`
	Accuracy         float64                       `json:"accuracy"`
	PerClassAccuracy map[string]float64            `json:"per_class_accuracy"`
	Confusion        [][]int                       `json:"confusion"`
	Classes          []string                      `json:"classes"`
	Methods          []string                      `json:"methods"`
	Localization     map[string]metrics.Scores     `json:"localization,omitempty"`
	Faithfulness     map[string]map[string]float64 `json:"faithfulness,omitempty"`
	Sanity           map[string]map[string]float64 `json:"sanity,omitempty"`
	// Detection: per method, Pascal-VOC mAP of the CAM boxes against all GT boxes of the annotated images.
	Detection map[string]metrics.DetectionScores `json:"detection,omitempty"`
	Skipped   []neu.Skipped                      `json:"skipped"`
	Seconds   float64                            `json:"seconds"`
	PerImage  []ImageResult                      `json:"per_image"`

	suite *metrics.Suite
	det   map[string]*metrics.DetectionEval
}

// Run classifies and explains every sample, streaming BatchSize images at a time: it scores each method's maps
// against the GT boxes, renders one PNG per image when OutDir is set, and aggregates everything.
// Unreadable images are reported in Results.Skipped and never stop the run.
func Run(cfg Config, ds *neu.Dataset) (*Results, error) {
	start := time.Now()
	m := cfg.Model
	if m == nil || len(cfg.Methods) == 0 {
		return nil, errors.New("report.Run: a model and at least one method are required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 16
	}
	if cfg.Render.Scale == 0 {
		cfg.Render = cfg.Render.Defaults()
	}
	mappers := make([]Mapper, len(cfg.Methods))
	names := make([]string, len(cfg.Methods))
	for i, spec := range cfg.Methods {
		mp, err := NewMapper(m, spec, cfg.Seed)
		if err != nil {
			return nil, err
		}
		mappers[i], names[i] = mp, spec.Spec
	}
	var sanity []Mapper
	if cfg.SanityImages > 0 {
		rm, err := RandomizedModel(m, cfg.RandomizeScopes, cfg.Seed)
		if err != nil {
			return nil, err
		}
		sanity = make([]Mapper, len(cfg.Methods))
		for i, spec := range cfg.Methods {
			if spec.Name == MethodLIME {
				continue // model-agnostic cost is 1,000 forwards per image: sanity is reported for CAM methods
			}
			if sanity[i], err = NewMapper(rm, spec, cfg.Seed); err != nil {
				return nil, err
			}
		}
	}
	if cfg.OutDir != "" {
		if err := os.MkdirAll(filepath.Join(cfg.OutDir, "images"), 0o755); err != nil {
			return nil, errors.Wrapf(err, "creating output folder %s", cfg.OutDir)
		}
	}

	k := len(m.Classes)
	res := &Results{
		Classes: m.Classes, Methods: names, Skipped: slices.Clone(ds.Skipped),
		Confusion: make([][]int, k), PerClassAccuracy: map[string]float64{},
		suite: metrics.NewSuite(m.Classes, metrics.Options{}, uint64(cfg.Seed)), det: map[string]*metrics.DetectionEval{},
	}
	for i := range res.Confusion {
		res.Confusion[i] = make([]int, k)
	}
	faith := newFaithfulness(names)
	sanityRho := map[string][]float64{}
	sanityCount := 0
	progress := newProgress(cfg.Progress, len(ds.Samples))

	for lo := 0; lo < len(ds.Samples); lo += cfg.BatchSize {
		batch := ds.Samples[lo:min(lo+cfg.BatchSize, len(ds.Samples))]
		var samples []neu.Sample
		var grays []*image.Gray
		var pix [][]float32
		for _, s := range batch {
			g, err := neu.ReadImage(s.ImagePath)
			if err != nil {
				res.Skipped = append(res.Skipped, neu.Skipped{Path: s.ImagePath, Reason: err.Error()})
				continue
			}
			pix = append(pix, sanitize(neu.Pixels(g, m.Size)))
			s.Size = g.Bounds().Size() // the file's own size, reported in results.json
			g, s.Boxes = fitDisplay(g, s.Boxes)
			samples, grays = append(samples, s), append(grays, g)
		}
		if len(samples) == 0 {
			progress.add(len(batch))
			continue
		}
		allMaps := make([][][][]float32, len(mappers)) // [method][image][class][S*S]
		var probs [][]float32
		for mi, mp := range mappers {
			p, maps, err := mp.Maps(pix)
			if err != nil {
				return nil, errors.WithMessagef(err, "method %s", names[mi])
			}
			if probs == nil {
				probs = p
			}
			allMaps[mi] = maps
		}
		for i, s := range samples {
			ir := res.addImage(s, grays[i], probs[i])
			size := grays[i].Bounds().Size()
			// Maps at the image's own resolution so boxes are scored in their own pixel grid.
			full := make([][][]float32, len(mappers))
			for mi := range mappers {
				full[mi] = make([][]float32, k)
				for c := 0; c < k; c++ {
					full[mi][c] = toImageGrid(allMaps[mi][i][c], m.Size, size)
				}
			}
			if err := res.score(s, ir, names, full, size); err != nil {
				return nil, err
			}
			if cfg.OutDir != "" {
				if err := writeImagePNG(cfg, ir, grays[i], s, full, names); err != nil {
					return nil, err
				}
			}
		}
		// Faithfulness and sanity on the first labelled images, one batched call per method.
		var fIdx, sIdx []int
		for i, s := range samples {
			if s.Label < 0 || len(boxesOf(s, s.Label)) == 0 {
				continue
			}
			if faith.count+len(fIdx) < cfg.FaithfulnessImages {
				fIdx = append(fIdx, i)
			}
			if sanityCount+len(sIdx) < cfg.SanityImages {
				sIdx = append(sIdx, i)
			}
		}
		if len(fIdx) > 0 {
			if err := faith.add(m, pix, allMaps, samples, fIdx, names); err != nil {
				return nil, err
			}
		}
		if len(sIdx) > 0 {
			sub := make([][]float32, len(sIdx))
			for j, i := range sIdx {
				sub[j] = pix[i]
			}
			for mi, sm := range sanity {
				if sm == nil {
					continue
				}
				_, rmaps, err := sm.Maps(sub)
				if err != nil {
					return nil, errors.WithMessagef(err, "sanity check, method %s", names[mi])
				}
				for j, i := range sIdx {
					c := samples[i].Label
					sanityRho[names[mi]] = append(sanityRho[names[mi]], metrics.SpearmanRank(allMaps[mi][i][c], rmaps[j][c]))
				}
			}
			sanityCount += len(sIdx)
		}
		progress.add(len(batch))
	}
	progress.done()
	res.finish(faith, sanityRho)
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}

// MaxGridSide bounds the grid on which maps are scored and drawn: larger images (a 4000x4000 photo) are
// scaled down to it, boxes with them, so memory per image stays bounded (maps for every class and method
// at full size would take gigabytes). The model itself always sees MaxGridSide-independent S*S pixels.
const MaxGridSide = 800

// fitDisplay scales g (and boxes) down so its longer side is at most MaxGridSide.
func fitDisplay(g *image.Gray, boxes []neu.Box) (*image.Gray, []neu.Box) {
	b := g.Bounds()
	side := max(b.Dx(), b.Dy())
	if side <= MaxGridSide {
		return g, boxes
	}
	f := float64(MaxGridSide) / float64(side)
	w, h := max(1, int(math.Round(float64(b.Dx())*f))), max(1, int(math.Round(float64(b.Dy())*f)))
	out := image.NewGray(image.Rect(0, 0, w, h))
	draw.ApproxBiLinear.Scale(out, out.Bounds(), g, b, draw.Src, nil)
	scaled := make([]neu.Box, len(boxes))
	for i, bx := range boxes {
		r := bx.Rect.Sub(b.Min)
		bx.Rect = image.Rect(int(float64(r.Min.X)*f), int(float64(r.Min.Y)*f),
			int(math.Ceil(float64(r.Max.X)*f)), int(math.Ceil(float64(r.Max.Y)*f)))
		scaled[i] = bx
	}
	return out, scaled
}

// sanitize replaces non-finite pixels (a corrupt decoder or a synthetic input) with 0 so maps stay finite.
func sanitize(p []float32) []float32 {
	for i, v := range p {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			p[i] = 0
		}
	}
	return p
}

// toImageGrid upsamples an S*S map to the image's size (bilinear) and rescales it to [0,1].
func toImageGrid(m []float32, s int, size image.Point) []float32 {
	if size.X == s && size.Y == s {
		return slices.Clone(m)
	}
	return gradcam.Normalize(heatmap.Resize(m, s, s, size.X, size.Y), gradcam.NormMinMax, 0)
}

func boxesOf(s neu.Sample, class int) []image.Rectangle {
	var out []image.Rectangle
	for _, b := range s.Boxes {
		if b.Class == class {
			out = append(out, b.Rect)
		}
	}
	return out
}

func (r *Results) addImage(s neu.Sample, g *image.Gray, probs []float32) *ImageResult {
	pred := heatmap.ArgMax(probs)
	ir := ImageResult{
		File: s.ImagePath, Name: s.Name, Width: s.Size.X, Height: s.Size.Y,
		PredClass: r.Classes[pred], Prob: float64(probs[pred]), Probs: map[string]float64{},
		trueIdx: s.Label, probs: probs,
	}
	for c, p := range probs {
		ir.Probs[r.Classes[c]] = float64(p)
	}
	r.Images++
	if s.Label >= 0 && s.Label < len(r.Classes) {
		ir.TrueClass = r.Classes[s.Label]
		correct := pred == s.Label
		loss := -math.Log(math.Max(float64(probs[s.Label]), 1e-7))
		ir.Correct, ir.Loss = &correct, &loss
		r.Labelled++
		r.Confusion[s.Label][pred]++
	}
	r.PerImage = append(r.PerImage, ir)
	return &r.PerImage[len(r.PerImage)-1]
}

// score adds every class that has GT boxes in the image to the localization suite (methods and baselines), each
// class's map against that class's boxes; the true class's scores also go to the image's own line.
func (r *Results) score(s neu.Sample, ir *ImageResult, names []string, full [][][]float32, size image.Point) error {
	if err := r.scoreMasks(s, names, full, size); err != nil {
		return err
	}
	r.detect(s, ir, names, full, size)
	for c := range r.Classes {
		boxes := boxesOf(s, c)
		if len(boxes) == 0 {
			continue
		}
		if err := r.suite.AddBaselines(c, size.X, size.Y, boxes); err != nil {
			return errors.WithMessagef(err, "%s: baselines", s.ImagePath)
		}
		for mi, name := range names {
			acc := r.suite.Accumulator(name)
			score, ok, err := acc.Add(c, full[mi][c], size.X, size.Y, boxes)
			if err != nil {
				return errors.WithMessagef(err, "%s: method %s", s.ImagePath, name)
			}
			if ok && c == s.Label {
				if ir.Metrics == nil {
					ir.Metrics = map[string]ImageMetrics{}
				}
				ir.Metrics[name] = ImageMetrics{EnergyInBox: score.EnergyInBox, EnergyGain: score.EnergyGain,
					PointingGame: score.Pointing, IoU: score.IoU}
			}
		}
	}
	return nil
}

// detect reads boxes from every method's class maps (on the scoring grid of the given size), lists them in the
// image's own pixels and, for annotated images, adds them with all GT boxes to the method's mAP.
func (r *Results) detect(s neu.Sample, ir *ImageResult, names []string, full [][][]float32, size image.Point) {
	own := image.Pt(ir.Width, ir.Height)
	var gt []metrics.GTBox
	for _, b := range s.Boxes {
		gt = append(gt, metrics.GTBox{Class: b.Class, Box: b.Rect})
	}
	for mi, name := range names {
		dets := metrics.Detect(full[mi], ir.probs, size.X, size.Y, metrics.DefaultDetectOptions())
		for _, d := range dets {
			b := metrics.ScaleRect(d.Box, size, own)
			ir.Boxes = append(ir.Boxes, DetectedBox{Method: name, Class: r.Classes[d.Class], Score: d.Score,
				XMin: b.Min.X, YMin: b.Min.Y, XMax: b.Max.X, YMax: b.Max.Y})
		}
		if s.AnnotationPath == "" {
			continue
		}
		if r.det[name] == nil {
			r.det[name] = metrics.NewDetectionEval(len(r.Classes))
		}
		r.det[name].Add(dets, gt)
	}
}

func (r *Results) finish(f *faithfulness, sanityRho map[string][]float64) {
	correct, perTotal := 0, make([]int, len(r.Classes))
	for t, row := range r.Confusion {
		for p, n := range row {
			perTotal[t] += n
			if t == p {
				correct += n
			}
		}
	}
	if r.Labelled > 0 {
		r.Accuracy = float64(correct) / float64(r.Labelled)
	}
	for c, name := range r.Classes {
		if perTotal[c] > 0 {
			r.PerClassAccuracy[name] = float64(r.Confusion[c][c]) / float64(perTotal[c])
		}
	}
	if r.Labelled > 0 {
		r.Localization = r.suite.Scores()
	}
	for name, d := range r.det {
		if r.Detection == nil {
			r.Detection = map[string]metrics.DetectionScores{}
		}
		r.Detection[name] = d.Summary(r.Classes)
	}
	if f.count > 0 {
		r.Faithfulness = f.means()
	}
	for name, rhos := range sanityRho {
		if r.Sanity == nil {
			r.Sanity = map[string]map[string]float64{}
		}
		r.Sanity[name] = map[string]float64{"spearman_randomized": mean(rhos), "images": float64(len(rhos))}
	}
}

// WriteTable prints the localization table (methods beside the baselines, per class).
func (r *Results) WriteTable(w io.Writer) error {
	if r.suite == nil || r.Labelled == 0 {
		return nil
	}
	return r.suite.WriteTable(w)
}

type faithfulness struct {
	names      []string
	count      int
	scores     map[string]map[string][]float64 // method -> metric key -> per-image values
	predictors map[*Model]heatmap.Predictor
}

// faithfulnessKeys are the per-image faithfulness scores, in the order of the JSON and the table.
var faithfulnessKeys = []string{"deletion_auc", "insertion_auc", "average_drop", "increase_in_confidence",
	"road_morf", "road_lerf", "sparseness"}

func newFaithfulness(names []string) *faithfulness {
	names = append(slices.Clone(names), faithfulnessBaselines...)
	f := &faithfulness{names: names, scores: map[string]map[string][]float64{}, predictors: map[*Model]heatmap.Predictor{}}
	for _, n := range names {
		f.scores[n] = map[string][]float64{}
	}
	return f
}

// add scores the images idx of a batch: each method's map of the true class, deletion and insertion curves packed
// into shared forward passes.
func (f *faithfulness) add(m *Model, pix [][]float32, allMaps [][][][]float32, samples []neu.Sample, idx []int, names []string) error {
	const batch = 64
	pred := f.predictors[m]
	if pred == nil {
		e, err := gradcam.NewExplainer(m.Backend, m.Store, m.Fn, gradcam.Options{Layers: m.Layers, BatchSize: batch})
		if err != nil {
			return err
		}
		pred = func(b [][]float32) ([][]float32, error) { return e.Predict(b, m.Size) }
		f.predictors[m] = pred
	}
	opts := metrics.CurveOptions{MaxBatch: batch}
	imgs := make([][]float32, len(idx))
	classes := make([]int, len(idx))
	for j, i := range idx {
		imgs[j], classes[j] = pix[i], samples[i].Label
	}
	for mi, name := range names {
		maps := make([][]float32, len(idx))
		for j, i := range idx {
			maps[j] = allMaps[mi][i][classes[j]]
		}
		if err := f.score(name, pred, imgs, maps, classes, m.Size, opts); err != nil {
			return errors.WithMessagef(err, "method %s", name)
		}
	}
	// Baselines: the chance level (a new noise map per image) and the centre bias.
	rng := rand.New(rand.NewPCG(uint64(f.count+1), 0xfa17))
	center := metrics.CenterGaussian(m.Size, m.Size, 0)
	for _, name := range faithfulnessBaselines {
		maps := make([][]float32, len(idx))
		for j := range maps {
			maps[j] = center
			if name == metrics.BaselineRandom {
				maps[j] = metrics.Random(m.Size, m.Size, rng)
			}
		}
		if err := f.score(name, pred, imgs, maps, classes, m.Size, opts); err != nil {
			return errors.WithMessagef(err, "baseline %s", name)
		}
	}
	f.count += len(idx)
	return nil
}

// faithfulnessBaselines are the maps scored beside the methods (a uniform map has no pixel order to test).
var faithfulnessBaselines = []string{metrics.BaselineCenterGaussian, metrics.BaselineRandom}

// score adds one method's faithfulness scores of the images: RISE deletion/insertion AUC, Average Drop and
// Increase in Confidence, ROAD MoRF/LeRF, and the map's sparseness.
func (f *faithfulness) score(name string, pred heatmap.Predictor, imgs, maps [][]float32, classes []int, size int, opts metrics.CurveOptions) error {
	del, err := metrics.DeletionBatch(pred, imgs, maps, classes, size, opts)
	if err != nil {
		return errors.WithMessage(err, "deletion")
	}
	ins, err := metrics.InsertionBatch(pred, imgs, maps, classes, size, opts)
	if err != nil {
		return errors.WithMessage(err, "insertion")
	}
	conf, err := metrics.ConfidenceBatch(pred, imgs, maps, classes)
	if err != nil {
		return errors.WithMessage(err, "confidence")
	}
	road, err := metrics.ROADBatch(pred, imgs, maps, classes, size, uint64(f.count+1))
	if err != nil {
		return errors.WithMessage(err, "ROAD")
	}
	s := f.scores[name]
	for j := range imgs {
		for key, v := range map[string]float64{"deletion_auc": del[j].AUC, "insertion_auc": ins[j].AUC,
			"average_drop": conf[j].Drop, "increase_in_confidence": conf[j].Increase, "road_morf": road[j].MoRF,
			"road_lerf": road[j].LeRF, "sparseness": metrics.Sparseness(maps[j])} {
			s[key] = append(s[key], v)
		}
	}
	return nil
}

func (f *faithfulness) means() map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, name := range f.names {
		out[name] = map[string]float64{"images": float64(f.count)}
		for _, key := range faithfulnessKeys {
			out[name][key] = mean(f.scores[name][key])
		}
	}
	return out
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// RandomizedModel returns a copy of m whose variables under scopes (e.g. "/resnet/layer4", "/resnet/head") are
// re-initialised: weights He-normal from a seeded RNG, batch-norm scale/variance 1, offsets/means/biases 0. The
// original model is untouched.
func RandomizedModel(m *Model, scopes []string, seed int64) (*Model, error) {
	if len(scopes) == 0 {
		return nil, errors.New("sanity check: no scopes to randomise")
	}
	store, err := m.Store.Clone()
	if err != nil {
		return nil, errors.WithMessage(err, "sanity check: cloning the model")
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5a417))
	changed := 0
	for v := range store.IterVariables() {
		inScope := false
		for _, s := range scopes {
			if v.Path() == s || strings.HasPrefix(v.Path(), strings.TrimSuffix(s, "/")+"/") {
				inScope = true
			}
		}
		if !inScope {
			continue
		}
		t, err := randomLike(v.Shape(), v.Name(), rng)
		if err != nil {
			return nil, errors.WithMessagef(err, "sanity check: variable %s", v.Path())
		}
		if err := v.SetValue(t); err != nil {
			return nil, errors.WithMessagef(err, "sanity check: variable %s", v.Path())
		}
		changed++
	}
	if changed == 0 {
		return nil, errors.Errorf("sanity check: no variable under %v", scopes)
	}
	rm := *m
	rm.Store = store
	return &rm, nil
}

func randomLike(s shapes.Shape, name string, rng *rand.Rand) (*tensors.Tensor, error) {
	n := s.Size()
	data := make([]float32, n)
	switch {
	case s.Rank() >= 2:
		fanIn := n / s.Dimensions[s.Rank()-1]
		std := math.Sqrt(2 / float64(max(fanIn, 1)))
		for i := range data {
			data[i] = float32(rng.NormFloat64() * std)
		}
	case name == "scale" || name == "variance":
		for i := range data {
			data[i] = 1
		}
	}
	if s.DType != dtypes.Float32 {
		return nil, fmt.Errorf("dtype %s not supported", s.DType)
	}
	return tensors.FromFlatDataAndDimensions(data, s.Dimensions...), nil
}
