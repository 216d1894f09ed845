package render

import (
	"fmt"
	"image"
	"image/draw"
)

// Colour bar geometry, display pixels.
const (
	barWidth    = 14
	barTickLen  = 4
	barLabelGap = 3
	barFontSize = 11
)

// ColorBar draws a vertical colour bar height pixels tall: 1 at the top, 0 at the bottom, with
// ticks and labels at 0, 0.5 and 1 on its right. Its width is ColorBarWidth(). The bar's rows map
// linearly onto [0,1] with the top row exactly cmap.At(1) and the bottom row exactly cmap.At(0).
func ColorBar(cmap Colormap, height int) *image.RGBA {
	if height < 2 {
		height = 2
	}
	w := ColorBarWidth()
	img := image.NewRGBA(image.Rect(0, 0, w, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(paperColor), image.Point{}, draw.Src)
	for y := 0; y < height; y++ {
		c := cmap.At(1 - float64(y)/float64(height-1))
		draw.Draw(img, image.Rect(0, y, barWidth, y+1), image.NewUniform(c), image.Point{}, draw.Src)
	}
	DrawBox(img, image.Rect(0, 0, barWidth, height), mutedColor, 1)
	f := face(barFontSize, false)
	lh := lineHeight(f)
	for _, v := range []float64{1, 0.5, 0} {
		y := int(float64(height-1) * (1 - v))
		draw.Draw(img, image.Rect(barWidth, y, barWidth+barTickLen, y+1), image.NewUniform(mutedColor), image.Point{}, draw.Src)
		ty := min(max(y-lh/2, 0), height-lh)
		drawText(img, f, barWidth+barTickLen+barLabelGap, ty, tickLabel(v), inkColor)
	}
	return img
}

// ColorBarWidth is the width in pixels of the images made by ColorBar.
func ColorBarWidth() int {
	f := face(barFontSize, false)
	return barWidth + barTickLen + barLabelGap + textWidth(f, "0.5") + 2
}

func tickLabel(v float64) string {
	switch v {
	case 0:
		return "0"
	case 1:
		return "1"
	}
	return fmt.Sprintf("%g", v)
}
