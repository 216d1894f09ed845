package render

import (
	"fmt"
	"image"
	"math"
)

// Map is a heatmap: W*H values, row-major (index y*W+x), nominally in [0,1].
// Values outside [0,1] are clamped when drawn and NaN counts as 0.
type Map struct {
	W, H int
	V    []float32
}

// check panics with a descriptive message when the map's size and values disagree: that is a
// programming error of the caller, like an out-of-range index.
func (m Map) check(fn string) {
	if m.W <= 0 || m.H <= 0 || len(m.V) != m.W*m.H {
		panic(fmt.Sprintf("render.%s: invalid Map %dx%d with %d values", fn, m.W, m.H, len(m.V)))
	}
}

// Valid reports whether the map has a positive size and exactly W*H values.
func (m Map) Valid() bool {
	return m.W > 0 && m.H > 0 && len(m.V) == m.W*m.H
}

// At returns the value at (x, y), clamped to [0,1] with NaN as 0.
func (m Map) At(x, y int) float64 {
	return clamp01(float64(m.V[y*m.W+x]))
}

// Max returns the largest value of the map (NaN ignored; 0 for an empty or all-NaN map).
func (m Map) Max() float64 {
	mx := 0.0
	first := true
	for _, v := range m.V {
		f := float64(v)
		if math.IsNaN(f) {
			continue
		}
		if first || f > mx {
			mx, first = f, false
		}
	}
	return mx
}

// Normalize returns a copy of m scaled so that its maximum is 1 (negative values and NaN become 0).
// An all-zero map is returned as zeros.
func Normalize(m Map) Map {
	out := Map{W: m.W, H: m.H, V: make([]float32, len(m.V))}
	mx := m.Max()
	if mx <= 0 {
		return out
	}
	for i, v := range m.V {
		f := float64(v)
		if math.IsNaN(f) || f <= 0 {
			continue
		}
		out.V[i] = float32(f / mx)
	}
	return out
}

// Colorize paints each map value with the colour map; the image is m.W x m.H.
func Colorize(m Map, cmap Colormap) *image.RGBA {
	m.check("Colorize")
	img := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for y := 0; y < m.H; y++ {
		for x := 0; x < m.W; x++ {
			c := cmap.At(float64(m.V[y*m.W+x]))
			o := img.PixOffset(x, y)
			img.Pix[o], img.Pix[o+1], img.Pix[o+2], img.Pix[o+3] = c.R, c.G, c.B, 255
		}
	}
	return img
}

// Upsample resizes m to w x h with bilinear interpolation in float32 (no quantisation, unlike
// x/image/draw on a Gray16). Alignment is on pixel centres, as PyTorch's
// interpolate(align_corners=False) and OpenCV's resize: destination pixel d samples source coordinate
// (d+0.5)*in/out-0.5, clamped to [0, in-1], so a map's corner values stay at the corners and a
// constant map stays constant. Values are not clamped. It also works for shrinking (without
// anti-aliasing).
func Upsample(m Map, w, h int) Map {
	m.check("Upsample")
	if w <= 0 || h <= 0 {
		panic(fmt.Sprintf("render.Upsample: invalid target size %dx%d", w, h))
	}
	if w == m.W && h == m.H {
		return Map{W: w, H: h, V: append([]float32(nil), m.V...)}
	}
	x0s, x1s, wxs := axisWeights(m.W, w)
	y0s, y1s, wys := axisWeights(m.H, h)
	out := Map{W: w, H: h, V: make([]float32, w*h)}
	for y := 0; y < h; y++ {
		r0 := m.V[y0s[y]*m.W : (y0s[y]+1)*m.W]
		r1 := m.V[y1s[y]*m.W : (y1s[y]+1)*m.W]
		wy := wys[y]
		for x := 0; x < w; x++ {
			wx := wxs[x]
			top := float64(r0[x0s[x]])*(1-wx) + float64(r0[x1s[x]])*wx
			bot := float64(r1[x0s[x]])*(1-wx) + float64(r1[x1s[x]])*wx
			out.V[y*w+x] = float32(top*(1-wy) + bot*wy)
		}
	}
	return out
}

// axisWeights returns, for each of the out destination pixels, the two source indices and the
// weight of the second one (pixel-centre alignment, clamped at the borders).
func axisWeights(in, out int) (i0, i1 []int, w []float64) {
	i0, i1, w = make([]int, out), make([]int, out), make([]float64, out)
	scale := float64(in) / float64(out)
	for d := 0; d < out; d++ {
		s := (float64(d)+0.5)*scale - 0.5
		if s < 0 {
			s = 0
		}
		if s > float64(in-1) {
			s = float64(in - 1)
		}
		f := math.Floor(s)
		i0[d] = int(f)
		i1[d] = min(i0[d]+1, in-1)
		w[d] = s - f
	}
	return i0, i1, w
}

// Overlay blends the colourised heatmap over the gray image:
//
//	out = (1-alpha)*gray + alpha*cmap(v)     per channel, rounded to the nearest integer,
//
// with alpha clamped to [0,1]. A constant alpha (rather than one growing with v) keeps the image
// texture equally visible everywhere, and cold regions keep the colour map's low colour, which the
// colour bar explains. When the map's size differs from the image's, the map is first resampled to
// the image size with Upsample. The result has the image's size, with origin (0,0).
func Overlay(base *image.Gray, heat Map, cmap Colormap, alpha float64) *image.RGBA {
	heat.check("Overlay")
	b := base.Bounds()
	w, h := b.Dx(), b.Dy()
	if heat.W != w || heat.H != h {
		heat = Upsample(heat, w, h)
	}
	a := clamp01(alpha)
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			g := float64(base.Pix[base.PixOffset(b.Min.X+x, b.Min.Y+y)])
			c := cmap.At(float64(heat.V[y*w+x]))
			o := out.PixOffset(x, y)
			out.Pix[o] = blend(g, c.R, a)
			out.Pix[o+1] = blend(g, c.G, a)
			out.Pix[o+2] = blend(g, c.B, a)
			out.Pix[o+3] = 255
		}
	}
	return out
}

func blend(g float64, c uint8, a float64) uint8 {
	return uint8(math.Floor((1-a)*g + a*float64(c) + 0.5))
}
