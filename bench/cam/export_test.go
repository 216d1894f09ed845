// Package cam compares the gradcam engine with a straightforward PyTorch implementation of the same formulas
// (compare.py). See README.md.
package cam

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/numpy"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/pixel"
)

// The small random net, defined identically in compare.py (TinyNet):
//
//	x [B,S,S,1] -> conv3x3 pad 1 (1->C1) relu "stem" -> conv3x3 stride 2 pad 1 (C1->C2) relu "layer1"
//	-> conv3x3 pad 1 (C2->C3) relu "layer2" -> mean over h,w -> dense (C3->K) = logits
const (
	size, c1, c2, c3, numK = 16, 6, 8, 10, 6
	numImages              = 6
)

var convs = []struct {
	name    string
	in, out int
}{{"conv1", 1, c1}, {"conv2", c1, c2}, {"conv3", c2, c3}}

func conv(scope *model.Scope, x *Node, in, out, stride int) *Node {
	w := scope.VariableWithShape("weights", shapes.Make(dtypes.Float32, 3, 3, in, out)).NodeValue(x.Graph())
	b := scope.VariableWithShape("bias", shapes.Make(dtypes.Float32, out)).NodeValue(x.Graph())
	y := Convolve(x, w).StridePerAxis(stride, stride).PaddingPerDim([][2]int{{1, 1}, {1, 1}}).Done()
	return MaxScalar(Add(y, Reshape(b, 1, 1, 1, out)), 0)
}

func tinyNet(scope *model.Scope, images *Node) (*Node, map[string]*Node) {
	stem := conv(scope.In("conv1"), images, 1, c1, 1)
	l1 := conv(scope.In("conv2"), stem, c1, c2, 2)
	l2 := conv(scope.In("conv3"), l1, c2, c3, 1)
	hs := scope.In("head")
	w := hs.VariableWithShape("weights", shapes.Make(dtypes.Float32, c3, numK)).NodeValue(images.Graph())
	b := hs.VariableWithShape("bias", shapes.Make(dtypes.Float32, numK)).NodeValue(images.Graph())
	logits := Add(Dot(ReduceMean(l2, 1, 2), w).Product(), Reshape(b, 1, numK))
	return logits, map[string]*Node{"stem": stem, "layer1": l1, "layer2": l2}
}

// newStore fills the variables with seeded random values and writes each one to dir as <scope>_<name>.npy.
func newStore(t *testing.T, dir string) *model.Store {
	store := model.NewStore()
	rng := rand.New(rand.NewPCG(42, 1))
	randT := func(std float64, dims ...int) *tensors.Tensor {
		n := 1
		for _, d := range dims {
			n *= d
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64() * std)
		}
		return tensors.FromFlatDataAndDimensions(v, dims...)
	}
	add := func(scope, name string, v *tensors.Tensor) {
		if _, err := store.RootScope().At("%s", scope).CreateVariable(name, v); err != nil {
			t.Fatalf("variable %s/%s: %v", scope, name, err)
		}
		save(t, v, filepath.Join(dir, scope+"_"+name+".npy"))
	}
	for _, c := range convs {
		add(c.name, "weights", randT(math.Sqrt(2/float64(9*c.in)), 3, 3, c.in, c.out))
		add(c.name, "bias", randT(0.1, c.out))
	}
	add("head", "weights", randT(1, c3, numK))
	add("head", "bias", randT(0.1, numK))
	return store
}

func save(t *testing.T, v *tensors.Tensor, path string) {
	if err := numpy.ToNpyFile(v, path); err != nil {
		t.Fatalf("writing %s: %v", path, err)
	}
}

func images() [][]float32 {
	rng := rand.New(rand.NewPCG(3, 2))
	out := make([][]float32, numImages)
	for i := range out {
		img := make([]float32, size*size)
		cx, cy, r := rng.Float64()*size, rng.Float64()*size, 2+rng.Float64()*4
		for y := range size {
			for x := range size {
				d2 := (float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy)
				img[y*size+x] = float32(math.Min(1, math.Exp(-d2/(2*r*r))+0.3*rng.Float64()))
			}
		}
		out[i] = img
	}
	return out
}

// methodFile is the file-name-safe method name ("gradcam++" -> "gradcampp").
func methodFile(m gradcam.Method) string { return strings.ReplaceAll(string(m), "+", "p") }

