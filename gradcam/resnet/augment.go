package resnet

import (
	"math/rand/v2"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// dihedralDraw lists the 8 symmetries of the square in the order the training augmentation draws them
// (k = R^(k%4) after F^(k/4), R = rotate 90 clockwise, F = mirror left-right), so a seed keeps giving the same
// training batches as before the transforms moved to package heatmap.
var dihedralDraw = [8]heatmap.Transform{heatmap.NoTransform, heatmap.Rot90, heatmap.Rot180, heatmap.Rot270,
	heatmap.FlipH, heatmap.FlipAntiDiag, heatmap.FlipV, heatmap.FlipDiag}

// dihedral applies transform number k (0..7, dihedralDraw's order) to a size x size image.
func dihedral(pix []float32, size, k int) []float32 { return dihedralDraw[k].Apply(pix, size, size) }

// augment returns a randomly transformed copy of a size x size image with values in [0,1], suited to steel
// texture (no orientation or scale is privileged): one of the 8 dihedral transforms, a random square crop of
// 85-100% of the side resized back (bilinear), contrast around the mean and brightness each scaled by a factor
// in [0.9, 1.1], and clipping to [0,1]. It draws exactly 6 numbers from rng, so the result is a pure function
// of the input and rng's state; pix is not modified.
func augment(pix []float32, size int, rng *rand.Rand) []float32 {
	k := rng.IntN(8)
	scale := 0.85 + 0.15*rng.Float64()
	fx, fy := rng.Float64(), rng.Float64()
	contrast := 0.9 + 0.2*rng.Float64()
	brightness := 0.9 + 0.2*rng.Float64()

	out := dihedral(pix, size, k)
	out = cropResize(out, size, scale, fx, fy)

	var mean float64
	for _, v := range out {
		mean += float64(v)
	}
	if len(out) > 0 {
		mean /= float64(len(out))
	}
	for i, v := range out {
		w := (float64(v)-mean)*contrast + mean*brightness
		if !(w > 0) { // also maps NaN to 0
			w = 0
		} else if w > 1 {
			w = 1
		}
		out[i] = float32(w)
	}
	return out
}

// cropResize takes the square of side scale*size at fraction (fx, fy) of the free margin and resamples it
// bilinearly to size x size.
func cropResize(pix []float32, size int, scale, fx, fy float64) []float32 {
	side := scale * float64(size)
	x0 := fx * (float64(size) - side)
	y0 := fy * (float64(size) - side)
	step := side / float64(size)
	out := make([]float32, len(pix))
	last := float64(size - 1)
	for y := 0; y < size; y++ {
		sy := min(max(y0+(float64(y)+0.5)*step-0.5, 0), last)
		iy := int(sy)
		iy1 := min(iy+1, size-1)
		wy := float32(sy - float64(iy))
		for x := 0; x < size; x++ {
			sx := min(max(x0+(float64(x)+0.5)*step-0.5, 0), last)
			ix := int(sx)
			ix1 := min(ix+1, size-1)
			wx := float32(sx - float64(ix))
			top := pix[iy*size+ix]*(1-wx) + pix[iy*size+ix1]*wx
			bot := pix[iy1*size+ix]*(1-wx) + pix[iy1*size+ix1]*wx
			out[y*size+x] = top*(1-wy) + bot*wy
		}
	}
	return out
}
