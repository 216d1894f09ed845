package neu

import (
	"fmt"
	"math/rand/v2"
)

// Dihedral applies one of the 8 symmetries of the square to a row-major size x size image
// (index y*size+x) and returns a new slice. With R = rotate 90 degrees clockwise and F = mirror left-right,
// transform k is R^(k%4) applied after F^(k/4):
//
//	k=0 identity                      out(x,y) = in(x, y)
//	k=1 rotate 90 clockwise           out(x,y) = in(y, n-1-x)
//	k=2 rotate 180                    out(x,y) = in(n-1-x, n-1-y)
//	k=3 rotate 90 counter-clockwise   out(x,y) = in(n-1-y, x)
//	k=4 mirror left-right             out(x,y) = in(n-1-x, y)
//	k=5 mirror, then rotate 90 cw     out(x,y) = in(n-1-y, n-1-x)  (anti-diagonal transpose)
//	k=6 mirror, then rotate 180       out(x,y) = in(x, n-1-y)      (flip top-bottom)
//	k=7 mirror, then rotate 90 ccw    out(x,y) = in(y, x)          (transpose)
//
// InverseDihedral(Dihedral(p, n, k), n, k) == p. It panics when k is outside 0..7 or len(pix) != size*size.
func Dihedral(pix []float32, size int, k int) []float32 {
	if k < 0 || k > 7 {
		panic(fmt.Sprintf("neu.Dihedral: k=%d outside 0..7", k))
	}
	if size < 0 || len(pix) != size*size {
		panic(fmt.Sprintf("neu.Dihedral: len(pix)=%d is not size*size for size %d", len(pix), size))
	}
	n := size
	out := make([]float32, len(pix))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			sx, sy := x, y
			for r := 0; r < k%4; r++ {
				sx, sy = sy, n-1-sx
			}
			if k >= 4 {
				sx = n - 1 - sx
			}
			out[y*n+x] = pix[sy*n+sx]
		}
	}
	return out
}

// InverseDihedral undoes Dihedral(·, size, k): rotations invert to the opposite rotation, and the four
// mirrored transforms (k=4..7) are their own inverses. TTA uses it to bring a map computed on a transformed
// image back onto the original.
func InverseDihedral(pix []float32, size int, k int) []float32 {
	return Dihedral(pix, size, InverseDihedralIndex(k))
}

// InverseDihedralIndex returns j such that Dihedral with j undoes Dihedral with k.
func InverseDihedralIndex(k int) int {
	if k >= 0 && k < 4 {
		return (4 - k) % 4
	}
	return k
}

// Augment returns a randomly transformed copy of a size x size image with values in [0,1], suited to steel
// texture (no orientation or scale is privileged): one of the 8 dihedral transforms, a random square crop of
// 85-100% of the side resized back (bilinear), contrast around the mean and brightness each scaled by a factor
// in [0.9, 1.1], and clipping to [0,1]. It draws exactly 6 numbers from rng, so the result is a pure function
// of the input and rng's state; pix is not modified.
func Augment(pix []float32, size int, rng *rand.Rand) []float32 {
	k := rng.IntN(8)
	scale := 0.85 + 0.15*rng.Float64()
	fx, fy := rng.Float64(), rng.Float64()
	contrast := 0.9 + 0.2*rng.Float64()
	brightness := 0.9 + 0.2*rng.Float64()

	out := Dihedral(pix, size, k)
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
