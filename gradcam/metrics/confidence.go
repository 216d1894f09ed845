package metrics

import (
	"math"
	"slices"

	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// Confidence holds Chattopadhyay et al.'s (2018, Grad-CAM++) confidence metrics of one explanation: the model's
// probability of the class on the image (Y) and on the image multiplied by its map in [0,1] (O, the "explanation
// map" E = x * L).
type Confidence struct {
	Y, O float64
	// Drop is max(0, Y - O) / Y: Average Drop is its mean over images (lower is better; the paper reports %).
	Drop float64
	// Increase is 1 when O > Y: Increase in Confidence is its mean (higher is better; the paper reports %).
	Increase float64
}

// ConfidenceBatch computes Confidence for each image with its map (values in [0,1], e.g. a normalised CAM) and
// class, in one Predictor call. pytorch-grad-cam's DropInConfidence is max(0, Y - O) without the division by Y and
// on its target's score (by default the logit); this follows the paper.
func ConfidenceBatch(pred heatmap.Predictor, imgs, maps [][]float32, classes []int) ([]Confidence, error) {
	if len(imgs) != len(maps) || len(imgs) != len(classes) {
		return nil, errors.Errorf("metrics.ConfidenceBatch: %d images, %d maps, %d classes", len(imgs), len(maps), len(classes))
	}
	batch := make([][]float32, 0, 2*len(imgs))
	for i, img := range imgs {
		if len(maps[i]) != len(img) {
			return nil, errors.Errorf("metrics.ConfidenceBatch: image %d has %d pixels, its map %d", i, len(img), len(maps[i]))
		}
		e := make([]float32, len(img))
		for j, v := range img {
			e[j] = v * float32(clamp01(float64(heatmap.Finite(maps[i][j]))))
		}
		batch = append(batch, img, e)
	}
	probs, err := pred(batch)
	if err != nil {
		return nil, err
	}
	out := make([]Confidence, len(imgs))
	for i, k := range classes {
		y, o := float64(probs[2*i][k]), float64(probs[2*i+1][k])
		c := Confidence{Y: y, O: o}
		if y > 0 {
			c.Drop = math.Max(0, y-o) / y
		}
		if o > y {
			c.Increase = 1
		}
		out[i] = c
	}
	return out, nil
}

func clamp01(v float64) float64 { return math.Min(1, math.Max(0, v)) }

// Sparseness is the Gini index of the map's absolute values (Chalasani et al. 2020; Quantus' Sparseness): 0 for a
// uniform map, approaching 1 when all the mass sits on one pixel. An all-zero map scores 0. A measure of how
// concentrated (simple) an explanation is, not of whether it is right.
func Sparseness(m []float32) float64 {
	v := make([]float64, len(m))
	var sum float64
	for i, x := range m {
		v[i] = math.Abs(float64(heatmap.Finite(x)))
		sum += v[i]
	}
	n := float64(len(v))
	if sum == 0 || n == 0 {
		return 0
	}
	slices.Sort(v)
	var acc float64
	for i, x := range v {
		acc += (2*float64(i+1) - n - 1) * x
	}
	return acc / (n * sum)
}
