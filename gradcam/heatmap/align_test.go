package heatmap

import (
	"math"
	"testing"
)

// TestResizeAlignCorners: corners land on corners, and a linear ramp is reproduced exactly (PyTorch's
// align_corners=True samples input position o*(in-1)/(out-1)).
func TestResizeAlignCorners(t *testing.T) {
	const w, h, outW, outH = 4, 3, 10, 7
	m := make([]float32, w*h)
	for y := range h {
		for x := range w {
			m[y*w+x] = float32(2*x + 5*y)
		}
	}
	out := ResizeAlignCorners(m, w, h, outW, outH)
	for oy := range outH {
		for ox := range outW {
			sx, sy := float64(ox)*float64(w-1)/float64(outW-1), float64(oy)*float64(h-1)/float64(outH-1)
			if want := 2*sx + 5*sy; math.Abs(float64(out[oy*outW+ox])-want) > 1e-5 {
				t.Fatalf("(%d,%d) = %g, want %g", ox, oy, out[oy*outW+ox], want)
			}
		}
	}
	if out[0] != m[0] || out[outW-1] != m[w-1] || out[len(out)-1] != m[len(m)-1] {
		t.Errorf("corners %v %v %v, want %v %v %v", out[0], out[outW-1], out[len(out)-1], m[0], m[w-1], m[len(m)-1])
	}
}
