package metrics

import (
	"image"
	"sort"
)

// Component is one 8-connected component of a thresholded map.
type Component struct {
	Box    image.Rectangle // bounding box, Min inclusive, Max exclusive
	Pixels int             // number of pixels in the component
	First  int             // row-major index of its first pixel (deterministic tie break)
}

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

// ThresholdMask marks the pixels with value > t*max(map), the rule of Choe et al.'s wsolevaluation code
// (cv2.threshold THRESH_BINARY is strict), with t*max rounded to float32. t=0 keeps every positive pixel, t>=1 keeps nothing, and an all-zero
// map gives an empty mask.
func ThresholdMask(m []float32, w, h int, t float64) []bool {
	checkMap(m, w, h)
	mask := make([]bool, len(m))
	mx := mapMax(m)
	if mx <= 0 {
		return mask
	}
	level := thresholdLevel(t, mx)
	for i, v := range m {
		mask[i] = value(v) > level
	}
	return mask
}

// thresholdLevel is t*mx rounded to float32, the maps' precision, so a pixel whose float32 value equals
// t*max (e.g. 0.6 for t = 0.6, max 1) is not foreground. t < 0 behaves like t = 0: zeros are never foreground.
func thresholdLevel(t, mx float64) float64 { return float64(float32(max(t, 0) * mx)) }

// Components labels the 8-connected components of ThresholdMask(m, w, h, t) and returns them largest first
// (by pixel count; ties by first pixel in row-major order). Holes are ignored: each component contributes the
// bounding box of its outer border only.
func Components(m []float32, w, h int, t float64) []Component {
	mask := ThresholdMask(m, w, h, t)
	seen := make([]bool, len(mask))
	var comps []Component
	var stack []int
	for start, on := range mask {
		if !on || seen[start] {
			continue
		}
		c := Component{Box: image.Rect(start%w, start/w, start%w+1, start/w+1), First: start}
		seen[start] = true
		stack = append(stack[:0], start)
		for len(stack) > 0 {
			i := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := i%w, i/w
			c.Pixels++
			c.Box = c.Box.Union(image.Rect(x, y, x+1, y+1))
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= w || ny >= h {
						continue
					}
					j := ny*w + nx
					if mask[j] && !seen[j] {
						seen[j] = true
						stack = append(stack, j)
					}
				}
			}
		}
		comps = append(comps, c)
	}
	sort.SliceStable(comps, func(a, b int) bool { return comps[a].Pixels > comps[b].Pixels })
	return comps
}

// CAMBoxes returns the bounding boxes of the 8-connected components of the map thresholded at t*max,
// largest component first. The first box is the "largest connected component" box of MaxBoxAcc v1.
func CAMBoxes(m []float32, w, h int, t float64) []image.Rectangle {
	comps := Components(m, w, h, t)
	boxes := make([]image.Rectangle, len(comps))
	for i, c := range comps {
		boxes[i] = c.Box
	}
	return boxes
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
// BestIoU(CAMBoxes(m, w, h, t), gt) with gt clipped to the map.
func LocalizationIoU(m []float32, w, h int, gt []image.Rectangle, t float64) float64 {
	return BestIoU(CAMBoxes(m, w, h, t), clipBoxes(gt, w, h))
}

// MaskIoU is the pixel IoU between ThresholdMask(m, w, h, t) and the union of the GT boxes; 0 when both are
// empty.
func MaskIoU(m []float32, w, h int, gt []image.Rectangle, t float64) float64 {
	pred := ThresholdMask(m, w, h, t)
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
