package lime

import (
	"fmt"
	"math"
	"sort"
)

// SLICOptions configures SLIC superpixels on a grayscale image.
// Zero values select the defaults.
type SLICOptions struct {
	// NumSegments is the requested number of superpixels (the result is close to it,
	// not exact). 0 -> 75.
	NumSegments int
	// Compactness is Achanta's m: the weight of spatial distance against intensity
	// distance, with intensities contrast-stretched to [0,100] like L in CIELAB, so
	// the paper's range 1..40 applies. Larger -> more regular, grid-like segments.
	// 0 -> 10.
	Compactness float64
	// Sigma is the std (pixels) of the Gaussian pre-blur; steel texture is noisy and
	// unblurred SLIC follows grain instead of defects. 0 -> 1; < 0 -> no blur.
	Sigma float64
	// MaxIter is the number of k-means iterations. 0 -> 10 (the paper's choice).
	MaxIter int
}

func (o SLICOptions) withDefaults() SLICOptions {
	if o.NumSegments <= 0 {
		o.NumSegments = 75
	}
	if o.Compactness <= 0 {
		o.Compactness = 15
	}
	if o.Sigma == 0 {
		o.Sigma = 1
	}
	if o.MaxIter <= 0 {
		o.MaxIter = 10
	}
	return o
}

// SLIC segments a row-major w*h grayscale image into superpixels (Achanta et al. 2012,
// "SLIC Superpixels Compared to State-of-the-Art Superpixel Methods") using intensity
// and position. Non-finite pixels are treated as 0. Connectivity is enforced afterwards:
// every superpixel is 4-connected, and components smaller than a quarter of the nominal
// superpixel area are merged into the adjacent one with the closest mean intensity.
// It returns labels (len w*h, values 0..n-1, numbered in raster order of first
// appearance) and n.
func SLIC(img []float32, w, h int, opts SLICOptions) (labels []int32, n int, err error) {
	if w <= 0 || h <= 0 || len(img) != w*h {
		return nil, 0, fmt.Errorf("lime: SLIC: image has %d pixels, want %dx%d=%d", len(img), w, h, w*h)
	}
	opts = opts.withDefaults()
	npix := w * h
	inten := slicIntensity(img, w, h, opts.Sigma)
	centers := initialCenters(inten, w, h, min(opts.NumSegments, npix))
	lab := slicIterate(inten, w, h, centers, opts)
	minSize := max(1, int(float64(npix)/float64(len(centers))/4))
	labels, n = enforceConnectivity(lab, inten, w, h, minSize)
	return labels, n, nil
}

