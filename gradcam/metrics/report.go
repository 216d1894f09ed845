package metrics

import (
	"fmt"
	"image"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
)

// Metric names (keys of Scores) and the key of the over-all value.
const (
	MetricEnergyInBox  = "energy_in_box"  // EnergyInBoxes
	MetricEnergyGain   = "energy_gain"    // EnergyGain(energy, BoxFraction)
	MetricPointingGame = "pointing_game"  // PointingGame hit rate
	MetricMaxBoxAcc    = "max_box_acc"    // MaxBoxAcc.Value (v1)
	MetricMaxBoxAccV2  = "max_box_acc_v2" // MaxBoxAcc.ValueV2
	MetricIoU          = "iou"            // LocalizationIoU at Options.IoUThreshold
	MetricMaskIoU      = "mask_iou"       // MaskIoU at Options.IoUThreshold
	Mean               = "mean"
)

// LocalizationMetrics lists the metrics Accumulator.Add computes, in table order.
var LocalizationMetrics = []string{MetricEnergyInBox, MetricEnergyGain, MetricPointingGame, MetricMaxBoxAcc,
	MetricMaxBoxAccV2, MetricIoU, MetricMaskIoU}

// DefaultIoUThreshold is the map threshold (fraction of max) for MetricIoU and MetricMaskIoU.
const DefaultIoUThreshold = 0.5

// Options configures the localization metrics of an Accumulator.
type Options struct {
	Tolerance    float64       // pointing-game tolerance in pixels; 0 -> PointingTolerance(w)
	IoUThreshold float64       // 0 -> DefaultIoUThreshold
	BoxAcc       BoxAccOptions // MaxBoxAcc thresholds and deltas
}

// Scores is the JSON-ready result of one method: Scores[metric][class name or Mean].
type Scores map[string]map[string]float64

// ImageScore holds the per-image localization values of one map.
type ImageScore struct {
	Class       int     `json:"class"`
	BoxFraction float64 `json:"box_fraction"` // u: the uniform map's energy
	EnergyInBox float64 `json:"energy_in_box"`
	EnergyGain  float64 `json:"energy_gain"`
	Pointing    float64 `json:"pointing"` // PointingScore: 0 or 1 unless the map has tied maxima
	IoU         float64 `json:"iou"`
	MaskIoU     float64 `json:"mask_iou"`
}

// Accumulator collects the per-image, per-class values of one named method (a CAM method or a baseline) and
// turns them into Scores. Per-class values are means over that class's images; Mean is the mean over all
// images added (NEU is class-balanced, so it is close to the mean of the class means). For MaxBoxAcc the
// per-class value picks the best threshold on that class's images and Mean picks one threshold for all images,
// as in Choe et al.
type Accumulator struct {
	Method  string
	Classes []string
	Images  []ImageScore // one per image with boxes, in Add order
	Skipped int          // images ignored by Add because they had no GT box inside the map

	opts   Options
	boxAcc *ClassMaxBoxAcc
	sums   map[string][]float64 // metric -> per-class sum
	counts map[string][]int
}

// NewAccumulator returns an empty accumulator for method over the given class names.
func NewAccumulator(method string, classes []string, opts Options) *Accumulator {
	if opts.IoUThreshold <= 0 {
		opts.IoUThreshold = DefaultIoUThreshold
	}
	return &Accumulator{
		Method: method, Classes: append([]string(nil), classes...), opts: opts,
		boxAcc: NewClassMaxBoxAcc(len(classes), opts.BoxAcc),
		sums:   map[string][]float64{}, counts: map[string][]int{},
	}
}

// BoxAcc exposes the MaxBoxAcc accumulators (curves, best thresholds).
func (a *Accumulator) BoxAcc() *ClassMaxBoxAcc { return a.boxAcc }