// export runs the engine for every method and layer and writes inputs, weights, probabilities and raw maps.
func export(t *testing.T, dir string) {
	backend, err := compute.New()
	if err != nil {
		t.Fatal(err)
	}
	store := newStore(t, dir)
	imgs := images()
	flat := make([]float32, 0, numImages*size*size)
	for _, img := range imgs {
		flat = append(flat, img...)
	}
	save(t, tensors.FromFlatDataAndDimensions(flat, numImages, size, size), filepath.Join(dir, "images.npy"))
	exportPixel(t, dir, backend, store, imgs)
	for _, layer := range []string{"layer2", "layer1"} {
		for _, m := range gradcam.Methods {
			if m == gradcam.CAM && layer != "layer2" {
				continue // CAM needs the layer feeding the GAP + dense head
			}
			e, err := gradcam.NewExplainer(backend, store, tinyNet, gradcam.Options{Method: m, Layers: []string{layer},
				HeadWeights: gradcam.HeadWeightsVariable("/head/weights"), BatchSize: 4})
			if err != nil {
				t.Fatal(err)
			}
			r, err := e.Explain(imgs, size)
			if err != nil {
				t.Fatalf("%s@%s: %v", m, layer, err)
			}
			maps := make([]float32, 0, numImages*numK*r.LayerH*r.LayerW)
			for n := range r.Raw {
				for k := range r.Raw[n] {
					maps = append(maps, r.Raw[n][k]...)
				}
			}
			save(t, tensors.FromFlatDataAndDimensions(maps, numImages, numK, r.LayerH, r.LayerW),
				filepath.Join(dir, fmt.Sprintf("maps_%s_%s.npy", methodFile(m), layer)))
			if m == gradcam.GradCAM && layer == "layer2" {
				probs := make([]float32, 0, numImages*numK)
				for _, p := range r.Probs {
					probs = append(probs, p...)
				}
				save(t, tensors.FromFlatDataAndDimensions(probs, numImages, numK), filepath.Join(dir, "probs.npy"))
			}
		}
	}
}

// pixelMethods are the gradcam/pixel methods compared (deterministic ones; SmoothGrad/VarGrad draw noise), with
// the options compare.py assumes: IG with 8 trapezoid intervals, occlusion 4x4 patches at stride 2.
var pixelMethods = []pixel.Method{pixel.GuidedBackprop, pixel.IntegratedGradients, pixel.Occlusion}

// exportPixel writes the pixel methods' raw maps at input resolution as maps_<method>_input.npy [N,K,S,S].
func exportPixel(t *testing.T, dir string, backend compute.Backend, store *model.Store, imgs [][]float32) {
	for _, m := range pixelMethods {
		opts := pixel.DefaultOptions(m)
		opts.Steps, opts.Window, opts.Stride, opts.BatchSize = 8, 4, 2, 4
		e, err := pixel.NewExplainer(backend, store, tinyNet, opts)
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.Explain(imgs, size)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		maps := make([]float32, 0, numImages*numK*size*size)
		for n := range r.Raw {
			for k := range r.Raw[n] {
				maps = append(maps, r.Raw[n][k]...)
			}
		}
		save(t, tensors.FromFlatDataAndDimensions(maps, numImages, numK, size, size),
			filepath.Join(dir, fmt.Sprintf("maps_%s_input.npy", m)))
	}
}

type methodStats struct {
	MinR     float64 `json:"min_r"`
	MeanR    float64 `json:"mean_r"`
	Maps     int     `json:"maps"`
	BothZero int     `json:"both_zero"`
	MaxRel   float64 `json:"max_rel_err"`
}

// TestPyTorchReference exports the engine's maps (to $CAM_EXPORT_DIR if set, else a temp dir) and runs compare.py,
// which recomputes every map in PyTorch; every method must reach Pearson r >= 0.99 on every map.
// Skipped when /usr/bin/python3 with torch is not available.
func TestPyTorchReference(t *testing.T) {
	dir := os.Getenv("CAM_EXPORT_DIR")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	export(t, dir)
	if err := exec.Command("/usr/bin/python3", "-c", "import torch, numpy").Run(); err != nil {
		t.Skipf("PyTorch not available (apt-get install -y python3-torch python3-numpy): %v", err)
	}
	cmd := exec.Command("/usr/bin/python3", "compare.py", dir)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("compare.py failed: %v\n%s\n%s", err, out, stderr)
	}
	var report struct {
		ProbsMaxAbsDiff float64                 `json:"probs_max_abs_diff"`
		Methods         map[string]*methodStats `json:"methods"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		t.Fatalf("parsing compare.py output: %v\n%s", err, out)
	}
	if report.ProbsMaxAbsDiff > 1e-5 {
		t.Errorf("probabilities differ from PyTorch by %.3g", report.ProbsMaxAbsDiff)
	}
	if want := 2*len(gradcam.Methods) - 1 + len(pixelMethods); len(report.Methods) != want {
		t.Errorf("compare.py reported %d method/layer pairs, want %d", len(report.Methods), want)
	}
	names := slices.Sorted(maps.Keys(report.Methods))
	for _, name := range names {
		s := report.Methods[name]
		t.Logf("%-18s Pearson r min %.9f mean %.9f over %d maps (%d all-zero in both); max |go-torch|/max|torch| %.2g",
			name, s.MinR, s.MeanR, s.Maps, s.BothZero, s.MaxRel)
		if s.MinR < 0.99 || s.Maps == 0 {
			t.Errorf("%s: min Pearson r %.4f < 0.99", name, s.MinR)
		}
		// Pearson r ignores scale; the float32 engine should also match the float64 reference in magnitude.
		if s.MaxRel > 1e-4 {
			t.Errorf("%s: max relative difference %.3g > 1e-4", name, s.MaxRel)
		}
	}
}
