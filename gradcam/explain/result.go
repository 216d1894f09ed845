package explain

import (
	"fmt"
	"image"
	"math"

	"github.com/neucam/neucam/gradcam/heatmap"
	"github.com/neucam/neucam/gradcam/render"
)

// Unlabelled is Image.Label for an image whose class is unknown.
const Unlabelled = -1

// Box is a ground-truth box of one class, in the image's pixel grid (Min inclusive, Max exclusive).
type Box struct {
	Class int             `json:"class"`
	Rect  image.Rectangle `json:"rect"`
}

// Image is one input: the gray image at any size, its class (Unlabelled when unknown) and its GT boxes.
type Image struct {
	Name  string
	Gray  *image.Gray
	Label int
	Boxes []Box
}

// Pixels is the model input: heatmap.Pixels of the gray image.
func (im Image) Pixels(size int) []float32 { return heatmap.Pixels(im.Gray, size) }

// BoxesOf returns the rectangles of the boxes of class c.
func (im Image) BoxesOf(c int) []image.Rectangle {
	var out []image.Rectangle
	for _, b := range im.Boxes {
		if b.Class == c {
			out = append(out, b.Rect)
		}
	}
	return out
}

// Explained is one image's result: its prediction and, per method, one map per class at the model's input size.
type Explained struct {
	Image
	Probs []float32       // [K] class probabilities
	Pred  int             // predicted class (argmax of Probs)
	Maps  [][]heatmap.Map // [method][class], S x S, values in [0,1]
}

// Result is what Explain returns: the images' predictions and maps for every method.
type Result struct {
	Classes []string
	Methods []Method
	Images  []Explained
}

// MethodNames returns the methods' canonical strings, in order.
func (r *Result) MethodNames() []string {
	out := make([]string, len(r.Methods))
	for i, m := range r.Methods {
		out[i] = m.String()
	}
	return out
}

// Explain parses the comma-separated methods and runs each of them on all images (one batched call per method).
func (e *Explainer) Explain(images []Image, methods string) (*Result, error) {
	ms, err := ParseMethods(methods)
	if err != nil {
		return nil, err
	}
	return e.ExplainMethods(images, ms...)
}

// ExplainMethods is Explain with parsed methods.
func (e *Explainer) ExplainMethods(images []Image, methods ...Method) (*Result, error) {
	if len(methods) == 0 {
		return nil, fmt.Errorf("explain: no method")
	}
	m := e.model
	pix := make([][]float32, len(images))
	for i, im := range images {
		if im.Gray == nil {
			return nil, fmt.Errorf("explain: image %d (%q) has no pixels", i, im.Name)
		}
		pix[i] = im.Pixels(m.Size)
	}
	res := &Result{Classes: m.Classes, Methods: methods, Images: make([]Explained, len(images))}
	for i, im := range images {
		res.Images[i] = Explained{Image: im, Maps: make([][]heatmap.Map, len(methods))}
	}
	for mi, method := range methods {
		probs, maps, err := e.Maps(method, pix)
		if err != nil {
			return nil, err
		}
		for i := range res.Images {
			x := &res.Images[i]
			if mi == 0 {
				x.Probs, x.Pred = probs[i], heatmap.ArgMax(probs[i])
			}
			x.Maps[mi] = SquareMaps(maps[i])
		}
	}
	return res, nil
}

// SquareMaps wraps per-class S*S maps as heatmap.Maps.
func SquareMaps(maps [][]float32) []heatmap.Map {
	out := make([]heatmap.Map, len(maps))
	for k, v := range maps {
		s := int(math.Round(math.Sqrt(float64(len(v)))))
		out[k] = heatmap.Map{W: s, H: s, V: v}
	}
	return out
}

// Panel is the render panel of image i with method mi's maps.
func (r *Result) Panel(i, mi int) render.Panel {
	x := r.Images[i]
	return NewPanel(x.Image, r.Classes, x.Probs, x.Maps[mi])
}

// Panels are the render panels of every image with method mi's maps.
func (r *Result) Panels(mi int) []render.Panel {
	out := make([]render.Panel, len(r.Images))
	for i := range r.Images {
		out[i] = r.Panel(i, mi)
	}
	return out
}

// NewPanel builds the render panel of one image: the gray image, its GT boxes, the prediction and one map per
// class (any size; the renderer resamples them to the image).
func NewPanel(im Image, classes []string, probs []float32, maps []heatmap.Map) render.Panel {
	p := render.Panel{Gray: im.Gray, Name: im.Name, ClassNames: classes, Maps: maps}
	if im.Label >= 0 && im.Label < len(classes) {
		p.TrueClass = classes[im.Label]
	}
	if pred := heatmap.ArgMax(probs); pred >= 0 {
		p.PredClass, p.Prob = classes[pred], float64(probs[pred])
	}
	for _, v := range probs {
		p.Probs = append(p.Probs, float64(v))
	}
	for _, b := range im.Boxes {
		if b.Class >= 0 && b.Class < len(classes) {
			p.GT = append(p.GT, render.Box{Rect: b.Rect, Label: classes[b.Class]})
		}
	}
	return p
}
