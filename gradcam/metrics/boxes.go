package metrics

import (
	"image"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// mapMax is the largest value of the map as read by value().
func mapMax(m []float32) float64 {
	best := 0.0
	for _, v := range m {
		if f := value(v); f > best {
			best = f
		}
	}
	return best
}

// camBoxes is heatmap.Map.Boxes on a raw map.
func camBoxes(m []float32, w, h int, t float64) []image.Rectangle {
	checkMap(m, w, h)
	return heatmap.Map{W: w, H: h, V: m}.Boxes(t)
}

// BoxIoU is the intersection over union of two boxes in pixels (Max exclusive); 0 when both are empty.
func BoxIoU(a, b image.Rectangle) float64 {
	a, b = a.Canon(), b.Canon()
	inter := area(a.Intersect(b))
	union := area(a) + area(b) - inter
	if union <= 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

func area(r image.Rectangle) int {
	if r.Empty() {
		return 0
	}
	return r.Dx() * r.Dy()
}

// BestIoU is the mean over the GT boxes of the best IoU each one reaches with any predicted box. It is 0
// when either list is empty. Averaging over GT boxes (rather than over predictions) means a single huge
// predicted box cannot satisfy several small GT boxes at once.
func BestIoU(pred, gt []image.Rectangle) float64 {
	if len(pred) == 0 || len(gt) == 0 {
		return 0
	}
	var sum float64
	for _, g := range gt {
		best := 0.0
		for _, p := range pred {
			best = max(best, BoxIoU(p, g))
		}
		sum += best
	}
	return sum / float64(len(gt))
}

// LocalizationIoU thresholds the map at t*max (DefaultIoUThreshold = 0.5 in reports) and returns
// BestIoU(camBoxes(m, w, h, t), gt) with gt clipped to the map.
func LocalizationIoU(m []float32, w, h int, gt []image.Rectangle, t float64) float64 {
	return BestIoU(camBoxes(m, w, h, t), clipBoxes(gt, w, h))
}

// MaskIoU is the pixel IoU between the thresholded map (heatmap.Map.Threshold(t)) and the union of the GT boxes; 0 when both are
// empty.
func MaskIoU(m []float32, w, h int, gt []image.Rectangle, t float64) float64 {
	checkMap(m, w, h)
	pred := heatmap.Map{W: w, H: h, V: m}.Threshold(t)
	gtMask, _ := BoxMask(w, h, gt)
	inter, union := 0, 0
	for i := range pred {
		if pred[i] && gtMask[i] {
			inter++
		}
		if pred[i] || gtMask[i] {
			union++
		}
	}
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// clipBoxes clips boxes to the w x h grid and drops those left empty.
func clipBoxes(boxes []image.Rectangle, w, h int) []image.Rectangle {
	bounds := image.Rect(0, 0, w, h)
	out := make([]image.Rectangle, 0, len(boxes))
	for _, b := range boxes {
		if b = b.Canon().Intersect(bounds); !b.Empty() {
			out = append(out, b)
		}
	}
	return out
}
