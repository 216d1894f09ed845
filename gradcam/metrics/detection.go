package metrics

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// Detection is one box read from a class map, scored as a detector's output would be.
type Detection struct {
	Class int
	Score float64         // class probability x mean map value inside the box
	Box   image.Rectangle // pixel coordinates of the map's grid (Min inclusive, Max exclusive)
}

// GTBox is one ground-truth box with its class.
type GTBox struct {
	Class int
	Box   image.Rectangle
}

// DetectOptions choose which classes and which parts of a map become boxes.
type DetectOptions struct {
	// MinProb: only classes whose probability is at least MinProb give boxes.
	MinProb float64
	// Threshold: a box is the bounding box of an 8-connected component of the map's values > Threshold*max.
	Threshold float64
	// MinAreaFrac drops components smaller than this fraction of the map's area (speckle of texture maps).
	MinAreaFrac float64
}

// DefaultDetectOptions: classes with p >= 0.1, components above 50% of the map's max (the same threshold as
// the report's dashed boxes), at least 0.5% of the image.
func DefaultDetectOptions() DetectOptions {
	return DetectOptions{MinProb: 0.1, Threshold: 0.5, MinAreaFrac: 0.005}
}

// Detect turns the class maps of one image (maps[k] row-major w*h, probs[k] the class probabilities) into
// scored boxes: for every class with probs[k] >= MinProb, one box per connected component of the map above
// Threshold*max, scored probs[k] x the map's mean value inside the box. Boxes come largest first per class.
func Detect(maps [][]float32, probs []float32, w, h int, opts DetectOptions) []Detection {
	var out []Detection
	minArea := opts.MinAreaFrac * float64(w*h)
	for k, m := range maps {
		if k >= len(probs) || float64(probs[k]) < opts.MinProb {
			continue
		}
		for _, c := range (heatmap.Map{W: w, H: h, V: m}).Components(opts.Threshold) {
			if float64(c.Pixels) < minArea {
				continue
			}
			out = append(out, Detection{Class: k, Box: c.Box, Score: float64(probs[k]) * meanIn(m, w, c.Box)})
		}
	}
	return out
}

// meanIn is the mean of the map's (sanitised) values inside r.
func meanIn(m []float32, w int, r image.Rectangle) float64 {
	s := 0.0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			s += value(m[y*w+x])
		}
	}
	if n := r.Dx() * r.Dy(); n > 0 {
		return s / float64(n)
	}
	return 0
}

// ScaleRect maps r from a grid of size from onto a grid of size to (e.g. a map's grid onto the image's own
// pixels), rounding outwards and clipping.
func ScaleRect(r image.Rectangle, from, to image.Point) image.Rectangle {
	fx, fy := float64(to.X)/float64(from.X), float64(to.Y)/float64(from.Y)
	out := image.Rect(int(math.Floor(float64(r.Min.X)*fx)), int(math.Floor(float64(r.Min.Y)*fy)),
		int(math.Ceil(float64(r.Max.X)*fx)), int(math.Ceil(float64(r.Max.Y)*fy)))
	return out.Intersect(image.Rectangle{Max: to})
}

// IoUThresholds5095 are COCO's thresholds 0.50, 0.55, .., 0.95 (mAP@0.5:0.95).
var IoUThresholds5095 = []float64{0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95}

// DetectionEval accumulates detections and GT boxes image by image and computes Pascal-VOC average precision
// per class.
type DetectionEval struct {
	classes int
	images  []detImage
}

type detImage struct {
	dets []Detection
	gt   []GTBox
}

// NewDetectionEval for nClasses classes (class indices 0..nClasses-1; others are ignored).
func NewDetectionEval(nClasses int) *DetectionEval { return &DetectionEval{classes: nClasses} }

// Add one image's detections and all its GT boxes (every class; images without boxes still count their false
// positives).
func (d *DetectionEval) Add(dets []Detection, gt []GTBox) {
	d.images = append(d.images, detImage{dets: dets, gt: gt})
}

// Images is the number of images added.
func (d *DetectionEval) Images() int { return len(d.images) }

