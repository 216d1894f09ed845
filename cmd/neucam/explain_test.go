package main

import (
	"encoding/json"
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
	if err := runExplain([]string{"-methods", "gradcam,layercam", "-out", out, in}); err != nil {
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
		if err != nil || cfg.Width < 600 || cfg.Height < 400 {
			t.Errorf("%s: PNG %v %dx%d", ir.PNG, err, cfg.Width, cfg.Height)
		}
	}
	page, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	if n := strings.Count(html, "data:image/png;base64,"); n != 5 {
		t.Errorf("index.html embeds %d images, want 5", n)
	}
	for _, want := range []string{"broken.jpg", "energy_gain", "uniform", "misclassified only", "crazing_10"} {
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
	rep, err := evaluate(in, "", "all", true, specs, 2, 2)
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
		if f["images"] != 2 || !(f["deletion_auc"] >= 0 && f["deletion_auc"] <= 1) || !(f["insertion_auc"] >= 0 && f["insertion_auc"] <= 1) {
			t.Errorf("faithfulness %s = %v", m, f)
		}
		s := rep.Sanity[m]
		if s["images"] != 2 || !(s["spearman_randomized"] >= -1 && s["spearman_randomized"] <= 1) {
			t.Errorf("sanity %s = %v", m, s)
		}
	}
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
