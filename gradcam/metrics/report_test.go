package metrics

import (
	"encoding/json"
	"image"
	"strings"
	"testing"
)

func TestSuite(t *testing.T) {
	w, h := 200, 200
	classes := []string{"crazing", "inclusion", "patches"}
	s := NewSuite(classes, Options{}, 7)
	gts := [][]image.Rectangle{{image.Rect(0, 0, 100, 100)}, {image.Rect(50, 50, 150, 150)}}
	for c, gt := range gts {
		if err := s.Add("box", c, boxMap(w, h, gt...), w, h, gt); err != nil {
			t.Fatal(err)
		}
		if err := s.AddBaselines(c, w, h, gt); err != nil {
			t.Fatal(err)
		}
		if err := s.Accumulator("box").AddScore("deletion_auc", c, 0.1*float64(c+1)); err != nil {
			t.Fatal(err)
		}
	}
	// An image without boxes is skipped, not scored.
	if err := s.Add("box", 2, Uniform(w, h), w, h, nil); err != nil || s.Accumulator("box").Skipped != 1 {
		t.Fatalf("skip: err %v skipped %d", err, s.Accumulator("box").Skipped)
	}
	sc := s.Scores()
	want := map[string]map[string]map[string]float64{
		"box": {
			MetricEnergyInBox:  {"crazing": 1, "inclusion": 1, Mean: 1},
			MetricEnergyGain:   {"crazing": 1, "inclusion": 1, Mean: 1},
			MetricPointingGame: {"crazing": 1, "inclusion": 1, Mean: 1},
			MetricIoU:          {"crazing": 1, "inclusion": 1, Mean: 1},
			MetricMaskIoU:      {"crazing": 1, Mean: 1},
			MetricMaxBoxAcc:    {"crazing": 1, "inclusion": 1, Mean: 1},
			MetricMaxBoxAccV2:  {"crazing": 1, "inclusion": 1, Mean: 1},
			"deletion_auc":     {"crazing": 0.1, "inclusion": 0.2, Mean: 0.15},
		},
		BaselineUniform: {
			MetricEnergyInBox: {"crazing": 0.25, "inclusion": 0.25, Mean: 0.25},
			MetricEnergyGain:  {"crazing": 0, Mean: 0},
			// Uniform: every pixel is a maximum, so the score is the share of pixels within tolerance of the box.
			MetricPointingGame: {"crazing": nearShare(w, h, 0, 0, 99, 99), "inclusion": nearShare(w, h, 50, 50, 149, 149),
				Mean: (nearShare(w, h, 0, 0, 99, 99) + nearShare(w, h, 50, 50, 149, 149)) / 2},
			MetricIoU:         {"crazing": 0.25, "inclusion": 0.25, Mean: 0.25},
			MetricMaskIoU:     {Mean: 0.25},
			MetricMaxBoxAcc:   {"crazing": 0, Mean: 0},
			MetricMaxBoxAccV2: {Mean: 0},
		},
		BaselineCenterGaussian: {
			MetricPointingGame: {"crazing": 1, "inclusion": 1, Mean: 1}, // first max (99,99) is in both boxes
		},
	}
	for method, metrics := range want {
		for metric, row := range metrics {
			for k, v := range row {
				got, ok := sc[method][metric][k]
				if !ok {
					t.Errorf("%s %s[%s] missing", method, metric, k)
					continue
				}
				near(t, method+" "+metric+"["+k+"]", got, v, 1e-9)
			}
		}
	}
	if _, ok := sc["box"][MetricEnergyInBox]["patches"]; ok {
		t.Error("a class without images must have no value")
	}
	// The centre Gaussian puts more than the area fraction in the central box and, by symmetry, exactly a
	// quarter in the corner quadrant.
	g := sc[BaselineCenterGaussian][MetricEnergyInBox]
	near(t, "gaussian quadrant energy", g["crazing"], 0.25, 1e-6)
	if g["inclusion"] <= 0.5 {
		t.Errorf("center gaussian energy in the central box %v, want > 0.5", g["inclusion"])
	}
	if len(s.Accumulator(BaselineRandom).Images) != 2 {
		t.Error("random baseline not scored per image")
	}
	if _, err := json.Marshal(sc); err != nil {
		t.Fatal(err)
	}
	if err := s.Accumulator("box").AddScore(MetricMaxBoxAcc, 0, 1); err == nil {
		t.Error("AddScore of a dataset-level metric accepted")
	}
	if _, _, err := s.Accumulator("box").Add(9, Uniform(w, h), w, h, gts[0]); err == nil {
		t.Error("class out of range accepted")
	}

	var b strings.Builder
	if err := s.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	t.Log("\n" + out)
	blocks := strings.Split(strings.TrimSpace(out), "\n\n")
	if len(blocks) != len(LocalizationMetrics)+1 {
		t.Fatalf("%d blocks, want %d", len(blocks), len(LocalizationMetrics)+1)
	}
	if !strings.HasPrefix(blocks[0], MetricEnergyInBox+"\n") || !strings.HasPrefix(blocks[len(blocks)-1], "deletion_auc\n") {
		t.Error("metric blocks out of order")
	}
	for _, blk := range blocks {
		lines := strings.Split(blk, "\n")[1:] // after the metric name
		for _, l := range lines[1:] {
			if len(l) != len(lines[0]) {
				t.Errorf("misaligned line %q vs header %q", l, lines[0])
			}
		}
	}
	energy := strings.Split(blocks[0], "\n")
	if !strings.Contains(energy[1], "box-uniform") || !strings.Contains(energy[1], "center_gaussian") {
		t.Errorf("header %q", energy[1])
	}
	// Row "mean": box 1.000, uniform 0.250, ..., lift +0.750; row "patches": all missing.
	if l := energy[len(energy)-1]; !strings.HasPrefix(l, "mean") || !strings.Contains(l, "1.000") || !strings.HasSuffix(l, "+0.750") {
		t.Errorf("mean row %q", l)
	}
	if l := energy[len(energy)-2]; !strings.HasPrefix(l, "patches") || strings.Contains(l, ".") {
		t.Errorf("patches row %q", l)
	}
}

