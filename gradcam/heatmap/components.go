package heatmap

import (
	"image"
	"math"
	"sort"
)

// Component is one 8-connected component of a thresholded map.
type Component struct {
	Box    image.Rectangle // bounding box, Min inclusive, Max exclusive
	Pixels int             // number of pixels in the component
	First  int             // row-major index of its first pixel (deterministic tie break)
}

// value reads a map value for thresholding: NaN, infinities and negatives count as 0.
func value(v float32) float64 {
	f := float64(v)
	if !(f > 0) || math.IsInf(f, 0) {
		return 0
	}
	return f
}

// Threshold marks the pixels with value > t*max(map), the rule of Choe et al.'s wsolevaluation code
// (cv2.threshold THRESH_BINARY is strict), with t*max rounded to float32 (the maps' precision, so a pixel equal to
// t*max is not foreground). Values are read with NaN, infinities and negatives as 0. t=0 keeps every positive
// pixel, t>=1 keeps nothing, t<0 behaves like 0, and an all-zero map gives an empty mask.
func (m Map) Threshold(t float64) []bool {
	m.Check("heatmap.Map.Threshold")
	mask := make([]bool, len(m.V))
	mx := 0.0
	for _, v := range m.V {
		mx = max(mx, value(v))
	}
	if mx <= 0 {
		return mask
	}
	level := ThresholdLevel(t, mx)
	for i, v := range m.V {
		mask[i] = value(v) > level
	}
	return mask
}

// ThresholdLevel is the level t*mx rounded to float32, the maps' precision, so a pixel whose float32 value equals
// t*max (e.g. 0.6 for t = 0.6, max 1) is not foreground; t < 0 behaves like t = 0 (zeros are never foreground).
func ThresholdLevel(t, mx float64) float64 { return float64(float32(max(t, 0) * mx)) }

// Components labels the 8-connected components of m.Threshold(t) and returns them largest first (by pixel count;
// ties by first pixel in row-major order). Holes are ignored: each component contributes the bounding box of its
// outer border only.
func (m Map) Components(t float64) []Component {
	mask := m.Threshold(t)
	w, h := m.W, m.H
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
			for ny := max(y-1, 0); ny <= min(y+1, h-1); ny++ {
				for nx := max(x-1, 0); nx <= min(x+1, w-1); nx++ {
					if j := ny*w + nx; mask[j] && !seen[j] {
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

// Boxes returns the bounding boxes of m.Components(t), largest component first: the "CAM boxes" drawn dashed on
// overlays and scored by IoU and MaxBoxAcc (the first box is MaxBoxAcc v1's largest connected component).
func (m Map) Boxes(t float64) []image.Rectangle {
	comps := m.Components(t)
	boxes := make([]image.Rectangle, len(comps))
	for i, c := range comps {
		boxes[i] = c.Box
	}
	return boxes
}