// Add scores the map m (w x h) explaining class cls against the GT boxes of that class. An image without a
// box inside the map has no localization score: it is counted in Skipped and ok is false.
func (a *Accumulator) Add(cls int, m []float32, w, h int, gt []image.Rectangle) (s ImageScore, ok bool, err error) {
	if err := validMap(m, w, h); err != nil {
		return s, false, fmt.Errorf("%w (method %q)", err, a.Method)
	}
	if cls < 0 || cls >= len(a.Classes) {
		return s, false, fmt.Errorf("metrics: method %q: class %d out of range [0,%d)", a.Method, cls, len(a.Classes))
	}
	gt = clipBoxes(gt, w, h)
	if len(gt) == 0 {
		a.Skipped++
		return s, false, nil
	}
	tol := a.opts.Tolerance
	if tol <= 0 {
		tol = PointingTolerance(w)
	}
	s = ImageScore{Class: cls, BoxFraction: BoxFraction(w, h, gt), EnergyInBox: EnergyInBoxes(m, w, h, gt),
		Pointing: PointingScore(m, w, h, gt, tol), IoU: LocalizationIoU(m, w, h, gt, a.opts.IoUThreshold),
		MaskIoU: MaskIoU(m, w, h, gt, a.opts.IoUThreshold)}
	s.EnergyGain = EnergyGain(s.EnergyInBox, s.BoxFraction)
	if err := a.boxAcc.Add(cls, m, w, h, gt); err != nil {
		return s, false, err
	}
	a.Images = append(a.Images, s)
	a.add(MetricEnergyInBox, cls, s.EnergyInBox)
	a.add(MetricEnergyGain, cls, s.EnergyGain)
	a.add(MetricPointingGame, cls, s.Pointing)
	a.add(MetricIoU, cls, s.IoU)
	a.add(MetricMaskIoU, cls, s.MaskIoU)
	return s, true, nil
}

func (a *Accumulator) add(metric string, cls int, v float64) {
	if a.sums[metric] == nil {
		a.sums[metric] = make([]float64, len(a.Classes))
		a.counts[metric] = make([]int, len(a.Classes))
	}
	a.sums[metric][cls] += v
	a.counts[metric][cls]++
}

// AddScore records one per-image value of another metric (e.g. "deletion_auc", "insertion_auc",
// "sanity_spearman"); it is averaged like the localization metrics. NaN/Inf values are rejected.
func (a *Accumulator) AddScore(metric string, cls int, v float64) error {
	if cls < 0 || cls >= len(a.Classes) {
		return fmt.Errorf("metrics: method %q: class %d out of range [0,%d)", a.Method, cls, len(a.Classes))
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("metrics: method %q: %s = %v for class %q", a.Method, metric, v, a.Classes[cls])
	}
	if metric == MetricMaxBoxAcc || metric == MetricMaxBoxAccV2 {
		return fmt.Errorf("metrics: %s is a dataset-level metric; feed maps through Add", metric)
	}
	a.add(metric, cls, v)
	return nil
}

// Scores returns per-class and Mean values of every metric seen. Classes without images are left out.
func (a *Accumulator) Scores() Scores {
	out := Scores{}
	for metric, sums := range a.sums {
		row := map[string]float64{}
		var s float64
		n := 0
		for c, v := range sums {
			if k := a.counts[metric][c]; k > 0 {
				row[a.Classes[c]] = v / float64(k)
				s += v
				n += k
			}
		}
		if n > 0 {
			row[Mean] = s / float64(n)
		}
		out[metric] = row
	}
	if a.boxAcc.All.Count() > 0 {
		v1, v2 := map[string]float64{}, map[string]float64{}
		for c, acc := range a.boxAcc.Classes {
			if acc.Count() > 0 {
				v1[a.Classes[c]], v2[a.Classes[c]] = acc.Value(), acc.ValueV2()
			}
		}
		v1[Mean], v2[Mean] = a.boxAcc.All.Value(), a.boxAcc.All.ValueV2()
		out[MetricMaxBoxAcc], out[MetricMaxBoxAccV2] = v1, v2
	}
	return out
}

// Suite holds one Accumulator per method, including the baselines, with the same options and classes.
type Suite struct {
	Classes []string
	Methods []string // in order of first use

	opts  Options
	sigma float64
	rng   *rand.Rand
	acc   map[string]*Accumulator
	cache map[[3]int][]float32 // baseline maps by (kind, w, h)
}

// NewSuite returns an empty suite; seed drives the Random baseline so runs are reproducible.
func NewSuite(classes []string, opts Options, seed uint64) *Suite {
	return &Suite{Classes: append([]string(nil), classes...), opts: opts, sigma: DefaultGaussianSigma,
		rng: rand.New(rand.NewPCG(seed, 0x6e6575)), acc: map[string]*Accumulator{}, cache: map[[3]int][]float32{}}
}

// Accumulator returns the accumulator of method, creating it on first use.
func (s *Suite) Accumulator(method string) *Accumulator {
	a, ok := s.acc[method]
	if !ok {
		a = NewAccumulator(method, s.Classes, s.opts)
		s.acc[method] = a
		s.Methods = append(s.Methods, method)
	}
	return a
}

