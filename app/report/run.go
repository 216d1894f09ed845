package report

import (
	"image"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/pkg/errors"
	"golang.org/x/image/draw"

	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/gradcam/heatmap"
	"github.com/neucam/neucam/gradcam/metrics"
	"github.com/neucam/neucam/gradcam/render"
	"github.com/neucam/neucam/neu"
)

// Config is one explain/evaluate run over a dataset.
type Config struct {
	Model   *explain.Model
	Methods []explain.Method
	// BatchSize images are read, classified and explained at a time; memory stays bounded by it.
	BatchSize int
	// OutDir receives one PNG per image (images/NAME.png); "" writes no images (evaluate).
	OutDir string
	// AllClasses also writes images/NAME.classes.png: the first method's heatmap row and all-classes row.
	AllClasses bool
	Render     render.Options // used as given: start from render.DefaultOptions()
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
	// OtherClasses: the same for every other class with GT boxes in the image (NEU images often carry boxes of a
	// second class), so the per-class means of "localization" can be recomputed from per_image.
	OtherClasses []ClassMetrics `json:"other_classes,omitempty"`
	PNG          string         `json:"png,omitempty"`
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

// ClassMetrics are one class's per-method scores in one image.
type ClassMetrics struct {
	Class   string                  `json:"class"`
	Metrics map[string]ImageMetrics `json:"metrics"`
}

// Faithfulness is one method's mean deletion/insertion AUC (RISE) over Images images.
type Faithfulness struct {
	DeletionAUC          float64 `json:"deletion_auc"`           // RISE deletion AUC: lower is better
	InsertionAUC         float64 `json:"insertion_auc"`          // RISE insertion AUC: higher is better
	AverageDrop          float64 `json:"average_drop"`           // Grad-CAM++'s Average Drop: lower is better
	IncreaseInConfidence float64 `json:"increase_in_confidence"` // share of images gaining confidence: higher
	ROADMoRF             float64 `json:"road_morf"`              // ROAD, most relevant first: lower is better
	ROADLeRF             float64 `json:"road_lerf"`              // ROAD, least relevant first: higher is better
	Sparseness           float64 `json:"sparseness"`             // Gini index of the map
	Images               int     `json:"images"`
}

// Sanity is one method's mean Spearman correlation with the maps of the model with re-initialised top layers.
type Sanity struct {
	SpearmanRandomized float64 `json:"spearman_randomized"`
	Images             int     `json:"images"`
}

// ImageMetrics are the localization scores of one map (see gradcam/metrics).
type ImageMetrics struct {
	EnergyInBox  float64 `json:"energy_in_box"`
	EnergyGain   float64 `json:"energy_gain"`
	PointingGame float64 `json:"pointing_game"`
	IoU          float64 `json:"iou"`
	// Mask: the same map against the exact defect pixels, when the data has masks (e.g. neucam synth).
	Mask *metrics.MaskScore `json:"mask,omitempty"`
}

// Results is what a run measured; it is written as results.json (explain) or the evaluate JSON.
type Results struct {
	Images           int                       `json:"images"`
	Labelled         int                       `json:"labelled"`
	Accuracy         *float64                  `json:"accuracy"` // null without labelled images
	PerClassAccuracy map[string]float64        `json:"per_class_accuracy"`
	Confusion        [][]int                   `json:"confusion"`
	Classes          []string                  `json:"classes"`
	Methods          []string                  `json:"methods"`
	Localization     map[string]metrics.Scores `json:"localization,omitempty"`
	Faithfulness     map[string]Faithfulness   `json:"faithfulness,omitempty"`
	Sanity           map[string]Sanity         `json:"sanity,omitempty"`
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
	r, err := newRunner(cfg, ds)
	if err != nil {
		return nil, err
	}
	for lo := 0; lo < len(ds.Samples); lo += r.cfg.BatchSize {
		batch := ds.Samples[lo:min(lo+r.cfg.BatchSize, len(ds.Samples))]
		if err := r.runBatch(batch); err != nil {
			return nil, err
		}
		r.progress.add(len(batch))
	}
	r.progress.done()
	r.res.finish(r.faith, r.sanityRho)
	if cfg.OutDir != "" {
		r.res.relativePaths(cfg.OutDir)
	}
	r.res.Seconds = time.Since(start).Seconds()
	return r.res, nil
}

// runner is the state of one Run: the explainers (the model's and, for the sanity check, the randomised copy's),
// the accumulating results and the faithfulness/sanity samples taken so far.
type runner struct {
	cfg         Config
	ex, sanity  *explain.Explainer
	names       []string
	res         *Results
	faith       *faithfulness
	sanityRho   map[string][]float64
	sanityCount int
	progress    *progress
}

// newRunner checks the config, builds the explainers and the output folder, and starts the results.
func newRunner(cfg Config, ds *neu.Dataset) (*runner, error) {
	m := cfg.Model
	if m == nil || len(cfg.Methods) == 0 {
		return nil, errors.New("report.Run: a model and at least one method are required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 16
	}
	opts := explain.DefaultOptions()
	opts.Seed = cfg.Seed
	r := &runner{cfg: cfg, ex: explain.New(m, opts), names: make([]string, len(cfg.Methods)),
		faith: nil, sanityRho: map[string][]float64{}, progress: newProgress(cfg.Progress, len(ds.Samples))}
	for i, spec := range cfg.Methods {
		r.names[i] = spec.String()
	}
	if cfg.SanityImages > 0 {
		rm, err := explain.RandomizedModel(m, cfg.RandomizeScopes, cfg.Seed)
		if err != nil {
			return nil, err
		}
		r.sanity = explain.New(rm, opts)
	}
	if cfg.OutDir != "" {
		if err := os.MkdirAll(filepath.Join(cfg.OutDir, "images"), 0o755); err != nil {
			return nil, errors.Wrapf(err, "creating output folder %s", cfg.OutDir)
		}
	}
	r.faith = newFaithfulness(r.names, r.ex)
	r.res = newResults(m.Classes, r.names, ds.Skipped, cfg.Seed)
	return r, nil
}

func newResults(classes, names []string, skipped []neu.Skipped, seed int64) *Results {
	k := len(classes)
	res := &Results{
		Classes: classes, Methods: names, Skipped: append([]neu.Skipped{}, skipped...),
		Confusion: make([][]int, k), PerClassAccuracy: map[string]float64{},
		suite: metrics.NewSuite(classes, metrics.Options{}, uint64(seed)), det: map[string]*metrics.DetectionEval{},
	}
	for i := range res.Confusion {
		res.Confusion[i] = make([]int, k)
	}
	return res
}

// batch is one batch of readable images: the samples (Size set to the file's own size), the images on the
// scoring grid (at most MaxGridSide, boxes scaled with them) and the model's input pixels.
type batch struct {
	samples []neu.Sample
	grays   []*image.Gray
	pix     [][]float32
}

// readBatch reads the samples' images; unreadable ones go to Results.Skipped.
func (r *runner) readBatch(samples []neu.Sample) batch {
	var b batch
	for _, s := range samples {
		g, err := neu.ReadImage(s.ImagePath)
		if err != nil {
			r.res.Skipped = append(r.res.Skipped, neu.Skipped{Path: s.ImagePath, Reason: err.Error()})
			continue
		}
		b.pix = append(b.pix, sanitize(heatmap.Pixels(g, r.cfg.Model.Size)))
		s.Size = g.Bounds().Size() // the file's own size, reported in results.json
		g, s.Boxes = fitDisplay(g, s.Boxes)
		b.samples, b.grays = append(b.samples, s), append(b.grays, g)
	}
	return b
}

// runBatch explains one batch with every method, scores and renders each image, then adds the batch's share of
// the faithfulness and sanity images.
func (r *runner) runBatch(samples []neu.Sample) error {
	b := r.readBatch(samples)
	if len(b.samples) == 0 {
		return nil
	}
	allMaps := make([][][][]float32, len(r.cfg.Methods)) // [method][image][class][S*S]
	var probs [][]float32
	for mi, spec := range r.cfg.Methods {
		p, maps, err := r.ex.Maps(spec, b.pix)
		if err != nil {
			return err
		}
		if probs == nil {
			probs = p
		}
		allMaps[mi] = maps
	}
	for i := range b.samples {
		if err := r.scoreImage(b, i, probs[i], allMaps); err != nil {
			return err
		}
	}
	return r.faithfulnessAndSanity(b, allMaps)
}

// scoreImage records image i's prediction, scores its maps (upsampled to the image's grid) and renders its PNG.
func (r *runner) scoreImage(b batch, i int, probs []float32, allMaps [][][][]float32) error {
	s, g := b.samples[i], b.grays[i]
	ir := r.res.addImage(s, probs)
	size := g.Bounds().Size()
	// Maps at the image's own resolution so boxes are scored in their own pixel grid.
	full := make([][][]float32, len(allMaps))
	for mi := range allMaps {
		full[mi] = make([][]float32, len(r.res.Classes))
		for c := range full[mi] {
			full[mi][c] = toImageGrid(allMaps[mi][i][c], r.cfg.Model.Size, size)
		}
	}
	if err := r.res.score(s, ir, r.names, full, size); err != nil {
		return err
	}
	if r.cfg.OutDir == "" {
		return nil
	}
	return writeImagePNG(r.cfg, ir, g, s, full, r.names)
}

// faithfulnessAndSanity scores the batch's first labelled images (up to the configured counts): deletion and
// insertion curves, and the Spearman correlation with the randomised model's maps, one batched call per method.
func (r *runner) faithfulnessAndSanity(b batch, allMaps [][][][]float32) error {
	var fIdx, sIdx []int
	for i, s := range b.samples {
		if s.Label < 0 || len(boxesOf(s, s.Label)) == 0 {
			continue
		}
		if r.faith.count+len(fIdx) < r.cfg.FaithfulnessImages {
			fIdx = append(fIdx, i)
		}
		if r.sanityCount+len(sIdx) < r.cfg.SanityImages {
			sIdx = append(sIdx, i)
		}
	}
	if len(fIdx) > 0 {
		if err := r.faith.add(r.cfg.Model.Size, b.pix, allMaps, b.samples, fIdx); err != nil {
			return err
		}
	}
	if len(sIdx) == 0 {
		return nil
	}
	sub := make([][]float32, len(sIdx))
	for j, i := range sIdx {
		sub[j] = b.pix[i]
	}
	for mi, spec := range r.cfg.Methods {
		if spec.Name == explain.LIME {
			continue // model-agnostic cost is 1,000 forwards per image: sanity is reported for CAM methods
		}
		_, rmaps, err := r.sanity.Maps(spec, sub)
		if err != nil {
			return errors.WithMessage(err, "sanity check")
		}
		for j, i := range sIdx {
			c := b.samples[i].Label
			r.sanityRho[r.names[mi]] = append(r.sanityRho[r.names[mi]], metrics.SpearmanRank(allMaps[mi][i][c], rmaps[j][c]))
		}
	}
	r.sanityCount += len(sIdx)
	return nil
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

func (r *Results) addImage(s neu.Sample, probs []float32) *ImageResult {
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
			if ok {
				ir.addMetrics(r.Classes[c], c == s.Label, name, ImageMetrics{EnergyInBox: score.EnergyInBox,
					EnergyGain: score.EnergyGain, PointingGame: score.Pointing, IoU: score.IoU})
			}
		}
	}
	return r.scoreMasks(s, ir, names, full, size)
}

// addMetrics records one method's scores of one class's map: in Metrics for the true class, else in OtherClasses.
func (ir *ImageResult) addMetrics(class string, isTrue bool, method string, m ImageMetrics) {
	if isTrue {
		if ir.Metrics == nil {
			ir.Metrics = map[string]ImageMetrics{}
		}
		ir.Metrics[method] = m
		return
	}
	for i := range ir.OtherClasses {
		if ir.OtherClasses[i].Class == class {
			ir.OtherClasses[i].Metrics[method] = m
			return
		}
	}
	ir.OtherClasses = append(ir.OtherClasses, ClassMetrics{Class: class, Metrics: map[string]ImageMetrics{method: m}})
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
		acc := float64(correct) / float64(r.Labelled)
		r.Accuracy = &acc
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
			r.Sanity = map[string]Sanity{}
		}
		r.Sanity[name] = Sanity{SpearmanRandomized: mean(rhos), Images: len(rhos)}
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
	names  []string
	count  int
	scores map[string][]Faithfulness // method or baseline -> per-image scores
	pred   heatmap.Predictor
}