// slicIntensity is the blurred image contrast-stretched to [0,100]: NEU images vary a lot in global contrast,
// and the compactness trade-off should not depend on it.
func slicIntensity(img []float32, w, h int, sigma float64) []float64 {
	inten := make([]float64, len(img))
	for i, v := range img {
		inten[i] = finite64(float64(v))
	}
	if sigma > 0 {
		inten = gaussianBlur(inten, w, h, sigma)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range inten {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if hi-lo > 1e-9 {
		s := 100 / (hi - lo)
		for i := range inten {
			inten[i] = (inten[i] - lo) * s
		}
	} else {
		clear(inten)
	}
	return inten
}

// center is a SLIC cluster centre: intensity and position.
type center struct{ l, x, y float64 }

// initialCenters places about k centres on a grid with step sqrt(N/k), each moved to the lowest gradient in its
// 3x3 neighbourhood so that no centre starts on an edge.
func initialCenters(inten []float64, w, h, k int) []center {
	step := math.Sqrt(float64(w*h) / float64(k))
	nx := max(1, int(math.Round(float64(w)/step)))
	ny := max(1, int(math.Round(float64(h)/step)))
	centers := make([]center, 0, nx*ny)
	for j := range ny {
		for i := range nx {
			cx := int((float64(i) + 0.5) * float64(w) / float64(nx))
			cy := int((float64(j) + 0.5) * float64(h) / float64(ny))
			bx, by, bg := cx, cy, math.Inf(1)
			for dy := -1; dy <= 1; dy++ {
				for dx := -1; dx <= 1; dx++ {
					x, y := cx+dx, cy+dy
					if x < 0 || y < 0 || x >= w || y >= h {
						continue
					}
					if g := gradient2(inten, w, h, x, y); g < bg {
						bx, by, bg = x, y, g
					}
				}
			}
			centers = append(centers, center{inten[by*w+bx], float64(bx), float64(by)})
		}
	}
	return centers
}

// slicIterate runs opts.MaxIter rounds of assignment (each centre searches a 2S x 2S window) and centre update;
// it returns the labels (-1 where no centre reached).
func slicIterate(inten []float64, w, h int, centers []center, opts SLICOptions) []int32 {
	npix := w * h
	// S from the actual grid, so the spatial normalisation matches the centre spacing.
	S := math.Sqrt(float64(npix) / float64(len(centers)))
	m2s2 := opts.Compactness * opts.Compactness / (S * S)
	win := int(math.Ceil(S))
	lab := make([]int32, npix)
	dist := make([]float64, npix)
	for range opts.MaxIter {
		for i := range dist {
			dist[i] = math.Inf(1)
			lab[i] = -1
		}
		for ci, c := range centers {
			x0, x1 := max(0, int(c.x)-win), min(w-1, int(c.x)+win)
			y0, y1 := max(0, int(c.y)-win), min(h-1, int(c.y)+win)
			for y := y0; y <= y1; y++ {
				dy := float64(y) - c.y
				row := y * w
				for x := x0; x <= x1; x++ {
					dx := float64(x) - c.x
					dl := inten[row+x] - c.l
					if d := dl*dl + (dx*dx+dy*dy)*m2s2; d < dist[row+x] {
						dist[row+x] = d
						lab[row+x] = int32(ci)
					}
				}
			}
		}
		updateCenters(centers, lab, inten, w, h)
	}
	return lab
}

// updateCenters moves each centre to the mean intensity and position of its pixels.
func updateCenters(centers []center, lab []int32, inten []float64, w, h int) {
	sums := make([]center, len(centers))
	counts := make([]int, len(centers))
	for y := range h {
		for x := range w {
			p := y*w + x
			if l := lab[p]; l >= 0 {
				sums[l].l += inten[p]
				sums[l].x += float64(x)
				sums[l].y += float64(y)
				counts[l]++
			}
		}
	}
	for ci := range centers {
		if n := float64(counts[ci]); n > 0 {
			centers[ci] = center{sums[ci].l / n, sums[ci].x / n, sums[ci].y / n}
		}
	}
}

// gradient2 is the squared central-difference gradient magnitude (clamped borders).
func gradient2(v []float64, w, h, x, y int) float64 {
	gx := v[y*w+min(x+1, w-1)] - v[y*w+max(x-1, 0)]
	gy := v[min(y+1, h-1)*w+x] - v[max(y-1, 0)*w+x]
	return gx*gx + gy*gy
}

// enforceConnectivity splits every label into 4-connected components and merges the
// components smaller than minSize into the most similar (closest mean intensity)
// adjacent component, smallest first. Pixels with label -1 (never reached by a centre)
// form components like any other label.
func enforceConnectivity(lab []int32, inten []float64, w, h, minSize int) ([]int32, int) {
	cs := labelComponents(lab, inten, w, h)
	parent := cs.mergeSmall(w, h, minSize)
	return relabel(cs.comp, parent)
}

// components are the 4-connected components of a label image: each pixel's component, the pixels of each and
// their intensity sums.
type components struct {
	comp    []int32
	members [][]int32
	sum     []float64
}

func labelComponents(lab []int32, inten []float64, w, h int) *components {
	npix := w * h
	comp := make([]int32, npix)
	for i := range comp {
		comp[i] = -1
	}
	var members [][]int32
	var sum []float64
	queue := make([]int32, 0, 256)
	for p := range npix {
		if comp[p] >= 0 {
			continue
		}
		id := int32(len(members))
		comp[p] = id
		queue = append(queue[:0], int32(p))
		for qi := 0; qi < len(queue); qi++ {
			q := int(queue[qi])
			x, y := q%w, q/w
			for _, nb := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if nb[0] < 0 || nb[1] < 0 || nb[0] >= w || nb[1] >= h {
					continue
				}
				r := nb[1]*w + nb[0]
				if comp[r] < 0 && lab[r] == lab[p] {
					comp[r] = id
					queue = append(queue, int32(r))
				}
			}
		}
		pix := append([]int32(nil), queue...)
		s := 0.0
		for _, q := range pix {
			s += inten[q]
		}
		members = append(members, pix)
		sum = append(sum, s)
	}
	return &components{comp: comp, members: members, sum: sum}
}

// mergeSmall merges every component smaller than minSize, smallest first, into the neighbour of closest mean
// intensity; it returns the union-find parents.
func (cs *components) mergeSmall(w, h, minSize int) []int32 {
	comp, members, sum := cs.comp, cs.members, cs.sum
	nc := len(members)
	parent := make([]int32, nc)
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(i int32) int32 {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	order := make([]int, nc)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return len(members[order[a]]) < len(members[order[b]]) })
	border := map[int32]int{}
	for _, c := range order {
		r := find(int32(c))
		if len(members[r]) >= minSize {
			continue
		}
		clear(border)
		for _, q := range members[r] {
			x, y := int(q)%w, int(q)/w
			for _, nb := range [4][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
				if nb[0] < 0 || nb[1] < 0 || nb[0] >= w || nb[1] >= h {
					continue
				}
				if o := find(comp[nb[1]*w+nb[0]]); o != r {
					border[o]++
				}
			}
		}
		if len(border) == 0 {
			continue // the whole image is one component
		}
		mean := sum[r] / float64(len(members[r]))
		best, bestD, bestB := int32(-1), math.Inf(1), 0
		for o, b := range border {
			d := math.Abs(sum[o]/float64(len(members[o])) - mean)
			// Ties (flat images) go to the longest shared border, then the lowest id,
			// so the result does not depend on map iteration order.
			if d < bestD-1e-12 || (math.Abs(d-bestD) <= 1e-12 && (b > bestB || (b == bestB && o < best))) {
				best, bestD, bestB = o, d, b
			}
		}
		parent[r] = best
		members[best] = append(members[best], members[r]...)
		sum[best] += sum[r]
		members[r] = nil
	}
	return parent
}

