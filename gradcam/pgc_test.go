package gradcam

import (
	"math"
	"testing"
)

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
