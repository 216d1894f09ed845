package gradcam

import (
	"math"
	"slices"
)

// Host-side (plain Go) map operations: resizing, normalisation, dihedral transforms.
// They run on small maps ([h*w] per class), so they are cheap next to the model, and doing them on the host keeps one
// documented convention (the same as PyTorch's F.interpolate(mode="bilinear", align_corners=False) and cv2.resize).

// Resize resamples a row-major w x h map to outW x outH with bilinear interpolation on pixel centres
// (half-pixel convention, edges clamped), so a constant map stays constant and the result never leaves the input's
// [min, max] range. Non-finite inputs are read as 0.
func Resize(m []float32, w, h, outW, outH int) []float32 {
	out := make([]float32, outW*outH)
	if w == outW && h == outH {
		for i, v := range m {
			out[i] = finite(v)
		}
		return out
	}
	x0s, x1s, fxs := bilinearTaps(w, outW)
	y0s, y1s, fys := bilinearTaps(h, outH)
	for oy := range outH {
		r0, r1, fy := m[y0s[oy]*w:y0s[oy]*w+w], m[y1s[oy]*w:y1s[oy]*w+w], fys[oy]
		for ox := range outW {
			x0, x1, fx := x0s[ox], x1s[ox], fxs[ox]
			top := float64(finite(r0[x0]))*(1-fx) + float64(finite(r0[x1]))*fx
			bot := float64(finite(r1[x0]))*(1-fx) + float64(finite(r1[x1]))*fx
			out[oy*outW+ox] = float32(top*(1-fy) + bot*fy)
		}
	}
	return out
}

// bilinearTaps returns, for each output index, the two source indices and the weight of the second one.
func bilinearTaps(in, out int) (i0, i1 []int, f []float64) {
	i0, i1, f = make([]int, out), make([]int, out), make([]float64, out)
	scale := float64(in) / float64(out)
	for o := range out {
		src := (float64(o)+0.5)*scale - 0.5
		if src < 0 {
			src = 0
		}
		lo := int(math.Floor(src))
		if lo > in-1 {
			lo = in - 1
		}
		hi := min(lo+1, in-1)
		i0[o], i1[o], f[o] = lo, hi, src-float64(lo)
	}
	return
}

func finite(v float32) float32 {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return 0
	}
	return v
}

// Normalization says how a map is scaled to [0,1] after upsampling.
type Normalization int

const (
	// NormMinMax (default): clamp negatives to 0 (ReLU), then (m-min)/(max-min). A constant map (range <= 1e-6 of
	// its largest magnitude, or exactly zero) becomes all zeros.
	NormMinMax Normalization = iota
	// NormPercentile: clamp negatives to 0, divide by the Options.Percentile-th percentile of the map's values and
	// clip to [0,1], so a few hot pixels don't squash the rest. When that percentile is 0 (a sparse map), the max is
	// used instead; an all-zero map stays all zeros.
	NormPercentile
	// NormNone: clamp negatives to 0 only (values not scaled); for callers that fuse or compare raw magnitudes.
	NormNone
)

// Normalize scales m in place according to norm (see Normalization); percentile is in (0,100], used by
// NormPercentile. Non-finite values are treated as 0. It returns m.
func Normalize(m []float32, norm Normalization, percentile float64) []float32 {
	for i, v := range m {
		m[i] = max(finite(v), 0)
	}
	if len(m) == 0 {
		return m
	}
	switch norm {
	case NormNone:
		return m
	case NormPercentile:
		if percentile <= 0 || percentile > 100 {
			percentile = 99
		}
		sorted := slices.Clone(m)
		slices.Sort(sorted)
		pos := percentile / 100 * float64(len(sorted)-1)
		lo := int(math.Floor(pos))
		hi := min(lo+1, len(sorted)-1)
		p := float64(sorted[lo]) + (pos-float64(lo))*float64(sorted[hi]-sorted[lo])
		if p <= 0 {
			p = float64(sorted[len(sorted)-1])
		}
		if p <= 0 || math.IsInf(p, 0) {
			clear(m)
			return m
		}
		for i, v := range m {
			m[i] = float32(math.Min(float64(v)/p, 1))
		}
		return m
	default:
		lo, hi := slices.Min(m), slices.Max(m)
		rng := float64(hi) - float64(lo)
		if !(rng > 1e-6*math.Max(math.Abs(float64(hi)), math.Abs(float64(lo)))) || !(rng > 1e-30) {
			clear(m)
			return m
		}
		for i, v := range m {
			m[i] = float32((float64(v) - float64(lo)) / rng)
		}
		return m
	}
}

// Transform is one of the 8 symmetries of the square (dihedral group D4), applied to row-major square images/maps.
// Transform t maps pixel (x,y) of the source to position t.dst(x,y) of the result.
type Transform int

const (
	NoTransform  Transform = iota
	FlipH                  // mirror left-right
	FlipV                  // mirror top-bottom
	Rot180                 // FlipH then FlipV
	FlipDiag               // swap x and y (transpose)
	Rot90                  // clockwise quarter turn
	Rot270                 // counter-clockwise quarter turn
	FlipAntiDiag           // mirror about the anti-diagonal
)

// Flips are the transforms that only mirror axes (valid for non-square maps too).
var Flips = []Transform{NoTransform, FlipH, FlipV, Rot180}

// Dihedral are all 8 symmetries of the square.
var Dihedral = []Transform{NoTransform, FlipH, FlipV, Rot180, FlipDiag, Rot90, Rot270, FlipAntiDiag}

// swaps reports whether the transform exchanges the x and y axes.
func (t Transform) swaps() bool { return t >= FlipDiag }

// dst gives where source pixel (x,y) of a w x h map lands, and the result's width.
func (t Transform) dst(x, y, w, h int) (int, int) {
	switch t {
	case FlipH:
		return w - 1 - x, y
	case FlipV:
		return x, h - 1 - y
	case Rot180:
		return w - 1 - x, h - 1 - y
	case FlipDiag:
		return y, x
	case Rot90: // clockwise: (x,y) -> (h-1-y, x) in a h-wide result
		return h - 1 - y, x
	case Rot270:
		return y, w - 1 - x
	case FlipAntiDiag:
		return h - 1 - y, w - 1 - x
	default:
		return x, y
	}
}

// Inverse returns the transform undoing t.
func (t Transform) Inverse() Transform {
	switch t {
	case Rot90:
		return Rot270
	case Rot270:
		return Rot90
	default:
		return t // flips, transposes and Rot180 are involutions
	}
}

// Apply returns t applied to the row-major w x h map m (result is h x w when t swaps axes).
func (t Transform) Apply(m []float32, w, h int) []float32 {
	out := make([]float32, len(m))
	ow := w
	if t.swaps() {
		ow = h
	}
	for y := range h {
		for x := range w {
			dx, dy := t.dst(x, y, w, h)
			out[dy*ow+dx] = m[y*w+x]
		}
	}
	return out
}
