package metrics

import (
	"math"
	"math/rand/v2"
	"sort"

	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// ROAD (Rong et al. 2022, "A Consistent and Efficient Evaluation Strategy for Attribution Methods"), as
// pytorch-grad-cam's metrics/road.py implements it: the pixels to remove are filled by noisy linear imputation
// (each one the weighted mean of its 8 neighbours, 1/6 axial and 1/12 diagonal, solved as one linear system, plus
// N(0, 0.01^2) noise), so removal leaks no mask shape; the score is the change of the class probability,
// p(imputed) - p(image), averaged over the percentiles 10, 20, ..., 90.
//
// Most relevant first (MoRF) at percentile q keeps the pixels whose map value is below the q-th percentile and
// imputes the rest (a faithful map makes the probability fall: lower is better); least relevant first (LeRF)
// imputes the pixels whose 1 - map is at or above the q-th percentile of 1 - map (a faithful map keeps the
// probability: higher is better). pytorch-grad-cam's ROADCombined is (LeRF - MoRF) / 2.

// ROADPercentiles are the percentiles ROAD averages over (pytorch-grad-cam's default).
var ROADPercentiles = []float64{10, 20, 30, 40, 50, 60, 70, 80, 90}

// ROADNoise is the std of the noise added to imputed pixels (pytorch-grad-cam's NoisyLinearImputer default).
const ROADNoise = 0.01

// ROADScores are one image's ROAD results.
type ROADScores struct {
	MoRF, LeRF float64 // mean over ROADPercentiles of p(imputed) - p(image)
}

// ROADBatch computes ROAD for each image with its map (in [0,1]) and class; seed makes the imputation noise
// reproducible. One Predictor call for all images and percentiles.
func ROADBatch(pred heatmap.Predictor, imgs, maps [][]float32, classes []int, size int, seed uint64) ([]ROADScores, error) {
	if len(imgs) != len(maps) || len(imgs) != len(classes) {
		return nil, errors.Errorf("metrics.ROADBatch: %d images, %d maps, %d classes", len(imgs), len(maps), len(classes))
	}
	rng := rand.New(rand.NewPCG(seed, 0x20ad))
	per := 1 + 2*len(ROADPercentiles)
	batch := make([][]float32, 0, per*len(imgs))
	for i, img := range imgs {
		if len(img) != size*size || len(maps[i]) != size*size {
			return nil, errors.Errorf("metrics.ROADBatch: image %d or its map is not %dx%d", i, size, size)
		}
		batch = append(batch, img)
		inv := make([]float32, len(maps[i]))
		for j, v := range maps[i] {
			inv[j] = 1 - heatmap.Finite(v)
		}
		for _, q := range ROADPercentiles {
			batch = append(batch, Impute(img, size, keepBelowPercentile(maps[i], q), ROADNoise, rng))
			batch = append(batch, Impute(img, size, keepBelowPercentile(inv, q), ROADNoise, rng))
		}
	}
	probs, err := pred(batch)
	if err != nil {
		return nil, err
	}
	out := make([]ROADScores, len(imgs))
	for i, k := range classes {
		p := probs[i*per:]
		y := float64(p[0][k])
		for qi := range ROADPercentiles {
			out[i].MoRF += float64(p[1+2*qi][k]) - y
			out[i].LeRF += float64(p[2+2*qi][k]) - y
		}
		out[i].MoRF /= float64(len(ROADPercentiles))
		out[i].LeRF /= float64(len(ROADPercentiles))
	}
	return out, nil
}

// keepBelowPercentile is pytorch-grad-cam's RemoveMostRelevantFirst mask: true (kept) where m < the q-th percentile
// of m (numpy's linear interpolation); the other pixels are imputed.
func keepBelowPercentile(m []float32, q float64) []bool {
	v := make([]float64, len(m))
	for i, x := range m {
		v[i] = float64(heatmap.Finite(x))
	}
	sort.Float64s(v)
	pos := q / 100 * float64(len(v)-1)
	lo := int(math.Floor(pos))
	th := v[lo]
	if lo+1 < len(v) {
		th += (pos - float64(lo)) * (v[lo+1] - v[lo])
	}
	keep := make([]bool, len(m))
	for i, x := range m {
		keep[i] = float64(heatmap.Finite(x)) < th
	}
	return keep
}

// roadNeighbours are the imputation weights of the 8 neighbours (dy, dx, weight).
var roadNeighbours = [8]struct {
	dy, dx int
	w      float64
}{{1, 1, 1.0 / 12}, {0, 1, 1.0 / 6}, {-1, 1, 1.0 / 12}, {1, -1, 1.0 / 12}, {0, -1, 1.0 / 6}, {-1, -1, 1.0 / 12},
	{1, 0, 1.0 / 6}, {-1, 0, 1.0 / 6}}

// Impute returns a copy of the size x size image whose pixels with keep false are replaced by ROAD's noisy linear
// imputation: the values x solving, for every imputed pixel i, (sum of its in-image neighbours' weights) x_i =
// sum_j w_j x_j over its neighbours (known ones at their image value), plus Gaussian noise of std noise (rng may be
// nil when noise is 0). The system is symmetric positive definite when every imputed region touches a kept pixel;
// it is solved by conjugate gradients to a relative residual of 1e-5.
func Impute(img []float32, size int, keep []bool, noise float64, rng *rand.Rand) []float32 {
	idx := make([]int, len(img)) // pixel -> unknown index, -1 when kept
	var unknowns []int
	for p := range img {
		idx[p] = -1
		if !keep[p] {
			idx[p] = len(unknowns)
			unknowns = append(unknowns, p)
		}
	}
	out := append([]float32(nil), img...)
	if len(unknowns) == 0 {
		return out
	}
	diag := make([]float64, len(unknowns))
	b := make([]float64, len(unknowns))
	for u, p := range unknowns {
		y, x := p/size, p%size
		for _, nb := range roadNeighbours {
			ny, nx := y+nb.dy, x+nb.dx
			if ny < 0 || nx < 0 || ny >= size || nx >= size {
				continue
			}
			diag[u] += nb.w
			if q := ny*size + nx; idx[q] < 0 {
				b[u] += nb.w * float64(img[q])
			}
		}
	}
	// M x = b with (M x)_u = diag_u x_u - sum over unknown neighbours w x_v.
	apply := func(x, y []float64) {
		for u, p := range unknowns {
			r, c := p/size, p%size
			s := diag[u] * x[u]
			for _, nb := range roadNeighbours {
				ny, nx := r+nb.dy, c+nb.dx
				if ny < 0 || nx < 0 || ny >= size || nx >= size {
					continue
				}
				if v := idx[ny*size+nx]; v >= 0 {
					s -= nb.w * x[v]
				}
			}
			y[u] = s
		}
	}
	x := conjugateGradient(apply, b, 1e-5, 10*len(b)+100)
	for u, p := range unknowns {
		v := x[u]
		if noise > 0 {
			v += noise * rng.NormFloat64()
		}
		out[p] = float32(v)
	}
	return out
}

// conjugateGradient solves M x = b for a symmetric positive definite M given as apply(x, Mx), from x = 0, until
// |r| <= tol |b| or maxIter iterations.
func conjugateGradient(apply func(x, y []float64), b []float64, tol float64, maxIter int) []float64 {
	n := len(b)
	x, r, p, mp := make([]float64, n), append([]float64(nil), b...), append([]float64(nil), b...), make([]float64, n)
	dot := func(a, c []float64) float64 {
		var s float64
		for i := range a {
			s += a[i] * c[i]
		}
		return s
	}
	rr, bb := dot(r, r), dot(b, b)
	for it := 0; it < maxIter && rr > tol*tol*bb && rr > 0; it++ {
		apply(p, mp)
		alpha := rr / dot(p, mp)
		for i := range x {
			x[i] += alpha * p[i]
			r[i] -= alpha * mp[i]
		}
		next := dot(r, r)
		for i := range p {
			p[i] = r[i] + next/rr*p[i]
		}
		rr = next
	}
	return x
}