// faithfulnessBaselines are the maps scored beside the methods (a uniform map has no pixel order to test).
var faithfulnessBaselines = []string{metrics.BaselineCenterGaussian, metrics.BaselineRandom}

func newFaithfulness(names []string, ex *explain.Explainer) *faithfulness {
	return &faithfulness{names: append(slices.Clone(names), faithfulnessBaselines...),
		scores: map[string][]Faithfulness{}, pred: ex.Predictor()}
}

// add scores the images idx of a batch: each method's map of the true class, then the baselines (the centre bias
// and a new noise map per image).
func (f *faithfulness) add(size int, pix [][]float32, allMaps [][][][]float32, samples []neu.Sample, idx []int) error {
	imgs := make([][]float32, len(idx))
	classes := make([]int, len(idx))
	for j, i := range idx {
		imgs[j], classes[j] = pix[i], samples[i].Label
	}
	for mi := range allMaps {
		maps := make([][]float32, len(idx))
		for j, i := range idx {
			maps[j] = allMaps[mi][i][classes[j]]
		}
		if err := f.score(f.names[mi], imgs, maps, classes, size); err != nil {
			return errors.WithMessagef(err, "method %s", f.names[mi])
		}
	}
	rng := rand.New(rand.NewPCG(uint64(f.count+1), 0xfa17))
	center := metrics.CenterGaussian(size, size, 0)
	for _, name := range faithfulnessBaselines {
		maps := make([][]float32, len(idx))
		for j := range maps {
			maps[j] = center
			if name == metrics.BaselineRandom {
				maps[j] = metrics.Random(size, size, rng)
			}
		}
		if err := f.score(name, imgs, maps, classes, size); err != nil {
			return errors.WithMessagef(err, "baseline %s", name)
		}
	}
	f.count += len(idx)
	return nil
}

