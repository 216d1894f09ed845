package heatmap

import "math"

// Resize resamples a row-major w x h map to outW x outH with bilinear interpolation on pixel centres
// (half-pixel convention, edges clamped), so a constant map stays constant and the result never leaves the input's
// [min, max] range. Non-finite inputs are read as 0.
func Resize(m []float32, w, h, outW, outH int) []float32 {
	out := make([]float32, outW*outH)
	if w == outW && h == outH {
		for i, v := range m {
			out[i] = Finite(v)
		}
		return out
	}
	x0s, x1s, fxs := bilinearTaps(w, outW)
	y0s, y1s, fys := bilinearTaps(h, outH)
	for oy := range outH {
		r0, r1, fy := m[y0s[oy]*w:y0s[oy]*w+w], m[y1s[oy]*w:y1s[oy]*w+w], fys[oy]
		for ox := range outW {
			x0, x1, fx := x0s[ox], x1s[ox], fxs[ox]
			top := float64(Finite(r0[x0]))*(1-fx) + float64(Finite(r0[x1]))*fx
			bot := float64(Finite(r1[x0]))*(1-fx) + float64(Finite(r1[x1]))*fx
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
