// Package synth generates synthetic steel-defect images whose defect pixels are known exactly: textured
// steel-like gray backgrounds (rolling streaks, grain, uneven lighting) with defects of a known shape per class,
// written in the Pascal-VOC layout that neu.Load reads (images/, annotations/, classes.txt) plus exact pixel
// masks (masks/NAME.png, 255 on defect pixels, 0 elsewhere).
//
// Every image holds 1..MaxObjects defects of one class; each box is the exact bounding box of its defect's
// pixels, and the mask is the union of those pixels. The output depends only on the Options (Seed included).
package synth

import (
	"fmt"
	"image"
	"math"
	"math/rand/v2"
)

// ClassNames are the defect shapes, in class order; Options.Classes = K uses the first K.
var ClassNames = []string{"blob", "line", "speckle", "scale", "ring", "crack"}

// Options configure Generate and Write. Use DefaultOptions and change fields: zero values are taken as given
// (and rejected by Validate where they make no sense).
type Options struct {
	N             int   // images, spread evenly over the classes (image i has class i mod Classes)
	Classes       int   // K, 2..len(ClassNames)
	Width, Height int   // image size in pixels (any aspect; at least 32 a side)
	MaxObjects    int   // defects per image: 1..MaxObjects, all of the image's class
	Seed          int64 // the whole dataset depends only on the options
}

// DefaultOptions: 400 non-square 160x96 images of 4 classes, 1 or 2 defects each.
func DefaultOptions() Options {
	return Options{N: 400, Classes: 4, Width: 160, Height: 96, MaxObjects: 2, Seed: 1}
}

// Validate reports options that cannot produce a dataset.
func (o Options) Validate() error {
	switch {
	case o.N < 1:
		return fmt.Errorf("synth: N = %d images, want at least 1", o.N)
	case o.Classes < 2 || o.Classes > len(ClassNames):
		return fmt.Errorf("synth: %d classes, want 2..%d (%v)", o.Classes, len(ClassNames), ClassNames)
	case o.Width < 32 || o.Height < 32 || o.Width > 4096 || o.Height > 4096:
		return fmt.Errorf("synth: image size %dx%d, want 32..4096 a side", o.Width, o.Height)
	case o.MaxObjects < 1 || o.MaxObjects > 8:
		return fmt.Errorf("synth: MaxObjects = %d, want 1..8", o.MaxObjects)
	}
	return nil
}

// Object is one defect: its class and the exact bounding box of its pixels (Min inclusive, Max exclusive).
type Object struct {
	Class int
	Box   image.Rectangle
}

// Sample is one generated image.
type Sample struct {
	Name    string      // "synth_00012"
	Class   int         // index in ClassNames (every object has it)
	Image   *image.Gray // Width x Height
	Mask    *image.Gray // 255 on defect pixels, 0 elsewhere
	Objects []Object
}

// Generate returns image i of the dataset (deterministic in opts and i).
func Generate(opts Options, i int) Sample {
	rng := rand.New(rand.NewPCG(uint64(opts.Seed), uint64(i)*0x9E3779B97F4A7C15+1))
	w, h := opts.Width, opts.Height
	img := background(rng, w, h)
	class := i % opts.Classes
	mask := make([]bool, w*h)
	var objects []Object
	n := 1 + rng.IntN(opts.MaxObjects)
	for range n {
		m := shape(rng, class, w, h)
		box, ok := bounds(m, w, h)
		if !ok {
			continue
		}
		paint(rng, img, m, class, w, h)
		for j, v := range m {
			mask[j] = mask[j] || v
		}
		objects = append(objects, Object{Class: class, Box: box})
	}
	return Sample{Name: fmt.Sprintf("synth_%05d", i), Class: class, Image: toGray(img, w, h),
		Mask: maskImage(mask, w, h), Objects: objects}
}

// background: mid-gray steel with uneven lighting, horizontal rolling streaks and fine grain, values in [0,1].
func background(rng *rand.Rand, w, h int) []float64 {
	base := 0.45 + 0.15*rng.Float64()
	light := valueNoise(rng, w, h, 2, 2)            // slow lighting variation
	streak := valueNoise(rng, w, h, 2, max(4, h/4)) // long along x, short along y: rolling direction
	grain := valueNoise(rng, w, h, max(4, w/3), max(4, h/3))
	out := make([]float64, w*h)
	for j := range out {
		out[j] = base + 0.10*(light[j]-0.5) + 0.08*(streak[j]-0.5) + 0.06*(grain[j]-0.5) + 0.02*rng.NormFloat64()
	}
	return out
}

// valueNoise is gx x gy random values in [0,1] on a grid, bilinearly (smoothstep) interpolated to w x h.
func valueNoise(rng *rand.Rand, w, h, gx, gy int) []float64 {
	grid := make([]float64, (gx+1)*(gy+1))
	for j := range grid {
		grid[j] = rng.Float64()
	}
	out := make([]float64, w*h)
	for y := range h {
		fy := float64(y) / float64(h) * float64(gy)
		y0, ty := int(fy), smooth(fy-math.Floor(fy))
		for x := range w {
			fx := float64(x) / float64(w) * float64(gx)
			x0, tx := int(fx), smooth(fx-math.Floor(fx))
			a := grid[y0*(gx+1)+x0]*(1-tx) + grid[y0*(gx+1)+x0+1]*tx
			b := grid[(y0+1)*(gx+1)+x0]*(1-tx) + grid[(y0+1)*(gx+1)+x0+1]*tx
			out[y*w+x] = a*(1-ty) + b*ty
		}
	}
	return out
}

func smooth(t float64) float64 { return t * t * (3 - 2*t) }

// paint changes the pixels of m: darker for blobs, speckles, scale, rings and cracks, brighter or darker for
// lines, with a little texture so a defect is not a flat fill.
func paint(rng *rand.Rand, img []float64, m []bool, class, w, h int) {
	delta := -(0.18 + 0.12*rng.Float64())
	if ClassNames[class] == "line" && rng.IntN(2) == 0 {
		delta = -delta
	}
	tex := valueNoise(rng, w, h, max(2, w/8), max(2, h/8))
	for j, v := range m {
		if v {
			img[j] += delta * (0.8 + 0.4*tex[j])
		}
	}
}

// bounds is the bounding box of m's true pixels; false when there are none.
func bounds(m []bool, w, h int) (image.Rectangle, bool) {
	r := image.Rectangle{Min: image.Pt(w, h)}
	for y := range h {
		for x := range w {
			if m[y*w+x] {
				r.Min.X, r.Min.Y = min(r.Min.X, x), min(r.Min.Y, y)
				r.Max.X, r.Max.Y = max(r.Max.X, x+1), max(r.Max.Y, y+1)
			}
		}
	}
	return r, !r.Empty()
}

func toGray(v []float64, w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for j, x := range v {
		g.Pix[j] = uint8(math.Round(255 * min(1, max(0, x))))
	}
	return g
}

func maskImage(m []bool, w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for j, v := range m {
		if v {
			g.Pix[j] = 255
		}
	}
	return g
}
