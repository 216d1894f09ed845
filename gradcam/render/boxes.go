package render

import (
	"image"
	"image/color"
	"image/draw"
)

// Box is a labelled rectangle in image pixel coordinates (Min inclusive, Max exclusive, as
// image.Rectangle and the neu package). A zero Color means "use the class colour of Label" when the
// label is one of the panel's class names, white otherwise.
type Box struct {
	Rect  image.Rectangle
	Label string
	Color color.RGBA
}

// classColors is the Okabe-Ito palette (minus black and the dark blue that vanishes on dark
// heatmaps): distinguishable under the common colour-vision deficiencies, and bright enough to read
// on both gray steel and colour maps. Index = class index (neu.Classes order).
var classColors = []color.RGBA{
	{0xE6, 0x9F, 0x00, 255}, // crazing: orange
	{0x56, 0xB4, 0xE9, 255}, // inclusion: sky blue
	{0x00, 0x9E, 0x73, 255}, // patches: bluish green
	{0xF0, 0xE4, 0x42, 255}, // pitted_surface: yellow
	{0xD5, 0x5E, 0x00, 255}, // rolled-in_scale: vermillion
	{0xCC, 0x79, 0xA7, 255}, // scratches: reddish purple
}

// ClassColor returns the colour of class index class (the same everywhere: boxes, legends, reports).
// Indices beyond 5 cycle through the palette; negative indices are white.
func ClassColor(class int) color.RGBA {
	if class < 0 {
		return color.RGBA{255, 255, 255, 255}
	}
	return classColors[class%len(classColors)]
}

// DrawBox draws the outline of r, thickness pixels wide, inside r: the pixels x in
// [Min.X, Min.X+thickness) or [Max.X-thickness, Max.X) (likewise for y) get colour c; everything else
// is unchanged. It is clipped to dst's bounds; thickness < 1 counts as 1.
func DrawBox(dst draw.Image, r image.Rectangle, c color.RGBA, thickness int) {
	drawOutline(dst, r, c, thickness, 0)
}

// DrawDashedBox is DrawBox with dashes of dash pixels separated by gaps of the same length, measured
// along each side from its corners, so corners are always drawn. dash < 1 uses 3*thickness+2.
// Used for CAM-derived boxes, so they can't be mistaken for ground truth.
func DrawDashedBox(dst draw.Image, r image.Rectangle, c color.RGBA, thickness, dash int) {
	if dash < 1 {
		dash = 3*max(thickness, 1) + 2
	}
	drawOutline(dst, r, c, thickness, dash)
}

func drawOutline(dst draw.Image, r image.Rectangle, c color.RGBA, thickness, dash int) {
	r = r.Canon()
	if r.Empty() {
		return
	}
	t := max(thickness, 1)
	clip := dst.Bounds()
	on := func(pos int) bool { return dash <= 0 || (pos/dash)%2 == 0 }
	set := func(x, y int) {
		if image.Pt(x, y).In(clip) {
			dst.Set(x, y, c)
		}
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			dx0, dx1 := x-r.Min.X, r.Max.X-1-x // distances to the left/right sides
			dy0, dy1 := y-r.Min.Y, r.Max.Y-1-y
			horiz := dy0 < t || dy1 < t // on the top or bottom band
			vert := dx0 < t || dx1 < t  // on the left or right band
			if !horiz && !vert {
				continue
			}
			// Position along the side, counted from the nearer corner so dashes are symmetric.
			if (horiz && on(min(dx0, dx1))) || (vert && on(min(dy0, dy1))) {
				set(x, y)
			}
		}
	}
}

// scaleRect maps a rectangle in image pixels to display pixels (integer upscaling).
func scaleRect(r image.Rectangle, s int) image.Rectangle {
	return image.Rect(r.Min.X*s, r.Min.Y*s, r.Max.X*s, r.Max.Y*s)
}
