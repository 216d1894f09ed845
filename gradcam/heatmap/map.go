package heatmap

import (
	"fmt"
	"math"
)

// Map is a heatmap: W*H values, row-major (index y*W+x), nominally in [0,1] after the engine's normalisation.
// Values outside [0,1] are clamped when drawn and NaN counts as 0.
type Map struct {
	W int       `json:"w"`
	H int       `json:"h"`
	V []float32 `json:"v"`
}

// New returns an all-zero w x h map.
func New(w, h int) Map { return Map{W: w, H: h, V: make([]float32, w*h)} }

// Valid reports whether the map has a positive size and exactly W*H values.
func (m Map) Valid() bool { return m.W > 0 && m.H > 0 && len(m.V) == m.W*m.H }

// Check panics with a message naming fn when the map's size and values disagree: a programming error of the
// caller, like an out-of-range index.
func (m Map) Check(fn string) {
	if !m.Valid() {
		panic(fmt.Sprintf("%s: invalid map %dx%d with %d values", fn, m.W, m.H, len(m.V)))
	}
}

// At returns the value at (x, y), clamped to [0,1] with NaN as 0.
func (m Map) At(x, y int) float64 { return Clamp01(float64(m.V[y*m.W+x])) }

// Max returns the largest finite value of the map (0 for an empty map or one without finite values).
func (m Map) Max() float64 {
	if i := ArgMax(m.V); i >= 0 {
		return float64(m.V[i])
	}
	return 0
}

// Resized returns the map resampled to w x h with Resize (a copy when the size is unchanged).
func (m Map) Resized(w, h int) Map {
	m.Check("heatmap.Map.Resized")
	if w <= 0 || h <= 0 {
		panic(fmt.Sprintf("heatmap.Map.Resized: invalid target size %dx%d", w, h))
	}
	return Map{W: w, H: h, V: Resize(m.V, m.W, m.H, w, h)}
}

// Clamp01 clamps v to [0,1]; NaN gives 0.
func Clamp01(v float64) float64 {
	if !(v > 0) {
		return 0
	}
	return math.Min(v, 1)
}

// Finite returns v, or 0 when v is NaN or infinite.
func Finite(v float32) float32 {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return 0
	}
	return v
}

// ArgMax returns the index of the largest finite value of v (the first one on ties, as numpy's argmax), or -1
// when v has no finite value. It serves class probabilities (the predicted class) and maps (the hottest pixel).
func ArgMax(v []float32) int {
	best := -1
	for i, x := range v {
		f := float64(x)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			continue
		}
		if best < 0 || x > v[best] {
			best = i
		}
	}
	return best
}

// Predictor classifies a batch of images: [N][size*size] row-major pixels in [0,1] -> [N][K] class
// probabilities. It must not keep the input buffers (callers reuse them). LIME and the deletion/insertion curves
// call it; gradcam.Explainer.Predict and resnet.Classifier.Predict have this shape.
type Predictor func(images [][]float32) ([][]float32, error)
