package heatmap

import (
	"fmt"
	"image"

	"golang.org/x/image/draw"
)

// Pixels is the model input of a gray image: img resized to size x size (bilinear, area-aware when shrinking;
// aspect ratio not kept) as row-major values in [0,1]. A size x size input is copied without resampling.
func Pixels(img *image.Gray, size int) []float32 {
	if size <= 0 {
		panic(fmt.Sprintf("heatmap.Pixels: size %d must be positive", size))
	}
	out := make([]float32, size*size)
	b := img.Bounds()
	if b.Dx() == size && b.Dy() == size {
		for y := 0; y < size; y++ {
			row := img.Pix[img.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < size; x++ {
				out[y*size+x] = float32(row[x]) / 255
			}
		}
		return out
	}
	if b.Empty() {
		return out
	}
	// A 16-bit destination keeps the interpolated values finer than the 8-bit source steps.
	dst := image.NewGray16(image.Rect(0, 0, size, size))
	draw.BiLinear.Scale(dst, dst.Bounds(), img, b, draw.Src, nil)
	for i := range out {
		v := uint32(dst.Pix[2*i])<<8 | uint32(dst.Pix[2*i+1])
		out[i] = float32(v) / 65535
	}
	return out
}
