package heatmap

// Transform is one of the 8 symmetries of the square (dihedral group D4), applied to row-major square images/maps.
// Transform t maps pixel (x,y) of the source to position t.dst(x,y) of the result.
type Transform int

const (
	NoTransform  Transform = iota
	FlipH                  // mirror left-right
	FlipV                  // mirror top-bottom
	Rot180                 // FlipH then FlipV
	FlipDiag               // swap x and y (transpose)
	Rot90                  // clockwise quarter turn
	Rot270                 // counter-clockwise quarter turn
	FlipAntiDiag           // mirror about the anti-diagonal
)

// Flips are the transforms that only mirror axes (valid for non-square maps too).
var Flips = []Transform{NoTransform, FlipH, FlipV, Rot180}

// Dihedral are all 8 symmetries of the square.
var Dihedral = []Transform{NoTransform, FlipH, FlipV, Rot180, FlipDiag, Rot90, Rot270, FlipAntiDiag}

// Swaps reports whether the transform exchanges the x and y axes.
func (t Transform) Swaps() bool { return t >= FlipDiag }

// dst gives where source pixel (x,y) of a w x h map lands, and the result's width.
func (t Transform) dst(x, y, w, h int) (int, int) {
	switch t {
	case FlipH:
		return w - 1 - x, y
	case FlipV:
		return x, h - 1 - y
	case Rot180:
		return w - 1 - x, h - 1 - y
	case FlipDiag:
		return y, x
	case Rot90: // clockwise: (x,y) -> (h-1-y, x) in a h-wide result
		return h - 1 - y, x
	case Rot270:
		return y, w - 1 - x
	case FlipAntiDiag:
		return h - 1 - y, w - 1 - x
	default:
		return x, y
	}
}

// Inverse returns the transform undoing t.
func (t Transform) Inverse() Transform {
	switch t {
	case Rot90:
		return Rot270
	case Rot270:
		return Rot90
	default:
		return t // flips, transposes and Rot180 are involutions
	}
}

// Apply returns t applied to the row-major w x h map m (result is h x w when t swaps axes).
func (t Transform) Apply(m []float32, w, h int) []float32 {
	out := make([]float32, len(m))
	ow := w
	if t.Swaps() {
		ow = h
	}
	for y := range h {
		for x := range w {
			dx, dy := t.dst(x, y, w, h)
			out[dy*ow+dx] = m[y*w+x]
		}
	}
	return out
}