// score adds one map set's faithfulness scores: RISE deletion/insertion AUC (curves packed into shared forward
// passes), Average Drop and Increase in Confidence, ROAD MoRF/LeRF, and the map's sparseness.
func (f *faithfulness) score(name string, imgs, maps [][]float32, classes []int, size int) error {
	opts := metrics.CurveOptions{MaxBatch: 64}
	del, err := metrics.DeletionBatch(f.pred, imgs, maps, classes, size, opts)
	if err != nil {
		return errors.WithMessage(err, "deletion")
	}
	ins, err := metrics.InsertionBatch(f.pred, imgs, maps, classes, size, opts)
	if err != nil {
		return errors.WithMessage(err, "insertion")
	}
	conf, err := metrics.ConfidenceBatch(f.pred, imgs, maps, classes)
	if err != nil {
		return errors.WithMessage(err, "confidence")
	}
	road, err := metrics.ROADBatch(f.pred, imgs, maps, classes, size, uint64(f.count+1))
	if err != nil {
		return errors.WithMessage(err, "ROAD")
	}
	for j := range imgs {
		f.scores[name] = append(f.scores[name], Faithfulness{DeletionAUC: del[j].AUC, InsertionAUC: ins[j].AUC,
			AverageDrop: conf[j].Drop, IncreaseInConfidence: conf[j].Increase, ROADMoRF: road[j].MoRF,
			ROADLeRF: road[j].LeRF, Sparseness: metrics.Sparseness(maps[j]), Images: 1})
	}
	return nil
}

