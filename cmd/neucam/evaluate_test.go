package main

import (
	"github.com/neucam/neucam/internal/neutest"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/neucam/neucam/gradcam/resnet"
	"github.com/neucam/neucam/neu"
)

// TestEvaluateFewImages evaluates a plain folder with one image per class, plus an unlabelled image
// and a corrupt file, with a freshly saved tiny model: every count in the report must add up.
func TestEvaluateFewImages(t *testing.T) {
	data := neutest.Dir(t)
	ds, err := neu.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	folder := t.TempDir()
	seen := map[int]bool{}
	for _, s := range ds.Samples {
		if s.Label >= 0 && !seen[s.Label] {
			seen[s.Label] = true
			b, err := os.ReadFile(s.ImagePath)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(folder, filepath.Base(s.ImagePath)), b, 0o644); err != nil {
				t.Fatal(err)
			}
			if s.Label == 0 { // same image, name without a class
				if err := os.WriteFile(filepath.Join(folder, "unknown_1.jpg"), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := os.WriteFile(filepath.Join(folder, "scratches_999.jpg"), []byte("not a jpeg"), 0o644); err != nil {
		t.Fatal(err)
	}

	modelDir := t.TempDir()
	store := model.NewStore()
	resnet.SetConfig(store, resnet.Config{Size: 32, Widths: []int{4, 4, 8, 8}, Strides: []int{2, 2, 2, 1, 1}, Mean: 0.5, Std: 0.25})
	backend, err := resnet.NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	c, err := resnet.NewClassifier(backend, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Predict([][]float32{make([]float32, 32*32)}); err != nil {
		t.Fatal(err)
	}
	if err := resnet.SaveInference(store, modelDir); err != nil {
		t.Fatal(err)
	}

	rep, err := evaluate(evalArgs{paths: []string{folder}, modelDir: modelDir, split: "all", quiet: true, specs: nil, faith: 0, sanity: 0})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Images != 6 || rep.Unlabelled != 1 {
		t.Errorf("images %d (want 6 labelled), unlabelled %d (want 1)", rep.Images, rep.Unlabelled)
	}
	if len(rep.Skipped) != 1 {
		t.Errorf("skipped %v, want the corrupt file", rep.Skipped)
	}
	total, diag := 0, 0
	for i, row := range rep.Confusion {
		for j, v := range row {
			total += v
			if i == j {
				diag += v
			}
		}
	}
	if total != 6 || diag != rep.Correct || rep.Accuracy == nil || *rep.Accuracy != float64(diag)/6 {
		t.Errorf("confusion total %d, diagonal %d, correct %d, accuracy %v: inconsistent", total, diag, rep.Correct, rep.Accuracy)
	}
	if len(rep.Predictions) != 1 || rep.Predictions[0].Name != "unknown_1" {
		t.Errorf("predictions %+v, want one for unknown_1", rep.Predictions)
	}
	if len(rep.PerClassAccuracy) != 6 {
		t.Errorf("per-class accuracy for %d classes, want 6", len(rep.PerClassAccuracy))
	}
	if _, err := evaluate(evalArgs{paths: []string{folder}, modelDir: filepath.Join(modelDir, "missing"), split: "all", quiet: true}); err == nil {
		t.Error("missing model dir: no error")
	}
}
