package render

import (
	"image"
	"math"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// Colorize paints each map value with the colour map; the image is m.W x m.H.
func Colorize(m heatmap.Map, cmap Colormap) *image.RGBA {
	m.Check("render.Colorize")
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

// Overlay blends the colourised heatmap over the gray image:
//
//	out = (1-alpha)*gray + alpha*cmap(v)     per channel, rounded to the nearest integer,
//
// with alpha clamped to [0,1]. A constant alpha (rather than one growing with v) keeps the image
// texture equally visible everywhere, and cold regions keep the colour map's low colour, which the
// colour bar explains. When the map's size differs from the image's, the map is first resampled to
// the image size with heatmap.Map.Resized. The result has the image's size, with origin (0,0).
func Overlay(base *image.Gray, heat heatmap.Map, cmap Colormap, alpha float64) *image.RGBA {
	heat.Check("render.Overlay")
	b := base.Bounds()
	w, h := b.Dx(), b.Dy()
	if heat.W != w || heat.H != h {
		heat = heat.Resized(w, h)
	}
	a := heatmap.Clamp01(alpha)
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
