package neutest

import "image"

// Gradient is a w x h gray test image with value (x+2y) mod 256: asymmetric, so flips and rotations are visible.
func Gradient(w, h int) *image.Gray {
	g := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			g.Pix[y*g.Stride+x] = uint8((x + 2*y) % 256)
		}
	}
	return g
}
