package synth

import (
	"math"
	"math/rand/v2"
)

// shape returns the pixels (w*h, row-major) of one defect of the class, placed at random inside the image.
// Sizes scale with the shorter side s; strokes and dots are thickened by k = max(1, s/96) so that they stay
// visible after large images are resized to the model's input.
func shape(rng *rand.Rand, class, w, h int) []bool {
	s := float64(min(w, h))
	k := max(1, s/96)
	cx, cy := 0.15*float64(w)+0.7*float64(w)*rng.Float64(), 0.15*float64(h)+0.7*float64(h)*rng.Float64()
	switch ClassNames[class] {
	case "blob":
		return blob(rng, w, h, cx, cy, s*(0.08+0.08*rng.Float64()))
	case "line":
		return line(rng, w, h, cx, cy, k)
	case "speckle":
		return speckle(rng, w, h, cx, cy, s*(0.10+0.08*rng.Float64()), k)
	case "scale":
		return scale(rng, w, h, cx, cy)
	case "ring":
		return ring(w, h, cx, cy, s*(0.09+0.08*rng.Float64()), k*(1.5+rng.Float64()))
	default: // crack
		return crack(rng, w, h, cx, cy, s, k)
	}
}

// fill marks the pixels whose centre satisfies in(x, y).
func fill(w, h int, in func(x, y float64) bool) []bool {
	m := make([]bool, w*h)
	for y := range h {
		for x := range w {
			m[y*w+x] = in(float64(x)+0.5, float64(y)+0.5)
		}
	}
	return m
}

// blob: a filled ellipse with a wavy (low-frequency) border.
func blob(rng *rand.Rand, w, h int, cx, cy, r float64) []bool {
	ry := r * (0.6 + 0.6*rng.Float64())
	var amp, ph [3]float64
	for k := range amp {
		amp[k], ph[k] = 0.12*rng.Float64(), 2*math.Pi*rng.Float64()
	}
	return fill(w, h, func(x, y float64) bool {
		dx, dy := (x-cx)/r, (y-cy)/ry
		th := math.Atan2(dy, dx)
		edge := 1.0
		for k := range amp {
			edge += amp[k] * math.Sin(float64(k+2)*th+ph[k])
		}
		return dx*dx+dy*dy < edge*edge
	})
}

// segDist is the distance from (x,y) to the segment (ax,ay)-(bx,by).
func segDist(x, y, ax, ay, bx, by float64) float64 {
	vx, vy := bx-ax, by-ay
	t := 0.0
	if l2 := vx*vx + vy*vy; l2 > 0 {
		t = min(1, max(0, ((x-ax)*vx+(y-ay)*vy)/l2))
	}
	return math.Hypot(x-ax-t*vx, y-ay-t*vy)
}

// line: a straight scratch 35-70% of the image width long, 1-2.5 px wide, at any angle.
func line(rng *rand.Rand, w, h int, cx, cy, k float64) []bool {
	half := float64(w) * (0.175 + 0.175*rng.Float64())
	th := math.Pi * rng.Float64()
	ax, ay, bx, by := cx-half*math.Cos(th), cy-half*math.Sin(th), cx+half*math.Cos(th), cy+half*math.Sin(th)
	width := k * (0.5 + 0.75*rng.Float64())
	return fill(w, h, func(x, y float64) bool { return segDist(x, y, ax, ay, bx, by) < width })
}

// speckle: 20-40 small dots scattered (Gaussian) around a centre.
func speckle(rng *rand.Rand, w, h int, cx, cy, r, k float64) []bool {
	m := make([]bool, w*h)
	for range 20 + rng.IntN(21) {
		dx, dy, rad := cx+0.5*r*rng.NormFloat64(), cy+0.5*r*rng.NormFloat64(), k*(0.8+1.2*rng.Float64())
		for y := max(0, int(dy-rad)-1); y < min(h, int(dy+rad)+2); y++ {
			for x := max(0, int(dx-rad)-1); x < min(w, int(dx+rad)+2); x++ {
				if math.Hypot(float64(x)+0.5-dx, float64(y)+0.5-dy) < rad {
					m[y*w+x] = true
				}
			}
		}
	}
	return m
}

// scale: an elongated patch (along the rolling direction x) of coarse flakes covering about half of it.
func scale(rng *rand.Rand, w, h int, cx, cy float64) []bool {
	hw, hh := float64(w)*(0.12+0.08*rng.Float64()), float64(h)*(0.08+0.05*rng.Float64())
	flakes := valueNoise(rng, w, h, max(4, w/6), max(4, h/6)) // flakes ~6 px: coarser than speckle dots
	return fill(w, h, func(x, y float64) bool {
		dx, dy := (x-cx)/hw, (y-cy)/hh
		d := dx*dx*dx*dx + dy*dy*dy*dy // superellipse: a rounded rectangle
		xi, yi := min(w-1, int(x)), min(h-1, int(y))
		return d < 1 && flakes[yi*w+xi] > 0.5
	})
}

// ring: an annulus of radius r and half-thickness t.
func ring(w, h int, cx, cy, r, t float64) []bool {
	return fill(w, h, func(x, y float64) bool { return math.Abs(math.Hypot(x-cx, y-cy)-r) < t })
}

// crack: a jagged random walk with one branch, 1-1.5 px wide.
func crack(rng *rand.Rand, w, h int, cx, cy, s, k float64) []bool {
	type seg struct{ ax, ay, bx, by float64 }
	var segs []seg
	walk := func(x, y, dir float64, steps int) {
		for range steps {
			dir += 0.6 * (rng.Float64() - 0.5)
			step := s * (0.03 + 0.03*rng.Float64())
			nx, ny := x+step*math.Cos(dir), y+step*math.Sin(dir)
			segs = append(segs, seg{x, y, nx, ny})
			x, y = nx, ny
		}
	}
	dir := 2 * math.Pi * rng.Float64()
	walk(cx, cy, dir, 6+rng.IntN(5))
	walk(cx, cy, dir+math.Pi, 6+rng.IntN(5))
	b := segs[rng.IntN(len(segs))]
	walk(b.bx, b.by, dir+math.Pi/2*(2*float64(rng.IntN(2))-1), 3+rng.IntN(4))
	width := k * (0.6 + 0.5*rng.Float64())
	return fill(w, h, func(x, y float64) bool {
		for _, sg := range segs {
			if segDist(x, y, sg.ax, sg.ay, sg.bx, sg.by) < width {
				return true
			}
		}
		return false
	})
}
