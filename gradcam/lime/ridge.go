package lime

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// Fit is one weighted ridge regression (sklearn's Ridge(alpha).fit(X, y, sample_weight)
// as lime uses it): the intercept is not penalised.
type Fit struct {
	Coef      []float64 // one per column of X (per superpixel)
	Intercept float64
	Score     float64 // weighted R^2 on the fitting data (sklearn's score with sample_weight)
	LocalPred float64 // prediction for row 0 of X (in LIME the unperturbed all-ones sample)
}

// FitRidge fits, for every column k of Y, the minimiser of
//
//	sum_i w_i (Y[i][k] - b0 - X[i].b)^2 + alpha |b|^2
//
// X is n x d, Y is n x K, weights has n non-negative entries with a positive sum.
// All K fits share one Cholesky factorisation of X^T W X + alpha I (after weighted
// centring, which removes the unpenalised intercept), so explaining every class costs
// about as much as explaining one.
func FitRidge(X, Y [][]float64, weights []float64, alpha float64) ([]Fit, error) {
	n := len(X)
	if n == 0 || len(Y) != n || len(weights) != n {
		return nil, fmt.Errorf("lime: FitRidge: %d rows in X, %d in Y, %d weights; want equal and > 0", n, len(Y), len(weights))
	}
	if !(alpha > 0) || math.IsInf(alpha, 0) {
		return nil, fmt.Errorf("lime: FitRidge: alpha %v, want finite > 0", alpha)
	}
	d, K := len(X[0]), len(Y[0])
	if d == 0 || K == 0 {
		return nil, fmt.Errorf("lime: FitRidge: %d features, %d targets; want > 0", d, K)
	}
	sw := 0.0
	for i, w := range weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("lime: FitRidge: weight %d is %v, want finite >= 0", i, w)
		}
		if len(X[i]) != d || len(Y[i]) != K {
			return nil, fmt.Errorf("lime: FitRidge: row %d has %d features and %d targets, want %d and %d", i, len(X[i]), len(Y[i]), d, K)
		}
		sw += w
	}
	if !(sw > 0) {
		return nil, fmt.Errorf("lime: FitRidge: weights sum to %v, want > 0", sw)
	}

	xm := make([]float64, d)
	ym := make([]float64, K)
	for i, w := range weights {
		for j, v := range X[i] {
			xm[j] += w * v
		}
		for k, v := range Y[i] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("lime: FitRidge: Y[%d][%d] is %v", i, k, v)
			}
			ym[k] += w * v
		}
	}
	for j := range xm {
		xm[j] /= sw
	}
	for k := range ym {
		ym[k] /= sw
	}

	// sqrt(W)-scaled, weighted-centred design and targets.
	xs := mat.NewDense(n, d, nil)
	ys := mat.NewDense(n, K, nil)
	for i, w := range weights {
		s := math.Sqrt(w)
		for j, v := range X[i] {
			xs.Set(i, j, s*(v-xm[j]))
		}
		for k, v := range Y[i] {
			ys.Set(i, k, s*(v-ym[k]))
		}
	}
	var a mat.SymDense
	a.SymOuterK(1, xs.T())
	for j := range d {
		a.SetSym(j, j, a.At(j, j)+alpha)
	}
	var b mat.Dense
	b.Mul(xs.T(), ys)
	var ch mat.Cholesky
	if !ch.Factorize(&a) {
		return nil, fmt.Errorf("lime: FitRidge: X^T W X + %v I is not positive definite", alpha)
	}
	var beta mat.Dense
	if err := ch.SolveTo(&beta, &b); err != nil {
		return nil, fmt.Errorf("lime: FitRidge: solve: %w", err)
	}

	fits := make([]Fit, K)
	for k := range K {
		coef := make([]float64, d)
		icpt := ym[k]
		for j := range d {
			coef[j] = beta.At(j, k)
			icpt -= xm[j] * coef[j]
		}
		ssRes, ssTot := 0.0, 0.0
		local := 0.0
		for i, w := range weights {
			p := icpt
			for j, v := range X[i] {
				p += coef[j] * v
			}
			if i == 0 {
				local = p
			}
			r, t := Y[i][k]-p, Y[i][k]-ym[k]
			ssRes += w * r * r
			ssTot += w * t * t
		}
		fits[k] = Fit{Coef: coef, Intercept: icpt, Score: r2(ssRes, ssTot), LocalPred: local}
	}
	return fits, nil
}

// r2 follows sklearn's r2_score(force_finite=True): a constant target gives 1 when
// predicted perfectly and 0 otherwise, never NaN.
func r2(ssRes, ssTot float64) float64 {
	if ssTot <= 1e-300 {
		if ssRes <= 1e-300 {
			return 1
		}
		return 0
	}
	return 1 - ssRes/ssTot
}

// KernelWeights returns lime's sample weights sqrt(exp(-d^2/width^2)), where d is the
// cosine distance between each binary row and the all-ones vector (an all-zeros row is
// at distance 1, as in sklearn's pairwise cosine distance).
func KernelWeights(data [][]float64, width float64) []float64 {
	out := make([]float64, len(data))
	for i, row := range data {
		s, s2 := 0.0, 0.0
		for _, v := range row {
			s += v
			s2 += v * v
		}
		d := 1.0
		if s2 > 0 && len(row) > 0 {
			d = 1 - s/(math.Sqrt(s2)*math.Sqrt(float64(len(row))))
		}
		out[i] = math.Sqrt(math.Exp(-d * d / (width * width)))
	}
	return out
}