// relabel numbers the merged components 0..n-1 in order of first appearance.
func relabel(comp, parent []int32) ([]int32, int) {
	find := func(i int32) int32 {
		for parent[i] != i {
			i = parent[i]
		}
		return i
	}
	npix := len(comp)
	out := make([]int32, npix)
	newID := make(map[int32]int32)
	for p := range npix {
		r := find(comp[p])
		id, ok := newID[r]
		if !ok {
			id = int32(len(newID))
			newID[r] = id
		}
		out[p] = id
	}
	return out, len(newID)
}

// gaussianBlur is a separable Gaussian filter with clamped (replicated) borders.
func gaussianBlur(v []float64, w, h int, sigma float64) []float64 {
	r := max(1, int(math.Ceil(3*sigma)))
	k := make([]float64, 2*r+1)
	s := 0.0
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		s += k[i]
	}
	for i := range k {
		k[i] /= s
	}
	tmp := make([]float64, len(v))
	for y := range h {
		row := y * w
		for x := range w {
			a := 0.0
			for i, kv := range k {
				xx := min(max(x+i-r, 0), w-1)
				a += kv * v[row+xx]
			}
			tmp[row+x] = a
		}
	}
	out := make([]float64, len(v))
	for y := range h {
		for x := range w {
			a := 0.0
			for i, kv := range k {
				yy := min(max(y+i-r, 0), h-1)
				a += kv * tmp[yy*w+x]
			}
			out[y*w+x] = a
		}
	}
	return out
}

// finite64 maps NaN to 0 and +-Inf to 1 / 0 (images are in [0,1]).
func finite64(v float64) float64 {
	switch {
	case math.IsNaN(v):
		return 0
	case math.IsInf(v, 1):
		return 1
	case math.IsInf(v, -1):
		return 0
	}
	return v
}
