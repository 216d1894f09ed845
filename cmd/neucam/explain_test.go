package main

import (
	"encoding/json"
	"fmt"
	"github.com/neucam/neucam/internal/neutest"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/neu"
)

// TestExplainReport runs `neucam explain` with the shipped model on a few NEU images plus a stray image with
// no annotation and a corrupt file, and checks index.html, the PNGs and results.json.
func TestExplainReport(t *testing.T) {
	data := neutest.Dir(t)
	in := neuFolder(t, data, "crazing_10", "inclusion_3", "patches_104", "scratches_108")
	// No annotation: explained without GT. Corrupt: skipped with a reason, the rest still processed.
	copyFile(t, filepath.Join(data, "images", "pitted_surface_5.jpg"), filepath.Join(in, "images", "unlabelled.jpg"))
	if err := os.WriteFile(filepath.Join(in, "images", "broken.jpg"), []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "report")
	if err := runExplain([]string{"-methods", "gradcam,layercam", in, "-out", out}); err != nil { // flags after the path
		t.Fatalf("explain: %v", err)
	}

	var res struct {
		Images   int `json:"images"`
		Labelled int `json:"labelled"`
		Skipped  []struct{ Path, Reason string }
		PerImage []struct {
			File, Name, PNG string
			TrueClass       string             `json:"true_class"`
			PredClass       string             `json:"pred_class"`
			Probs           map[string]float64 `json:"probs"`
			Metrics         map[string]map[string]float64
		} `json:"per_image"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		t.Fatalf("results.json: %v", err)
	}
	if res.Images != 5 || res.Labelled != 4 || len(res.PerImage) != 5 {
		t.Fatalf("images=%d labelled=%d per_image=%d, want 5, 4, 5", res.Images, res.Labelled, len(res.PerImage))
	}
	if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Path, "broken.jpg") || res.Skipped[0].Reason == "" {
		t.Fatalf("skipped = %+v, want broken.jpg with a reason", res.Skipped)
	}
	for _, ir := range res.PerImage {
		if !slices.Contains(neu.Classes, ir.PredClass) {
			t.Errorf("%s: predicted class %q is not a NEU class", ir.Name, ir.PredClass)
		}
		sum := 0.0
		for _, p := range ir.Probs {
			sum += p
		}
		if sum < 0.999 || sum > 1.001 {
			t.Errorf("%s: probabilities sum to %g", ir.Name, sum)
		}
		if ir.Name == "unlabelled" {
			if ir.TrueClass != "" || len(ir.Metrics) != 0 {
				t.Errorf("unlabelled image got a class %q or metrics %v", ir.TrueClass, ir.Metrics)
			}
		} else if len(ir.Metrics) != 2 {
			t.Errorf("%s: metrics for %d methods, want 2", ir.Name, len(ir.Metrics))
		}
		for m, vals := range ir.Metrics {
			for k, v := range vals {
				lo := 0.0
				if k == "energy_gain" {
					lo = -1e9 // g = (e-u)/(1-u) is negative when the map avoids the boxes
				}
				if !(v >= lo && v <= 1) {
					t.Errorf("%s %s %s = %g outside its range", ir.Name, m, k, v)
				}
			}
		}
		f, err := os.Open(filepath.Join(out, ir.PNG))
		if err != nil {
			t.Fatalf("%s: %v", ir.Name, err)
		}
		cfg, err := png.DecodeConfig(f)
		f.Close()
		if err != nil || cfg.Width < 600 || cfg.Height < 200 {
			t.Errorf("%s: PNG %v %dx%d", ir.PNG, err, cfg.Width, cfg.Height)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	if n := strings.Count(html, `<img loading="lazy"`); n != 5 {
		t.Errorf("index.html links %d figures, want 5", n)
	}
	pngs, _ := filepath.Glob(filepath.Join(out, "images", "*"))
	if len(pngs) != 5 {
		t.Errorf("%d files in images/, want one PNG per image: %v", len(pngs), pngs)
	}
	for _, ir := range res.PerImage {
		if filepath.IsAbs(ir.File) || !strings.HasPrefix(ir.File, "..") {
			t.Errorf("%s: file %q is not relative to the report", ir.Name, ir.File)
		}
		if _, err := os.Stat(filepath.Join(out, ir.File)); err != nil {
			t.Errorf("%s: file %q not found from the report folder: %v", ir.Name, ir.File, err)
		}
	}
	for _, want := range []string{"broken.jpg", "energy_gain", "uniform", "misclassified only", "crazing_10", "How to read this report"} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
}

// neuFolder makes a NEU-DET-layout temp folder holding the named images of data with their annotations.
func neuFolder(t *testing.T, data string, names ...string) string {
	t.Helper()
	in := t.TempDir()
	for _, d := range []string{"images", "annotations"} {
		if err := os.MkdirAll(filepath.Join(in, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range names {
		copyFile(t, filepath.Join(data, "images", n+".jpg"), filepath.Join(in, "images", n+".jpg"))
		copyFile(t, filepath.Join(data, "annotations", n+".xml"), filepath.Join(in, "annotations", n+".xml"))
	}
	return in
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Skipf("test image missing: %v", err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestEvaluateLocalization: evaluate -methods on a small NEU-DET-layout folder with the shipped model writes the
// localization (methods and the three baselines), faithfulness and sanity sections, with values in range.
func TestEvaluateLocalization(t *testing.T) {
	in := neuFolder(t, neutest.Dir(t), "inclusion_3", "patches_104", "scratches_108")
	specs, err := explain.ParseMethods("gradcam,layercam")
	if err != nil {
		t.Fatal(err)
	}
	rep, err := evaluate(evalArgs{paths: []string{in}, modelDir: "", split: "all", quiet: true, specs: specs, faith: 2, sanity: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"gradcam", "layercam", "uniform", "center_gaussian", "random"} {
		for _, metric := range []string{"energy_in_box", "pointing_game", "max_box_acc", "max_box_acc_v2", "iou"} {
			v, ok := rep.Localization[m][metric]["mean"]
			if !ok || !(v >= 0 && v <= 1) {
				t.Errorf("localization %s %s mean = %v (present %v), want in [0,1]", m, metric, v, ok)
			}
		}
	}
	// The uniform map's energy in the boxes is the box-area fraction, so its gain is exactly 0.
	if g := rep.Localization["uniform"]["energy_gain"]["mean"]; g != 0 {
		t.Errorf("uniform energy gain %g, want 0", g)
	}
	for _, m := range []string{"gradcam", "layercam"} {
		f := rep.Faithfulness[m]
		if f.Images != 2 || !(f.DeletionAUC >= 0 && f.DeletionAUC <= 1) || !(f.InsertionAUC >= 0 && f.InsertionAUC <= 1) {
			t.Errorf("faithfulness %s = %+v", m, f)
		}
		s := rep.Sanity[m]
		if s.Images != 2 || !(s.SpearmanRandomized >= -1 && s.SpearmanRandomized <= 1) {
			t.Errorf("sanity %s = %+v", m, s)
		}
	}
	// Average Drop, Increase in Confidence and sparseness are fractions, ROAD a probability change; the centred
	// Gaussian and random maps are scored as baselines.
	for _, m := range []string{"gradcam", "layercam", "center_gaussian", "random"} {
		f, ok := rep.Faithfulness[m]
		in01 := func(v float64) bool { return v >= 0 && v <= 1 }
		if !ok || !in01(f.AverageDrop) || !in01(f.IncreaseInConfidence) || !in01(f.Sparseness) ||
			!(f.ROADMoRF >= -1 && f.ROADMoRF <= 1) || !(f.ROADLeRF >= -1 && f.ROADLeRF <= 1) {
			t.Errorf("faithfulness %s = %+v (present %v)", m, f, ok)
		}
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"deletion_auc", "insertion_auc", "average_drop", "increase_in_confidence", "road_morf", "road_lerf"} {
		if !strings.Contains(string(js), `"`+key+`"`) {
			t.Errorf("evaluate JSON has no %q", key)
		}
	}
}

// TestUnlabelledFolder: a plain folder of images without classes, given to explain and evaluate the same way
// (positional path, flags after it), with stdout redirected to a file: results.json has "accuracy": null,
// "skipped": [] and a prediction per image, evaluate DIR works, and the redirected output has no \r.
func TestUnlabelledFolder(t *testing.T) {
	data := neutest.Dir(t)
	in := t.TempDir()
	for i, n := range []string{"crazing_10", "scratches_108"} {
		copyFile(t, filepath.Join(data, "images", n+".jpg"), filepath.Join(in, fmt.Sprintf("photo%d.jpg", i)))
	}
	out := filepath.Join(t.TempDir(), "report")
	logs := captureStdout(t, func() {
		if err := runExplain([]string{in, "-methods", "gradcam", "-out", out}); err != nil {
			t.Fatalf("explain: %v", err)
		}
		if err := runEvaluate([]string{in, "-q", "-json", filepath.Join(out, "eval.json")}); err != nil {
			t.Fatalf("evaluate DIR: %v", err)
		}
	})
	if strings.Contains(logs, "\r") {
		t.Errorf("redirected output contains \\r:\n%q", logs)
	}
	if strings.Count(logs, "prediction photo") != 4 { // two images, explain and evaluate
		t.Errorf("predictions not printed:\n%s", logs)
	}
	for _, file := range []string{"results.json", "eval.json"} {
		var res struct {
			Accuracy *float64          `json:"accuracy"`
			Skipped  []json.RawMessage `json:"skipped"`
			PerImage []struct {
				PredClass string `json:"pred_class"`
			} `json:"per_image"`
			Predictions []struct{ Class string } `json:"predictions"`
		}
		raw, err := os.ReadFile(filepath.Join(out, file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatal(err)
		}
		if res.Accuracy != nil || res.Skipped == nil || len(res.Skipped) != 0 || len(res.PerImage)+len(res.Predictions) != 2 {
			t.Errorf("%s: accuracy %v, skipped %v, %d per-image lines, %d predictions\n%s", file, res.Accuracy, res.Skipped,
				len(res.PerImage), len(res.Predictions), raw)
		}
		if !strings.Contains(string(raw), `"accuracy": null`) || !strings.Contains(string(raw), `"skipped": []`) {
			t.Errorf("%s lacks \"accuracy\": null or \"skipped\": []", file)
		}
	}
	// -split on a folder that is not a labelled data set says why it selects nothing.
	if err := runEvaluate([]string{in, "-q", "-split", "test"}); err == nil || !strings.Contains(err.Error(), "known class") {
		t.Errorf("-split test on an unlabelled folder: %v", err)
	}
}

// TestHelp: -h of every subcommand describes it with an example and returns errHelp (exit status 0).
func TestHelp(t *testing.T) {
	for name, cmd := range commands {
		var err error
		usage := captureStderr(t, func() { err = cmd.run([]string{"-h"}) })
		if exitCode(err) != 0 || !strings.Contains(usage, "usage: neucam "+name) || !strings.Contains(usage, "example:") ||
			strings.Contains(usage, "-model neucam") {
			t.Errorf("%s -h: err %v, usage:\n%s", name, err, usage)
		}
	}
	var err error
	usage := captureStderr(t, func() { err = runExplain([]string{"-h"}) })
	if err == nil || !strings.Contains(usage, ":logprob") {
		t.Errorf("explain -h lacks :logprob:\n%s", usage)
	}
}

// captureStdout runs f with os.Stdout redirected to a file (not a terminal) and returns what was written.
func captureStdout(t *testing.T, f func()) string { return capture(t, &os.Stdout, f) }

func captureStderr(t *testing.T, f func()) string { return capture(t, &os.Stderr, f) }

func capture(t *testing.T, std **os.File, f func()) string {
	t.Helper()
	file, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	old := *std
	*std = file
	defer func() { *std = old }()
	f()
	file.Close()
	b, err := os.ReadFile(file.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFirstPerClass(t *testing.T) {
	var in []neu.Sample
	for i, l := range []int{0, 0, 0, 0, 1, 1, 2, -1, -1} {
		in = append(in, neu.Sample{Name: string(rune('a' + i)), Label: l})
	}
	var got string
	for _, s := range firstPerClass(in, 6) {
		got += s.Name
	}
	// Round 1 takes a, e, g, h; round 2 takes b, f (class 2 is exhausted); kept in input order.
	if got != "abefgh" {
		t.Errorf("firstPerClass = %q, want abefgh", got)
	}
	if n := len(firstPerClass(in, 100)); n != len(in) {
		t.Errorf("limit above the count kept %d of %d", n, len(in))
	}
}