// Add scores one map of method; see Accumulator.Add.
func (s *Suite) Add(method string, cls int, m []float32, w, h int, gt []image.Rectangle) error {
	_, _, err := s.Accumulator(method).Add(cls, m, w, h, gt)
	return err
}

// AddBaselines scores the Uniform, CenterGaussian and (a fresh) Random map for one image.
func (s *Suite) AddBaselines(cls int, w, h int, gt []image.Rectangle) error {
	get := func(kind int, mk func() []float32) []float32 {
		key := [3]int{kind, w, h}
		if m, ok := s.cache[key]; ok {
			return m
		}
		m := mk()
		s.cache[key] = m
		return m
	}
	if err := s.Add(BaselineUniform, cls, get(0, func() []float32 { return Uniform(w, h) }), w, h, gt); err != nil {
		return err
	}
	g := get(1, func() []float32 { return CenterGaussian(w, h, s.sigma) })
	if err := s.Add(BaselineCenterGaussian, cls, g, w, h, gt); err != nil {
		return err
	}
	return s.Add(BaselineRandom, cls, Random(w, h, s.rng), w, h, gt)
}

// Scores returns the Scores of every method.
func (s *Suite) Scores() map[string]Scores {
	out := make(map[string]Scores, len(s.acc))
	for name, a := range s.acc {
		out[name] = a.Scores()
	}
	return out
}

// WriteTable writes the suite's scores with WriteTable.
func (s *Suite) WriteTable(w io.Writer) error { return WriteTable(w, s.Scores(), s.Methods, s.Classes) }

// IsBaseline reports whether method is one of the baseline names.
func IsBaseline(method string) bool {
	return method == BaselineUniform || method == BaselineCenterGaussian || method == BaselineRandom
}

// WriteTable prints one aligned text block per metric: a row per class plus Mean, a column per method (in the
// given order; baselines included) and, when the uniform baseline is present, a "<method>-uniform" column per
// non-baseline method with its lift (difference) over the uniform map. Missing values print as "-". Metrics
// appear in LocalizationMetrics order, then any others alphabetically.
func WriteTable(w io.Writer, scores map[string]Scores, methods []string, classes []string) error {
	seen := map[string]bool{}
	for _, m := range methods {
		for metric := range scores[m] {
			seen[metric] = true
		}
	}
	var metrics []string
	for _, m := range LocalizationMetrics {
		if seen[m] {
			metrics = append(metrics, m)
			delete(seen, m)
		}
	}
	var extra []string
	for m := range seen {
		extra = append(extra, m)
	}
	sort.Strings(extra)
	metrics = append(metrics, extra...)

	_, hasUniform := scores[BaselineUniform]
	hasUniform = hasUniform && slices.Contains(methods, BaselineUniform)
	var lifts []string
	if hasUniform {
		for _, m := range methods {
			if !IsBaseline(m) {
				lifts = append(lifts, m)
			}
		}
	}
	rows := append(append([]string(nil), classes...), Mean)
	nameW := len("class")
	for _, r := range rows {
		nameW = max(nameW, len(r))
	}
	headers := append([]string(nil), methods...)
	for _, m := range lifts {
		headers = append(headers, m+"-uniform")
	}
	colW := make([]int, len(headers))
	for i, hd := range headers {
		colW[i] = max(len(hd), 7)
	}
	var b strings.Builder
	for bi, metric := range metrics {
		if bi > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(metric + "\n")
		fmt.Fprintf(&b, "%-*s", nameW, "class")
		for i, hd := range headers {
			fmt.Fprintf(&b, "  %*s", colW[i], hd)
		}
		b.WriteByte('\n')
		for _, r := range rows {
			fmt.Fprintf(&b, "%-*s", nameW, r)
			col := 0
			cell := func(v float64, ok bool, sign bool) {
				switch {
				case !ok:
					fmt.Fprintf(&b, "  %*s", colW[col], "-")
				case sign:
					fmt.Fprintf(&b, "  %+*.3f", colW[col], v)
				default:
					fmt.Fprintf(&b, "  %*.3f", colW[col], v)
				}
				col++
			}
			for _, m := range methods {
				v, ok := scores[m][metric][r]
				cell(v, ok, false)
			}
			for _, m := range lifts {
				v, ok := scores[m][metric][r]
				u, uok := scores[BaselineUniform][metric][r]
				cell(v-u, ok && uok, true)
			}
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