// AP is the average precision of class c at IoU threshold iou: detections of c from every image sorted by
// score (ties: image order), each matched greedily to the unmatched GT box of c with the highest IoU >= iou in
// its image (a second detection of a matched box is a false positive), then the area under the precision
// envelope over all recall points (VOC 2010+). NaN when the class has no GT box.
func (d *DetectionEval) AP(c int, iou float64) float64 {
	type scored struct {
		score float64
		img   int
		box   image.Rectangle
	}
	var dets []scored
	nGT := 0
	used := make([][]bool, len(d.images))
	for i, im := range d.images {
		used[i] = make([]bool, len(im.gt))
		for _, g := range im.gt {
			if g.Class == c {
				nGT++
			}
		}
		for _, det := range im.dets {
			if det.Class == c {
				dets = append(dets, scored{det.Score, i, det.Box})
			}
		}
	}
	if nGT == 0 {
		return math.NaN()
	}
	sort.SliceStable(dets, func(a, b int) bool { return dets[a].score > dets[b].score })
	tp := make([]bool, len(dets))
	for j, det := range dets {
		best, bi := iou, -1
		for gi, g := range d.images[det.img].gt {
			if g.Class != c || used[det.img][gi] {
				continue
			}
			if v := BoxIoU(det.box, g.Box); v >= best {
				best, bi = v, gi
			}
		}
		if bi >= 0 {
			used[det.img][bi], tp[j] = true, true
		}
	}
	return averagePrecision(tp, nGT)
}

// averagePrecision: VOC all-point interpolated AP from the true/false-positive flags of detections sorted by
// decreasing score and the number of GT boxes.
func averagePrecision(tp []bool, nGT int) float64 {
	n := len(tp)
	prec, rec := make([]float64, n+2), make([]float64, n+2)
	hits := 0
	for i, t := range tp {
		if t {
			hits++
		}
		prec[i+1] = float64(hits) / float64(i+1)
		rec[i+1] = float64(hits) / float64(nGT)
	}
	rec[n+1] = 1
	if n > 0 {
		rec[n+1] = math.Max(1, rec[n])
	}
	for i := n; i >= 0; i-- {
		prec[i] = math.Max(prec[i], prec[i+1])
	}
	ap := 0.0
	for i := 1; i <= n+1; i++ {
		ap += (rec[i] - rec[i-1]) * prec[i]
	}
	return ap
}

// DetectionScores are the mAP numbers of one method: per class (indexed like the class names) and the mean
// over the classes that have GT boxes.
type DetectionScores struct {
	MAP50   ClassValues `json:"map50"`    // AP at IoU 0.5
	MAP5095 ClassValues `json:"map50_95"` // mean AP over IoU 0.50:0.05:0.95
}

// ClassValues is one value per class plus their mean; it marshals to {"CLASS": v, ..., "mean": m} with
// classes without GT boxes left out.
type ClassValues struct {
	Names  []string
	Values []float64 // NaN: no GT box of that class
	Mean   float64
}

// Summary computes the per-class AP at 0.5 and averaged over 0.5:0.95, and their means over classes with GT.
func (d *DetectionEval) Summary(classNames []string) DetectionScores {
	if len(classNames) != d.classes {
		panic(fmt.Sprintf("metrics.DetectionEval.Summary: %d names for %d classes", len(classNames), d.classes))
	}
	s := DetectionScores{
		MAP50:   ClassValues{Names: classNames, Values: make([]float64, d.classes)},
		MAP5095: ClassValues{Names: classNames, Values: make([]float64, d.classes)}}
	for c := range d.classes {
		s.MAP50.Values[c] = d.AP(c, 0.5)
		sum := 0.0
		for _, t := range IoUThresholds5095 {
			sum += d.AP(c, t)
		}
		s.MAP5095.Values[c] = sum / float64(len(IoUThresholds5095))
	}
	s.MAP50.Mean, s.MAP5095.Mean = nanMean(s.MAP50.Values), nanMean(s.MAP5095.Values)
	return s
}

// MarshalJSON writes {"CLASS": v, ..., "mean": m}; classes without GT boxes (NaN) are left out, a NaN mean is
// null.
func (v ClassValues) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, name := range v.Names {
		if i < len(v.Values) && !math.IsNaN(v.Values[i]) {
			key, _ := json.Marshal(name)
			fmt.Fprintf(&b, "%s:%s,", key, strconv.FormatFloat(v.Values[i], 'g', 6, 64))
		}
	}
	if math.IsNaN(v.Mean) {
		b.WriteString(`"mean":null}`)
	} else {
		fmt.Fprintf(&b, `"mean":%s}`, strconv.FormatFloat(v.Mean, 'g', 6, 64))
	}
	return b.Bytes(), nil
}

// UnmarshalJSON reads what MarshalJSON writes (class order: as in the JSON object is not kept; Names sorted).
func (v *ClassValues) UnmarshalJSON(data []byte) error {
	var m map[string]*float64
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*v = ClassValues{Mean: math.NaN()}
	if p := m[Mean]; p != nil {
		v.Mean = *p
	}
	delete(m, Mean)
	for _, name := range slices.Sorted(maps.Keys(m)) {
		v.Names = append(v.Names, name)
		if m[name] == nil {
			v.Values = append(v.Values, math.NaN())
		} else {
			v.Values = append(v.Values, *m[name])
		}
	}
	return nil
}

func nanMean(v []float64) float64 {
	s, n := 0.0, 0
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}
