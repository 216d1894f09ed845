// Package pgc checks the gradcam engine against pytorch-grad-cam's formulas, written as pytorch-grad-cam writes
// them (compare.py), on the shipped NEU model loaded into its PyTorch twin (bench/torch_twin.py). See README.md.
package pgc

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/numpy"
	"github.com/neucam/neucam/app"
	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/resnet"
	"github.com/neucam/neucam/neu"
)

// dataDir is NEU-DET as seen from this package (the project keeps it at ../shared/neu-det of the repository).
const dataDir = "../../../shared/neu-det"

// minR is the per-map Pearson r every method must reach against pytorch-grad-cam's formula.
const minR = 0.999

// Methods compared, each with the options that select pytorch-grad-cam's formula. Their names are what compare.py
// reads from the file names.
var compared = []struct {
	name string
	opts gradcam.Options
}{
	{"gradcam", gradcam.Options{Method: gradcam.GradCAM}},
	{"gradcampp", gradcam.Options{Method: gradcam.GradCAMPlusPlus, PGC: true}},
	{"xgradcam", gradcam.Options{Method: gradcam.XGradCAM}},
	{"hirescam", gradcam.Options{Method: gradcam.HiResCAM}},
	{"layercam", gradcam.Options{Method: gradcam.LayerCAM}},
	{"eigencam", gradcam.Options{Method: gradcam.EigenCAM, PGC: true}},
	{"scorecam", gradcam.Options{Method: gradcam.ScoreCAM, PGC: true}},
	{"ablationcam", gradcam.Options{Method: gradcam.AblationCAM}},
	{"eigengradcam", gradcam.Options{Method: gradcam.EigenGradCAM}},
	{"finercam", gradcam.Options{Method: gradcam.FinerCAM}},
	{"fem", gradcam.Options{Method: gradcam.FEM}},
}

var layers = []string{"layer4", "layer3"}

// testImages returns the first perClass images of each class in the test split (images the model never saw).
func testImages(t *testing.T, perClass, size int) [][]float32 {
	ds, err := neu.Load(dataDir)
	if err != nil {
		t.Skipf("NEU-DET not available at %s: %v", dataDir, err)
	}
	_, _, test := neu.Split(ds.Samples, neu.DefaultSeed, neu.DefaultValFrac, neu.DefaultTestFrac)
	count := map[int]int{}
	var picked []neu.Sample
	for _, s := range test {
		if s.Label >= 0 && count[s.Label] < perClass {
			count[s.Label]++
			picked = append(picked, s)
		}
	}
	pix, skipped := resnet.LoadPixels(picked, size)
	if len(skipped) > 0 {
		t.Fatalf("unreadable images: %v", skipped)
	}
	return pix
}

// export writes the shipped model's weights, the images and every compared method's raw maps to dir.
func export(t *testing.T, dir string, perClass int) {
	clf, err := resnet.Load("")
	if err != nil {
		t.Fatal(err)
	}
	if err := clf.ExportNumpy(filepath.Join(dir, "weights")); err != nil {
		t.Fatal(err)
	}
	m := app.Model(clf)
	imgs := testImages(t, perClass, m.Size)
	save(t, flatten(imgs, len(imgs), m.Size, m.Size), filepath.Join(dir, "images.npy"))
	for _, layer := range layers {
		for _, c := range compared {
			opts := c.opts
			opts.Layers, opts.HeadWeights, opts.BatchSize = []string{layer}, m.HeadWeights, 16
			e, err := gradcam.NewExplainer(m.Backend, m.Store, m.Fn, opts)
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.Explain(imgs, m.Size)
			if err != nil {
				t.Fatalf("%s@%s: %v", c.name, layer, err)
			}
			var all [][]float32
			for n := range r.Raw {
				all = append(all, r.Raw[n]...)
			}
			save(t, flatten(all, len(imgs), len(r.Raw[0]), r.LayerH, r.LayerW),
				filepath.Join(dir, fmt.Sprintf("maps_%s_%s.npy", c.name, layer)))
		}
	}
}

// flatten packs rows into one tensor of the given dimensions (the rows' total length must match).
func flatten(rows [][]float32, dims ...int) *tensors.Tensor {
	var flat []float32
	for _, r := range rows {
		flat = append(flat, r...)
	}
	return tensors.FromFlatDataAndDimensions(flat, dims...)
}

func save(t *testing.T, v *tensors.Tensor, path string) {
	if err := numpy.ToNpyFile(v, path); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}

type methodStats struct {
	MinR  float64 `json:"min_r"`
	MeanR float64 `json:"mean_r"`
	Below int     `json:"below"` // maps with r < minR
	// SignFlipped (eigencam): maps below minR that match pytorch-grad-cam's map computed with the SVD's other sign.
	SignFlipped int `json:"sign_flipped"`
	Maps        int `json:"maps"`
	BothZero    int `json:"both_zero"`
}

// TestShippedModelAgainstPGC exports the engine's maps on the shipped model (to $PGC_EXPORT_DIR if set, else a
// temp dir; $PGC_PER_CLASS test images per class, default 1) and runs compare.py, which recomputes every map with
// pytorch-grad-cam's formulas on the PyTorch twin; every map must reach Pearson r >= 0.999.
// Skipped when /usr/bin/python3 with torch is not available or the data is missing.
func TestShippedModelAgainstPGC(t *testing.T) {
	if err := exec.Command("/usr/bin/python3", "-c", "import torch, numpy").Run(); err != nil {
		t.Skipf("PyTorch not available (apt-get install -y python3-torch python3-numpy): %v", err)
	}
	dir := os.Getenv("PGC_EXPORT_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	perClass := 1
	if s := os.Getenv("PGC_PER_CLASS"); s != "" {
		var err error
		if perClass, err = strconv.Atoi(s); err != nil || perClass <= 0 {
			t.Fatalf("PGC_PER_CLASS=%q: want a positive integer", s)
		}
	}
	export(t, dir, perClass)
	out, err := exec.Command("/usr/bin/python3", "compare.py", dir).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("compare.py failed: %v\n%s\n%s", err, out, stderr)
	}
	var rep struct {
		LogitsMaxAbsDiff float64                 `json:"logits_max_abs_diff"`
		Methods          map[string]*methodStats `json:"methods"`
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("parsing compare.py output: %v\n%s", err, out)
	}
	if want := len(compared) * len(layers); len(rep.Methods) != want {
		t.Errorf("compare.py reported %d method/layer pairs, want %d", len(rep.Methods), want)
	}
	for _, name := range slices.Sorted(maps.Keys(rep.Methods)) {
		s := rep.Methods[name]
		t.Logf("%-18s Pearson r min %.6f mean %.6f over %d maps (%d all-zero in both), %d below %.3f, %d of them sign-flipped",
			name, s.MinR, s.MeanR, s.Maps, s.BothZero, s.Below, minR, s.SignFlipped)
		if strings.HasPrefix(name, "eigencam@") || strings.HasPrefix(name, "eigengradcam@") {
			// An SVD's sign is not part of the formula: LAPACK's gesdd (numpy) and gesvd (gonum) may pick opposite
			// ones. Every map must match pytorch-grad-cam's with one sign or the other.
			if s.Maps == 0 || s.Below != s.SignFlipped {
				t.Errorf("%s: %d of %d maps below r %.3f with either SVD sign", name, s.Below-s.SignFlipped, s.Maps, minR)
			}
			continue
		}
		if s.Maps == 0 || s.MinR < minR {
			t.Errorf("%s: min Pearson r %.6f < %.3f (%d of %d maps below)", name, s.MinR, minR, s.Below, s.Maps)
		}
	}
}
