package metrics

import (
	"fmt"
	"image"
	"sort"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// BoxAccOptions configures MaxBoxAcc. Zero values take the defaults of Choe et al. (CVPR 2020).
type BoxAccOptions struct {
	// Thresholds on the map relative to its max (pixels > t*max are foreground). Default 0, 0.01, ..., 0.99
	// (wsolevaluation's cam_curve_interval 0.01; t = 1 would keep no pixel under the strict rule).
	Thresholds []float64
	// Delta is the IoU needed for a hit in MaxBoxAcc v1. Default 0.5.
	Delta float64
	// DeltasV2 are the IoU thresholds averaged by MaxBoxAccV2. Default {0.3, 0.5, 0.7}.
	DeltasV2 []float64
}

func (o BoxAccOptions) withDefaults() BoxAccOptions {
	if len(o.Thresholds) == 0 {
		o.Thresholds = make([]float64, 100)
		for i := range o.Thresholds {
			o.Thresholds[i] = float64(i) / 100
		}
	} else {
		o.Thresholds = append([]float64(nil), o.Thresholds...)
		sort.Float64s(o.Thresholds)
	}
	if o.Delta <= 0 {
		o.Delta = 0.5
	}
	if len(o.DeltasV2) == 0 {
		o.DeltasV2 = []float64{0.3, 0.5, 0.7}
	} else {
		o.DeltasV2 = append([]float64(nil), o.DeltasV2...)
	}
	return o
}

// MaxBoxAcc accumulates the box accuracy of a dataset at every threshold (Choe et al., "Evaluating Weakly
// Supervised Object Localization Methods Right", CVPR 2020):
//
//   - v1: the image's estimated box is the bounding box of the largest connected component of the
//     thresholded map; a hit is IoU >= Delta (0.5) with any GT box. MaxBoxAcc = max over thresholds of the
//     fraction of images hit.
//   - v2: every component's box is an estimate; a hit is any estimate matching any GT box at IoU >= delta.
//     MaxBoxAccV2 = mean over delta in DeltasV2 of the per-delta max over thresholds.
//
// The max over thresholds is taken on the whole dataset (one threshold for all images), so it needs an
// accumulator: call Add once per image, then Value / ValueV2. Images without GT boxes are ignored.
// Components are 8-connected; holes do not add boxes (wsolevaluation's RETR_TREE would add hole contours).
type MaxBoxAcc struct {
	opts   BoxAccOptions
	n      int
	hits   []int   // v1 hits per threshold
	hitsV2 [][]int // [delta][threshold]
}

// NewMaxBoxAcc returns an empty accumulator.
func NewMaxBoxAcc(opts BoxAccOptions) *MaxBoxAcc {
	opts = opts.withDefaults()
	a := &MaxBoxAcc{opts: opts, hits: make([]int, len(opts.Thresholds)), hitsV2: make([][]int, len(opts.DeltasV2))}
	for i := range a.hitsV2 {
		a.hitsV2[i] = make([]int, len(opts.Thresholds))
	}
	return a
}

// Options returns the options in use (defaults filled in).
func (a *MaxBoxAcc) Options() BoxAccOptions { return a.opts }

// Count is the number of images added (with at least one GT box).
func (a *MaxBoxAcc) Count() int { return a.n }

// Add scores one map against the GT boxes of the explained class. An image without GT boxes inside the map
// is ignored (returns nil); a map of the wrong size is an error.
func (a *MaxBoxAcc) Add(m []float32, w, h int, gt []image.Rectangle) error {
	if err := validMap(m, w, h); err != nil {
		return err
	}
	gt = clipBoxes(gt, w, h)
	if len(gt) == 0 {
		return nil
	}
	a.n++
	best1, bestAll := boxIoUsPerThreshold(m, w, h, gt, a.opts.Thresholds)
	for ti := range a.opts.Thresholds {
		if best1[ti] >= a.opts.Delta {
			a.hits[ti]++
		}
		for di, d := range a.opts.DeltasV2 {
			if bestAll[ti] >= d {
				a.hitsV2[di][ti]++
			}
		}
	}
	return nil
}

// Merge adds the counts of b (same options) into a.
func (a *MaxBoxAcc) Merge(b *MaxBoxAcc) error {
	if len(a.hits) != len(b.hits) || len(a.hitsV2) != len(b.hitsV2) || a.opts.Delta != b.opts.Delta {
		return fmt.Errorf("metrics: MaxBoxAcc.Merge: accumulators have different options")
	}
	for i, t := range a.opts.Thresholds {
		if b.opts.Thresholds[i] != t {
			return fmt.Errorf("metrics: MaxBoxAcc.Merge: accumulators have different thresholds")
		}
	}
	a.n += b.n
	for i := range a.hits {
		a.hits[i] += b.hits[i]
	}
	for d := range a.hitsV2 {
		for i := range a.hitsV2[d] {
			a.hitsV2[d][i] += b.hitsV2[d][i]
		}
	}
	return nil
}

func (a *MaxBoxAcc) curve(hits []int) []float64 {
	out := make([]float64, len(hits))
	if a.n == 0 {
		return out
	}
	for i, h := range hits {
		out[i] = float64(h) / float64(a.n)
	}
	return out
}

// Curve is the v1 box accuracy at each threshold of Options().Thresholds.
func (a *MaxBoxAcc) Curve() []float64 { return a.curve(a.hits) }

// CurveV2 is the all-components box accuracy at each threshold for IoU threshold Options().DeltasV2[di].
func (a *MaxBoxAcc) CurveV2(di int) []float64 { return a.curve(a.hitsV2[di]) }

func argmaxCurve(c []float64) int {
	bi := 0
	for i, v := range c {
		if v > c[bi] {
			bi = i
		}
	}
	return bi
}

// Value is MaxBoxAcc (v1): the best dataset box accuracy over thresholds; 0 for an empty accumulator.
func (a *MaxBoxAcc) Value() float64 {
	c := a.Curve()
	if len(c) == 0 {
		return 0
	}
	return c[argmaxCurve(c)]
}

// BestThreshold is the (first) threshold reaching Value.
func (a *MaxBoxAcc) BestThreshold() float64 { return a.opts.Thresholds[argmaxCurve(a.Curve())] }

// ValueV2 is MaxBoxAccV2: the mean over DeltasV2 of the best all-components box accuracy over thresholds.
func (a *MaxBoxAcc) ValueV2() float64 {
	if len(a.hitsV2) == 0 {
		return 0
	}
	var s float64
	for di := range a.hitsV2 {
		c := a.CurveV2(di)
		s += c[argmaxCurve(c)]
	}
	return s / float64(len(a.hitsV2))
}

// ClassMaxBoxAcc keeps one MaxBoxAcc per class plus one over all images.
type ClassMaxBoxAcc struct {
	All     *MaxBoxAcc
	Classes []*MaxBoxAcc
}

// NewClassMaxBoxAcc returns accumulators for nClasses classes.
func NewClassMaxBoxAcc(nClasses int, opts BoxAccOptions) *ClassMaxBoxAcc {
	c := &ClassMaxBoxAcc{All: NewMaxBoxAcc(opts), Classes: make([]*MaxBoxAcc, nClasses)}
	for i := range c.Classes {
		c.Classes[i] = NewMaxBoxAcc(opts)
	}
	return c
}

// Add scores one image of class cls into its class and into All.
func (c *ClassMaxBoxAcc) Add(cls int, m []float32, w, h int, gt []image.Rectangle) error {
	if cls < 0 || cls >= len(c.Classes) {
		return fmt.Errorf("metrics: ClassMaxBoxAcc.Add: class %d out of range [0,%d)", cls, len(c.Classes))
	}
	if err := c.Classes[cls].Add(m, w, h, gt); err != nil {
		return err
	}
	return c.All.Add(m, w, h, gt)
}

// boxIoUsPerThreshold returns, for every threshold, the best IoU of the largest component's box with any GT
// box (v1) and the best IoU of any component's box with any GT box (v2). Thresholds are nested (a higher
// threshold keeps a subset of pixels), so instead of labelling the map once per threshold it sweeps the
// thresholds from high to low, switching pixels on in decreasing value order and merging 8-neighbours with a
// union-find that carries each component's bounding box, size and first pixel. The result equals running
// Components at every threshold (tested).
func boxIoUsPerThreshold(m []float32, w, h int, gt []image.Rectangle, thresholds []float64) (best1, bestAll []float64) {
	best1 = make([]float64, len(thresholds))
	bestAll = make([]float64, len(thresholds))
	mx := mapMax(m)
	if mx <= 0 {
		return best1, bestAll
	}
	bucket, order := pixelsByThreshold(m, thresholds, mx)
	s := newSweep(w, h)
	p := 0
	for ti := len(thresholds) - 1; ti >= 0; ti-- {
		for ; p < len(order) && bucket[order[p]] >= int32(ti); p++ {
			s.add(order[p])
		}
		best1[ti], bestAll[ti] = s.bestIoUs(gt)
	}
	return best1, bestAll
}

// pixelsByThreshold buckets the pixels by the highest threshold index at which they are foreground (-1: never)
// and lists the foreground pixels from the highest bucket down (a counting sort: the order inside a bucket is
// irrelevant since components at a threshold do not depend on it).
func pixelsByThreshold(m []float32, thresholds []float64, mx float64) (bucket, order []int32) {
	levels := make([]float64, len(thresholds))
	for ti, t := range thresholds {
		levels[ti] = heatmap.ThresholdLevel(t, mx)
	}
	bucket = make([]int32, len(m))
	start := make([]int32, len(thresholds)+1)
	for i, v := range m {
		f := value(v)
		// levels is nondecreasing: count the levels below f.
		k := sort.Search(len(levels), func(j int) bool { return levels[j] >= f })
		bucket[i] = int32(k - 1)
		if k > 0 {
			start[k-1]++
		}
	}
	var acc int32
	for ti := len(thresholds) - 1; ti >= 0; ti-- {
		c := start[ti]
		start[ti] = acc
		acc += c
	}
	order = make([]int32, acc)
	for i, b := range bucket {
		if b >= 0 {
			order[start[b]] = int32(i)
			start[b]++
		}
	}
	return bucket, order
}

// sweep is a union-find over the pixels switched on so far; each root carries its component's bounding box,
// size and first pixel, and roots lists the current components.
type sweep struct {
	w, h                int
	parent, size, first []int32
	x0, y0, x1, y1      []int32
	rootPos             []int32 // position in roots, -1 when not a root
	active              []bool
	roots               []int32
}

func newSweep(w, h int) *sweep {
	n := w * h
	return &sweep{w: w, h: h, parent: make([]int32, n), size: make([]int32, n), first: make([]int32, n),
		x0: make([]int32, n), y0: make([]int32, n), x1: make([]int32, n), y1: make([]int32, n),
		rootPos: make([]int32, n), active: make([]bool, n)}
}

func (s *sweep) find(i int32) int32 {
	for s.parent[i] != i {
		s.parent[i] = s.parent[s.parent[i]]
		i = s.parent[i]
	}
	return i
}

func (s *sweep) union(a, b int32) {
	ra, rb := s.find(a), s.find(b)
	if ra == rb {
		return
	}
	if s.size[ra] < s.size[rb] {
		ra, rb = rb, ra
	}
	s.parent[rb] = ra
	s.size[ra] += s.size[rb]
	s.first[ra] = min(s.first[ra], s.first[rb])
	s.x0[ra], s.y0[ra] = min(s.x0[ra], s.x0[rb]), min(s.y0[ra], s.y0[rb])
	s.x1[ra], s.y1[ra] = max(s.x1[ra], s.x1[rb]), max(s.y1[ra], s.y1[rb])
	// Swap-delete rb from roots.
	p := s.rootPos[rb]
	last := s.roots[len(s.roots)-1]
	s.roots[p] = last
	s.rootPos[last] = p
	s.roots = s.roots[:len(s.roots)-1]
	s.rootPos[rb] = -1
}

// add switches pixel i on and merges it with its active 8-neighbours.
func (s *sweep) add(i int32) {
	x, y := int32(int(i)%s.w), int32(int(i)/s.w)
	s.active[i], s.parent[i], s.size[i], s.first[i] = true, i, 1, i
	s.x0[i], s.y0[i], s.x1[i], s.y1[i] = x, y, x+1, y+1
	s.rootPos[i] = int32(len(s.roots))
	s.roots = append(s.roots, i)
	for dy := int32(-1); dy <= 1; dy++ {
		for dx := int32(-1); dx <= 1; dx++ {
			nx, ny := x+dx, y+dy
			if (dx == 0 && dy == 0) || nx < 0 || ny < 0 || int(nx) >= s.w || int(ny) >= s.h {
				continue
			}
			if j := ny*int32(s.w) + nx; s.active[j] {
				s.union(i, j)
			}
		}
	}
}

// bestIoUs returns the best IoU with any GT box of the largest component's box (v1) and of any component's box (v2).
func (s *sweep) bestIoUs(gt []image.Rectangle) (best1, bestAll float64) {
	if len(s.roots) == 0 {
		return 0, 0
	}
	largest := s.roots[0]
	for _, r := range s.roots {
		box := image.Rect(int(s.x0[r]), int(s.y0[r]), int(s.x1[r]), int(s.y1[r]))
		for _, g := range gt {
			bestAll = max(bestAll, BoxIoU(box, g))
		}
		if s.size[r] > s.size[largest] || (s.size[r] == s.size[largest] && s.first[r] < s.first[largest]) {
			largest = r
		}
	}
	lbox := image.Rect(int(s.x0[largest]), int(s.y0[largest]), int(s.x1[largest]), int(s.y1[largest]))
	for _, g := range gt {
		best1 = max(best1, BoxIoU(lbox, g))
	}
	return best1, bestAll
}
