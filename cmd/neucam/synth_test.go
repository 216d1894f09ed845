package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/gradcam/metrics"
)

// TestSynthPipeline runs the whole pipeline on a dataset that is not NEU-DET: `neucam synth` writes 3 classes
// (blob, line, speckle) of non-square 72x40 images with masks, `neucam train` trains a tiny model on it for
// two epochs, and `neucam evaluate -methods` / `neucam explain` with that model report those three classes
// (JSON, table, HTML) and score the maps against the exact masks beside the baselines.
func TestSynthPipeline(t *testing.T) {
	data := filepath.Join(t.TempDir(), "synth")
	if err := runSynth([]string{"-out", data, "-n", "60", "-classes", "3", "-width", "72", "-height", "40", "-q"}); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(t.TempDir(), "model")
	if err := runTrain([]string{"-data", data, "-out", model, "-epochs", "2", "-batch", "8", "-size", "32",
		"-widths", "4,8,8,16", "-no-progress"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"blob", "line", "speckle"}

	specs, err := explain.ParseMethods("gradcam")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := evaluate(evalArgs{paths: []string{data}, modelDir: model, split: "test", quiet: true, specs: specs, faith: 0, sanity: 0})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Classes, want) || len(rep.Confusion) != 3 || rep.Images != 9 {
		t.Errorf("evaluate: classes %q, %d confusion rows, %d images; want %q, 3, 9 (test split)", rep.Classes,
			len(rep.Confusion), rep.Images, want)
	}
	if !strings.Contains(rep.Table(), "speckle") {
		t.Errorf("evaluate table lacks the class names:\n%s", rep.Table())
	}
	for _, m := range []string{"gradcam", metrics.BaselineUniform, metrics.BaselineCenterGaussian, metrics.BaselineRandom} {
		for _, metric := range metrics.MaskMetrics {
			v, ok := rep.Localization[m][metric][metrics.Mean]
			if !ok || !(v >= -1 && v <= 1) {
				t.Errorf("localization %s %s = %v (present %v)", m, metric, v, ok)
			}
		}
	}
	if g := rep.Localization[metrics.BaselineUniform][metrics.MetricEnergyGainMask][metrics.Mean]; g > 1e-9 || g < -1e-9 {
		t.Errorf("uniform map's mask energy gain %g, want 0", g)
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"classes":["blob","line","speckle"]`) || !strings.Contains(string(js), "energy_in_mask") {
		t.Errorf("evaluate JSON lacks the classes or mask metrics: %.400s", js)
	}

	out := filepath.Join(t.TempDir(), "report")
	if err := runExplain([]string{"-model", model, "-methods", "gradcam", "-out", out, "-limit", "6", data}); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Classes  []string `json:"classes"`
		PerImage []struct {
			TrueClass string             `json:"true_class"`
			PredClass string             `json:"pred_class"`
			Probs     map[string]float64 `json:"probs"`
			Metrics   map[string]struct {
				Mask *metrics.MaskScore `json:"mask"`
			} `json:"metrics"`
		} `json:"per_image"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Classes, want) || len(res.PerImage) != 6 {
		t.Fatalf("results.json: classes %q, %d images", res.Classes, len(res.PerImage))
	}
	for _, ir := range res.PerImage {
		if !slices.Contains(want, ir.TrueClass) || !slices.Contains(want, ir.PredClass) || len(ir.Probs) != 3 {
			t.Errorf("results.json image: true %q pred %q probs %v", ir.TrueClass, ir.PredClass, ir.Probs)
		}
		// Every synth image has a mask: its gradcam line carries the exact-mask scores.
		if m := ir.Metrics["gradcam"].Mask; m == nil || !(m.MaskFraction > 0 && m.MaskFraction < 1) ||
			!(m.EnergyInMask >= 0 && m.EnergyInMask <= 1) || !(m.Pointing >= 0 && m.Pointing <= 1) {
			t.Errorf("results.json image (%s): gradcam mask scores %+v", ir.TrueClass, m)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range append(want, "energy_in_mask", "pointing_game_mask") {
		if !strings.Contains(string(page), c) {
			t.Errorf("index.html lacks %q", c)
		}
	}
}
