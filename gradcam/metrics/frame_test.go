package metrics

import (
	"math"
	"testing"
)

// TestFrameTest: a model that reads only the border (class 0 when the frame is bright) is caught by the frame
// test; a model that reads only the centre is neutral.
func TestFrameTest(t *testing.T) {
	const size, band = 32, 4
	frame, centre := frameMasks(size, band)
	nf, nc := 0, 0
	for i := range frame {
		nf, nc = nf+b2i(frame[i]), nc+b2i(centre[i])
	}
	if math.Abs(float64(nf-nc)) > float64(2*size) {
		t.Errorf("frame %d px vs centre %d px: areas should match", nf, nc)
	}
	img := make([]float32, size*size)
	for i := range img {
		if frame[i] {
			img[i] = 1 // bright frame, dark centre
		}
	}
	reader := func(region []bool) func([][]float32) ([][]float32, error) {
		return func(in [][]float32) ([][]float32, error) {
			out := make([][]float32, len(in))
			for j, p := range in {
				s, n := 0.0, 0
				for i, v := range p {
					if region[i] {
						s, n = s+float64(v), n+1
					}
				}
				p0 := float32(1 / (1 + math.Exp(-20*(s/float64(n)-0.6))))
				out[j] = []float32{p0, 1 - p0}
			}
			return out, nil
		}
	}
	images, labels := [][]float32{img, img}, []int{0, 0}
	border, err := RunFrameTest(reader(frame), images, size, labels, []string{"a", "b"}, band, 1)
	if err != nil {
		t.Fatal(err)
	}
	if border.Neutral || !(border.FrameDrop.Mean > 0.5) || border.FrameAcc != 0 || border.Images != 2 {
		t.Errorf("border reader: %+v, want a large frame drop and not neutral", border)
	}
	if !math.IsNaN(border.FrameDrop.Values[1]) {
		t.Errorf("class without images: %v, want NaN", border.FrameDrop.Values[1])
	}
	bright := make([]float32, size*size) // bright centre, dark frame
	for i := range bright {
		if centre[i] {
			bright[i] = 1
		}
	}
	mid, err := RunFrameTest(reader(centre), [][]float32{bright, bright}, size, labels, []string{"a", "b"}, band, 8)
	if err != nil {
		t.Fatal(err)
	}
	if !mid.Neutral || mid.FrameDrop.Mean > 1e-6 || !(mid.CentreDrop.Mean > 0.5) {
		t.Errorf("centre reader: %+v, want no frame drop and neutral", mid)
	}
	if _, err := RunFrameTest(reader(frame), images, size, labels, []string{"a"}, size/2, 1); err == nil {
		t.Error("a band of half the side should be an error")
	}
}
