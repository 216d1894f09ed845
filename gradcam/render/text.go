package render

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// Text colours of the figures.
var (
	inkColor     = color.RGBA{0x24, 0x29, 0x2f, 255} // near-black, softer than pure black
	mutedColor   = color.RGBA{0x57, 0x60, 0x6a, 255}
	correctColor = color.RGBA{0x1a, 0x7f, 0x37, 255} // green: prediction matches the truth
	wrongColor   = color.RGBA{0xcf, 0x22, 0x2e, 255} // red: it doesn't
	paperColor   = color.RGBA{255, 255, 255, 255}
)

type faceKey struct {
	bold bool
	size float64
}

var (
	facesMu sync.Mutex
	faces   = map[faceKey]font.Face{}
	fonts   [2]*opentype.Font
	fontErr error
	fontsMu sync.Once
)

// face returns the Go font (regular or bold) at size pixels. The fonts are compiled into x/image, so
// parsing can only fail if that package is broken: then it panics.
func face(size float64, bold bool) font.Face {
	fontsMu.Do(func() {
		if fonts[0], fontErr = opentype.Parse(goregular.TTF); fontErr == nil {
			fonts[1], fontErr = opentype.Parse(gobold.TTF)
		}
	})
	if fontErr != nil {
		panic(fmt.Sprintf("render: parsing the embedded Go fonts: %v", fontErr))
	}
	facesMu.Lock()
	defer facesMu.Unlock()
	k := faceKey{bold, size}
	if f, ok := faces[k]; ok {
		return f
	}
	i := 0
	if bold {
		i = 1
	}
	f, err := opentype.NewFace(fonts[i], &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(fmt.Sprintf("render: font face of size %g: %v", size, err))
	}
	faces[k] = f
	return f
}

// textWidth is the advance width of s in pixels.
func textWidth(f font.Face, s string) int {
	return font.MeasureString(f, s).Ceil()
}

// lineHeight is the height of one line of text in pixels (ascent+descent).
func lineHeight(f font.Face) int {
	m := f.Metrics()
	return (m.Ascent + m.Descent).Ceil()
}

// drawText draws s with its top-left corner at (x, y) and returns the x just after it.
func drawText(dst draw.Image, f font.Face, x, y int, s string, c color.Color) int {
	d := font.Drawer{
		Dst:  dst,
		Src:  image.NewUniform(c),
		Face: f,
		Dot:  fixed.P(x, y+f.Metrics().Ascent.Ceil()),
	}
	d.DrawString(s)
	return d.Dot.X.Ceil()
}

// labelSize is the font size of box labels, in display pixels.
const labelSize = 12

// DrawLabel draws text on a filled rectangle of colour bg with its top-left corner at p, with black or
// white text, whichever contrasts more with bg. It returns the rectangle it covered.
func DrawLabel(dst draw.Image, p image.Point, text string, bg color.RGBA) image.Rectangle {
	f := face(labelSize, true)
	r := image.Rect(p.X, p.Y, p.X+textWidth(f, text)+6, p.Y+lineHeight(f)+2)
	draw.Draw(dst, r, image.NewUniform(bg), image.Point{}, draw.Src)
	drawText(dst, f, r.Min.X+3, r.Min.Y+1, text, contrastText(bg))
	return r
}

// contrastText picks black or white text for a background (relative luminance, sRGB weights).
func contrastText(bg color.RGBA) color.RGBA {
	lum := 0.2126*float64(bg.R) + 0.7152*float64(bg.G) + 0.0722*float64(bg.B)
	if lum > 140 {
		return color.RGBA{0, 0, 0, 255}
	}
	return color.RGBA{255, 255, 255, 255}
}

// drawBoxLabel draws a box's label just above the box (inside the image when the box touches the top edge),
// unless it would cover a label in taken (adjacent boxes of a class would otherwise stack unreadable labels;
// the box colour still tells the class). It returns taken plus the label drawn.
func drawBoxLabel(dst draw.Image, r image.Rectangle, label string, c color.RGBA, thickness int, taken []image.Rectangle) []image.Rectangle {
	if label == "" {
		return taken
	}
	f := face(labelSize, true)
	h := lineHeight(f) + 2
	w := textWidth(f, label) + 6
	bounds := dst.Bounds()
	x := r.Min.X
	if x+w > bounds.Max.X {
		x = max(bounds.Max.X-w, bounds.Min.X)
	}
	// Above the box, else below it, else inside along the bottom edge: never over the top edge, where maps
	// are often hottest.
	var p image.Point
	placed := false
	for _, y := range []int{r.Min.Y - h, r.Max.Y, r.Max.Y - h - thickness} {
		lr := image.Rect(x, y, x+w, y+h)
		if !lr.In(bounds) {
			continue
		}
		free := true
		for _, t := range taken {
			free = free && !t.Overlaps(lr)
		}
		if free {
			p, placed = lr.Min, true
			break
		}
	}
	if !placed {
		return taken
	}
	return append(taken, DrawLabel(dst, p, label, c))
}

type fontFace = font.Face
