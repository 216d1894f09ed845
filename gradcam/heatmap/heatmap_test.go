package heatmap

import (
	"image"
	"math"
	"reflect"
	"slices"
	"testing"
)

func TestResized(t *testing.T) {
	c := Map{W: 3, H: 2, V: []float32{0.7, 0.7, 0.7, 0.7, 0.7, 0.7}}
	u := c.Resized(7, 5)
	if u.W != 7 || u.H != 5 || len(u.V) != 35 {
		t.Fatalf("Upsample size %dx%d len %d", u.W, u.H, len(u.V))
	}
	for i, v := range u.V {
		if v != 0.7 {
			t.Fatalf("constant map upsampled: value %d = %v", i, v)
		}
	}
	m := Map{W: 2, H: 2, V: []float32{0, 1, 2, 3}}
	u = m.Resized(4, 4)
	want := []float32{
		0, 0.25, 0.75, 1,
		0.5, 0.75, 1.25, 1.5,
		1.5, 1.75, 2.25, 2.5,
		2, 2.25, 2.75, 3,
	}
	if !reflect.DeepEqual(u.V, want) {
		t.Errorf("Upsample 2x2 -> 4x4\n got %v\nwant %v", u.V, want)
	}
}

func TestBoxesTwoBlobs(t *testing.T) {
	w, h := 20, 12
	m := Map{W: w, H: h, V: make([]float32, w*h)}
	set := func(r image.Rectangle, v float32) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				m.V[y*w+x] = v
			}
		}
	}
	set(m.boundsRect(), 0.3)            // background below threshold
	set(image.Rect(2, 1, 7, 5), 1)      // blob A core
	set(image.Rect(7, 5, 8, 6), 0.9)    // joins A only diagonally (8-connectivity)
	set(image.Rect(12, 8, 16, 11), 0.6) // blob B
	m.V[0] = float32(math.NaN())        // NaN is ignored
	got := m.Boxes(0.5)
	want := []image.Rectangle{image.Rect(2, 1, 8, 6), image.Rect(12, 8, 16, 11)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Boxes(0.5) = %v, want %v", got, want)
	}
	if got := m.Boxes(0.7); !reflect.DeepEqual(got, []image.Rectangle{image.Rect(2, 1, 8, 6)}) {
		t.Errorf("Boxes(0.7) = %v", got)
	}
	if got := (Map{W: 2, H: 1, V: []float32{0, 0}}).Boxes(0.5); len(got) != 0 {
		t.Errorf("Boxes of a zero map = %v, want nil", got)
	}
}

func (m Map) boundsRect() image.Rectangle { return image.Rect(0, 0, m.W, m.H) }

func TestResizeMatchesHalfPixelBilinear(t *testing.T) {
	// PyTorch: F.interpolate(tensor([[0,1],[2,3]]), size=4, mode="bilinear", align_corners=False).
	got := Resize([]float32{0, 1, 2, 3}, 2, 2, 4, 4)
	want := []float32{0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3}
	if relErr(got, want) > 1e-6 {
		t.Errorf("Resize 2x2->4x4 = %v, want %v", got, want)
	}
	// Downsampling 4x1 -> 2x1 averages pixel pairs; NaN reads as 0; constant stays constant.
	if got := Resize([]float32{0, 2, 4, float32(math.NaN())}, 4, 1, 2, 1); relErr(got, []float32{1, 2}) > 1e-6 {
		t.Errorf("Resize 4->2 = %v", got)
	}
	c := Resize([]float32{3, 3, 3, 3, 3, 3}, 3, 2, 7, 5)
	if slices.Min(c) != 3 || slices.Max(c) != 3 {
		t.Errorf("constant map not constant after resize: %v", c)
	}
}

func TestTransforms(t *testing.T) {
	// Rot90 turns clockwise: [[1,2],[3,4]] -> [[3,1],[4,2]].
	if got := Rot90.Apply([]float32{1, 2, 3, 4}, 2, 2); !slices.Equal(got, []float32{3, 1, 4, 2}) {
		t.Errorf("Rot90 = %v", got)
	}
	if got := FlipH.Apply([]float32{1, 2, 3, 4, 5, 6}, 3, 2); !slices.Equal(got, []float32{3, 2, 1, 6, 5, 4}) {
		t.Errorf("FlipH = %v", got)
	}
	m := []float32{1, 2, 3, 4, 5, 6} // 3 wide, 2 high
	seen := map[string]bool{}
	for _, tr := range Dihedral {
		out := tr.Apply(m, 3, 2)
		w, h := 3, 2
		if tr.Swaps() {
			w, h = 2, 3
		}
		if back := tr.Inverse().Apply(out, w, h); !slices.Equal(back, m) {
			t.Errorf("transform %d: inverse gives %v", tr, back)
		}
		seen[string(rune(w))+fmtFloats(out)] = true
	}
	if len(seen) != 8 {
		t.Errorf("the 8 transforms give %d distinct results", len(seen))
	}
}

func fmtFloats(v []float32) string {
	b := make([]byte, len(v))
	for i, x := range v {
		b[i] = byte(x)
	}
	return string(b)
}

// relErr is max|a-b| / max(1, max|b|).
func relErr(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d, s := 0.0, 1.0
	for i := range a {
		d = max(d, math.Abs(float64(a[i])-float64(b[i])))
		s = max(s, math.Abs(float64(b[i])))
	}
	return d / s
}
