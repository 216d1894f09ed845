package chart

import (
	"image"
	"image/color"
	"math"
	"slices"

	"github.com/neucam/neucam/app/report"
	"github.com/neucam/neucam/gradcam/metrics"
)

// Training holds the curves of a training run as it goes: per step the moving averages of loss and accuracy, per
// epoch the validation accuracy (fed from resnet.TrainOptions.OnStep / OnEpoch).
type Training struct {
	Step, Loss, Acc []float64
	ValStep, ValAcc []float64
}

// Image draws the loss and the accuracies side by side.
func (t *Training) Image() *image.RGBA {
	loss := Line([]Series{{Name: "training loss (moving avg.)", X: t.Step, Y: t.Loss}},
		LineOptions{Title: "loss", XLabel: "step", Width: 460})
	acc := Line([]Series{
		{Name: "training batches (moving avg.)", X: t.Step, Y: t.Acc},
		{Name: "validation split", X: t.ValStep, Y: t.ValAcc, Points: true},
	}, LineOptions{Title: "accuracy", XLabel: "step", Width: 460, YMin: 0, YMax: 1, LegendBottomUp: true})
	return SideBySide(10, loss, acc)
}

// LocalizationBars draws one localization metric of a report per class (groups, then the mean) for every method
// and baseline (bars; baselines in gray at the right of each group).
func LocalizationBars(r *report.Results, metric, title string, yMin, yMax float64) (*image.RGBA, error) {
	baselines := []string{metrics.BaselineUniform, metrics.BaselineCenterGaussian, metrics.BaselineRandom}
	series := append(slices.Clone(r.Methods), baselines...)
	groups := append(slices.Clone(r.Classes), metrics.Mean)
	values := make([][]float64, len(series))
	for s, name := range series {
		for _, g := range groups {
			v, ok := r.Localization[name][metric][g]
			if !ok {
				v = math.NaN()
			}
			values[s] = append(values[s], v)
		}
	}
	colors := map[string]color.RGBA{}
	for i, b := range baselines {
		colors[b] = Grays[i]
	}
	return Bars(groups, series, values, BarOptions{Title: title, Colors: colors, YMin: yMin, YMax: yMax, Width: 980, Height: 300})
}