// means averages each method's per-image scores.
func (f *faithfulness) means() map[string]Faithfulness {
	out := map[string]Faithfulness{}
	for _, name := range f.names {
		var m Faithfulness
		for _, s := range f.scores[name] {
			m.DeletionAUC += s.DeletionAUC
			m.InsertionAUC += s.InsertionAUC
			m.AverageDrop += s.AverageDrop
			m.IncreaseInConfidence += s.IncreaseInConfidence
			m.ROADMoRF += s.ROADMoRF
			m.ROADLeRF += s.ROADLeRF
			m.Sparseness += s.Sparseness
			m.Images += s.Images
		}
		if n := float64(m.Images); n > 0 {
			m.DeletionAUC, m.InsertionAUC, m.AverageDrop = m.DeletionAUC/n, m.InsertionAUC/n, m.AverageDrop/n
			m.IncreaseInConfidence, m.ROADMoRF, m.ROADLeRF = m.IncreaseInConfidence/n, m.ROADMoRF/n, m.ROADLeRF/n
			m.Sparseness /= n
		}
		out[name] = m
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

// relativePaths rewrites the image and skipped-file paths relative to the report folder, so the report can be
// moved together with the data.
func (r *Results) relativePaths(outDir string) {
	rel := func(p string) string {
		a, err1 := filepath.Abs(p)
		o, err2 := filepath.Abs(outDir)
		if err1 != nil || err2 != nil {
			return p
		}
		if q, err := filepath.Rel(o, a); err == nil {
			return filepath.ToSlash(q)
		}
		return p
	}
	for i := range r.PerImage {
		r.PerImage[i].File = rel(r.PerImage[i].File)
	}
	for i := range r.Skipped {
		r.Skipped[i].Path = rel(r.Skipped[i].Path)
	}
}

// Predictions are every image's name, class (-1 unknown) and probabilities, in run order (for
// resnet.NewEvaluation: the run classified each image once).
func (r *Results) Predictions() (names []string, labels []int, probs [][]float32) {
	for _, ir := range r.PerImage {
		names, labels, probs = append(names, ir.Name), append(labels, ir.trueIdx), append(probs, ir.probs)
	}
	return names, labels, probs
}
