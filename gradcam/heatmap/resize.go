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
	return resample(m, w, h, outW, outH, bilinearTaps, out)
}

// ResizeAlignCorners is bilinear resampling with the corner pixels' centres aligned (PyTorch's align_corners=True,
// nn.UpsamplingBilinear2d): output o samples input position o*(in-1)/(out-1). pytorch-grad-cam's ScoreCAM upsamples
// its masks this way. Non-finite inputs are read as 0.
func ResizeAlignCorners(m []float32, w, h, outW, outH int) []float32 {
	return resample(m, w, h, outW, outH, alignCornersTaps, make([]float32, outW*outH))
}

// resample fills out (outW x outH) by bilinear interpolation of m (w x h) at the source positions given by taps.
func resample(m []float32, w, h, outW, outH int, taps func(in, out int) ([]int, []int, []float64), out []float32) []float32 {
	x0s, x1s, fxs := taps(w, outW)
	y0s, y1s, fys := taps(h, outH)
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

// alignCornersTaps are bilinearTaps for align_corners=True.
func alignCornersTaps(in, out int) (i0, i1 []int, f []float64) {
	i0, i1, f = make([]int, out), make([]int, out), make([]float64, out)
	for o := range out {
		src := 0.0
		if out > 1 {
			src = float64(o) * float64(in-1) / float64(out-1)
		}
		lo := min(int(math.Floor(src)), in-1)
		i0[o], i1[o], f[o] = lo, min(lo+1, in-1), src-float64(lo)
	}
	return
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
