package heatmap

// AreaPool downsamples a row-major w x h map to outW x outH by area averaging: output cell (i, j) covers the input
// rectangle [j*w/outW, (j+1)*w/outW) x [i*h/outH, (i+1)*h/outH) and holds the mean of the input over it, each
// input pixel weighted by the part of it inside the cell. The cells tile the input exactly, so the mean of the
// output equals the mean of the input, and a flip or rotation of the input is the same flip or rotation of the
// output. For a 0/1 mask the result is the fraction of each cell the mask covers. Non-finite inputs are read as 0.
func AreaPool(m []float32, w, h, outW, outH int) []float32 {
	cols, rows := areaWeights(w, outW), areaWeights(h, outH)
	out := make([]float32, outW*outH)
	for oy, ry := range rows {
		for ox, rx := range cols {
			var sum float64
			for y := ry.lo; y < ry.hi; y++ {
				wy, row := ry.w[y-ry.lo], m[y*w:(y+1)*w]
				for x := rx.lo; x < rx.hi; x++ {
					sum += wy * rx.w[x-rx.lo] * float64(Finite(row[x]))
				}
			}
			out[oy*outW+ox] = float32(sum / (ry.size * rx.size))
		}
	}
	return out
}

// span is the input pixels [lo, hi) of one output cell along an axis, the length w[i] of pixel lo+i inside the
// cell, and the cell's length.
type span struct {
	lo, hi int
	w      []float64
	size   float64
}

// areaWeights splits [0, in) into out cells of length in/out and returns each cell's span.
func areaWeights(in, out int) []span {
	spans := make([]span, out)
	step := float64(in) / float64(out)
	for o := range out {
		a, b := float64(o)*step, float64(o+1)*step
		s := span{lo: int(a), hi: min(in, int(b+0.999999999)), size: b - a}
		for p := s.lo; p < s.hi; p++ {
			s.w = append(s.w, min(b, float64(p+1))-max(a, float64(p)))
		}
		spans[o] = s
	}
	return spans
}
