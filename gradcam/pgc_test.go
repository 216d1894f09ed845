package gradcam

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
	out := resizeAlignCorners(m, w, h, outW, outH)
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

// TestSoftmaxOverRows: each column is a softmax over the rows (ScoreCAM:pgc's softmax over channels).
func TestSoftmaxOverRows(t *testing.T) {
	z := [][]float32{{0, 1000}, {math.Float32frombits(0x3f317218) /* ln 2 */, 1000}, {0, -1000}}
	p := softmaxOverRows(z)
	want := [][]float64{{0.25, 0.5}, {0.5, 0.5}, {0.25, 0}}
	for r := range want {
		for k := range want[r] {
			if math.Abs(float64(p[r][k])-want[r][k]) > 1e-6 {
				t.Errorf("p[%d][%d] = %g, want %g", r, k, p[r][k], want[r][k])
			}
		}
	}
}