// nearShare counts, independently of PointDistance, the share of pixels of a w x h image within
// PointingTolerance(w) of the box with inclusive pixel corners (x0,y0)-(x1,y1).
func nearShare(w, h, x0, y0, x1, y1 int) float64 {
	tol := PointingTolerance(w)
	n := 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dx := float64(max(x0-x, 0, x-x1))
			dy := float64(max(y0-y, 0, y-y1))
			if dx*dx+dy*dy <= tol*tol {
				n++
			}
		}
	}
	return float64(n) / float64(w*h)
}

func TestPointingScore(t *testing.T) {
	w, h := 200, 200
	gt := []image.Rectangle{image.Rect(0, 0, 100, 100)}
	tol := PointingTolerance(w)
	// One maximum: the same verdict as PointingGame.
	m := make([]float32, w*h)
	m[50*w+50] = 1
	if got := PointingScore(m, w, h, gt, tol); got != 1 {
		t.Errorf("single max inside: %g, want 1", got)
	}
	m[50*w+50], m[180*w+180] = 0, 1
	if got := PointingScore(m, w, h, gt, tol); got != 0 {
		t.Errorf("single max outside: %g, want 0", got)
	}
	// Two tied maxima, one in and one out: one half.
	m[50*w+50] = 1
	if got := PointingScore(m, w, h, gt, tol); got != 0.5 {
		t.Errorf("tied maxima: %g, want 0.5", got)
	}
	// A flat map scores the chance level.
	want := nearShare(w, h, 0, 0, 99, 99)
	if got := PointingScore(Uniform(w, h), w, h, gt, tol); got != want || want < 0.28 || want > 0.34 {
		t.Errorf("uniform: %g, want %g (~0.25 box + border band)", got, want)
	}
	if got := PointingScore(make([]float32, w*h), w, h, gt, tol); got != 0 {
		t.Errorf("all-zero map: %g, want 0", got)
	}
}
