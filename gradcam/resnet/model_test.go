package resnet

import (
	"github.com/neucam/neucam/internal/neutest"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/neucam/neucam/neu"
)

// tinyConfig keeps the tests fast.
func tinyConfig() Config {
	return Config{Size: 32, Widths: []int{4, 8, 8, 16}, Strides: []int{2, 2, 2, 1, 1}, Mean: 0.5, Std: 0.25}
}

func TestModelShapesAndFeatures(t *testing.T) {
	backend := testBackend(t)
	for _, cfg := range []Config{DefaultConfig(), tinyConfig()} {
		store := model.NewStore()
		SetConfig(store, cfg)
		var names []string
		var shapes [][]int
		exec, err := model.NewExec(backend, store, func(scope *model.Scope, images *Node) []*Node {
			logits, feats := Model(scope, images)
			names, shapes = nil, nil
			out := []*Node{logits}
			for _, n := range LayerNames {
				f, ok := feats[n]
				if !ok {
					t.Errorf("feature %q missing", n)
					continue
				}
				names = append(names, n)
				shapes = append(shapes, f.Shape().Dimensions)
				out = append(out, ReduceAllMin(f)) // ReLU outputs: >= 0
			}
			if len(feats) != len(LayerNames) {
				t.Errorf("got %d features, want %d", len(feats), len(LayerNames))
			}
			return out
		})
		if err != nil {
			t.Fatal(err)
		}
		const b = 2
		x, _ := randomBatch(rand.New(rand.NewPCG(5, 6)), b, cfg.Size)
		outs, err := exec.Call(x)
		if err != nil {
			t.Fatal(err)
		}
		if got := outs[0].Shape().Dimensions; len(got) != 2 || got[0] != b || got[1] != cfg.NumClasses() {
			t.Errorf("logits shape %v, want [%d %d]", got, b, cfg.NumClasses())
		}
		// Expected spatial sizes from the strides.
		side := cfg.Size
		for i, n := range names {
			side = (side + cfg.Strides[i] - 1) / cfg.Strides[i]
			wantC := cfg.Widths[max(0, i-1)]
			want := []int{b, side, side, wantC}
			if s := shapes[i]; len(s) != 4 || s[0] != want[0] || s[1] != want[1] || s[2] != want[2] || s[3] != want[3] {
				t.Errorf("config %v: %s shape %v, want %v", cfg.Strides, n, s, want)
			}
			if m := outs[i+1].Value().(float32); m < 0 {
				t.Errorf("%s has negative values (min %g), expected post-ReLU", n, m)
			}
		}
		if cfg.Size == 128 && (shapes[4][1] != 16 || shapes[4][2] != 16) {
			t.Errorf("default layer4 is %v, want 16x16", shapes[4])
		}
	}
}

// TestTrainingLowersLoss: a few AdamW steps on a fixed batch of real images must lower the loss.
func TestTrainingLowersLoss(t *testing.T) {
	data := neutest.Dir(t)
	ds, err := neu.Load(data)
	if err != nil {
		t.Fatal(err)
	}
	cfg := tinyConfig()
	perClass := map[int]int{}
	var samples []neu.Sample
	for _, s := range ds.Samples {
		if s.Label >= 0 && perClass[s.Label] < 3 {
			perClass[s.Label]++
			samples = append(samples, s)
		}
	}
	pix, skipped := LoadPixels(samples, cfg.Size)
	if len(skipped) > 0 {
		t.Fatalf("skipped: %v", skipped)
	}
	n := len(samples)
	flat := make([]float32, 0, n*cfg.Size*cfg.Size)
	labels := make([]int32, n)
	for i := range samples {
		flat = append(flat, pix[i]...)
		labels[i] = int32(samples[i].Label)
	}
	batch := train.Batch{Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(flat, n, cfg.Size, cfg.Size, 1)},
		Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(labels, n, 1)}}

	store := model.NewStore()
	SetConfig(store, cfg)
	store.RootScope().SetParam(optimizer.ParamLearningRate, 1e-2)
	store.RootScope().SetParam(ParamTotalSteps, 100)
	if err := store.SetRNGStateFromSeed(7); err != nil {
		t.Fatal(err)
	}
	trainer := NewTrainer(testBackend(t), store)
	var losses []float64
	for range 25 {
		m, err := trainer.TrainStep(batch)
		if err != nil {
			t.Fatal(err)
		}
		losses = append(losses, tensorScalar(m[0]))
	}
	first, last := losses[0], losses[len(losses)-1]
	if math.IsNaN(last) || !(last < 0.5*first) {
		t.Errorf("loss did not drop enough: first %.4f, last %.4f (%v)", first, last, losses)
	}
	if step := optimizer.GetGlobalStep(store); step != 25 {
		t.Errorf("global step %d, want 25", step)
	}
}

// saveTinyModel writes an (untrained) tiny model checkpoint in a temp dir and returns it with its store.
func saveTinyModel(t *testing.T) (string, *Classifier) {
	t.Helper()
	store := model.NewStore()
	SetConfig(store, tinyConfig())
	if err := store.SetRNGStateFromSeed(3); err != nil {
		t.Fatal(err)
	}
	c, err := NewClassifier(testBackend(t), store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Predict([][]float32{make([]float32, 32*32)}); err != nil { // initialises the variables
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := SaveInference(store, dir); err != nil {
		t.Fatal(err)
	}
	return dir, c
}

func TestSaveLoadRoundTrip(t *testing.T) {
	dir, orig := saveTinyModel(t)
	loaded, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Size() != 32 || loaded.Config().Widths[3] != 16 {
		t.Errorf("config not restored: %+v", loaded.Config())
	}
	rng := rand.New(rand.NewPCG(1, 1))
	imgs := make([][]float32, 3)
	for i := range imgs {
		imgs[i] = make([]float32, 32*32)
		for j := range imgs[i] {
			imgs[i][j] = rng.Float32()
		}
	}
	a, err := orig.Predict(imgs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := loaded.Predict(imgs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		sum := float32(0)
		for k := range a[i] {
			sum += b[i][k]
			if d := math.Abs(float64(a[i][k] - b[i][k])); d > 1e-5 {
				t.Fatalf("image %d class %d: %g before save, %g after load", i, k, a[i][k], b[i][k])
			}
		}
		if math.Abs(float64(sum-1)) > 1e-4 {
			t.Errorf("probabilities of image %d sum to %g", i, sum)
		}
	}
	if _, err := loaded.Predict([][]float32{make([]float32, 10)}); err == nil || !strings.Contains(err.Error(), "pixels") {
		t.Errorf("wrong-size image: err %v, want a pixel-count error", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir, _ := saveTinyModel(t)
	jsons, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*.json"))
	if len(jsons) != 1 {
		t.Fatalf("expected one checkpoint, got %v", jsons)
	}
	bin := strings.TrimSuffix(jsons[0], ".json") + ".bin"
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}

	truncated := t.TempDir()
	copyFile(t, jsons[0], filepath.Join(truncated, filepath.Base(jsons[0])))
	if err := os.WriteFile(filepath.Join(truncated, filepath.Base(bin)), data[:len(data)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	badJSON := t.TempDir()
	if err := os.WriteFile(filepath.Join(badJSON, filepath.Base(jsons[0])), []byte(`{"Variables": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	copyFile(t, bin, filepath.Join(badJSON, filepath.Base(bin)))

	// A checkpoint of another model: valid files, but none of the ResNet's variables.
	other := t.TempDir()
	{
		store := model.NewStore()
		store.RootScope().In("other").VariableWithValue("w", []float32{1, 2, 3})
		if err := SaveInference(store, other); err != nil {
			t.Fatal(err)
		}
	}
	for name, d := range map[string]string{
		"missing dir":  filepath.Join(t.TempDir(), "nope"),
		"empty dir":    t.TempDir(),
		"truncated":    truncated,
		"bad json":     badJSON,
		"other model":  other,
		"regular file": bin,
	} {
		c, err := Load(d)
		if err == nil || c != nil {
			t.Errorf("%s: Load(%s) succeeded, want error", name, d)
			continue
		}
		if strings.Contains(err.Error(), "goroutine") || len(err.Error()) > 600 {
			t.Errorf("%s: error should be one clear line, got: %v", name, err)
		}
		t.Logf("%s: %v", name, err)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestClassesStoredInModel: a model saved with its own class list loads with it (K logits); a model saved
// without one (every model before the list was stored) loads as NEU's six classes.
func TestClassesStoredInModel(t *testing.T) {
	backend := testBackend(t)
	for _, classes := range [][]string{nil, {"hole", "stain", "dent"}} {
		cfg := tinyConfig()
		cfg.Classes = classes
		store := model.NewStore()
		SetConfig(store, cfg)
		c, err := NewClassifier(backend, store)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Predict([][]float32{make([]float32, 32*32)}); err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if err := SaveInference(store, dir); err != nil {
			t.Fatal(err)
		}
		loaded, err := Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := classes
		if want == nil {
			want = neu.Classes
		}
		if got := loaded.Classes(); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("saved with %q: loaded classes %q, want %q", classes, got, want)
		}
		p, err := loaded.Predict([][]float32{make([]float32, 32*32)})
		if err != nil {
			t.Fatal(err)
		}
		if len(p[0]) != len(want) {
			t.Errorf("saved with %q: %d probabilities, want %d", classes, len(p[0]), len(want))
		}
	}
	for _, bad := range [][]string{{"one"}, {"a", "a"}, {"a", " "}} {
		cfg := tinyConfig()
		cfg.Classes = bad
		if err := cfg.Validate(); err == nil {
			t.Errorf("classes %q: Validate accepted them", bad)
		}
	}
}

// TestPartsMatchWholeBatch: the network split into parts (Parts) computes the same logits, feature maps,
// batch-norm running statistics and weight gradients as the whole batch in one piece, in training and
// in inference mode, including parts of unequal size.
func TestPartsMatchWholeBatch(t *testing.T) {
	lse := tinyConfig()
	lse.Padding, lse.Head, lse.HeadParam = PadReflect, HeadLSE, 4
	for _, cfg := range []Config{tinyConfig(), lse} {
		testPartsMatch(t, cfg)
	}
}

func testPartsMatch(t *testing.T, cfg Config) {
	backend := testBackend(t)
	x, _ := randomBatch(rand.New(rand.NewPCG(9, 10)), 5, cfg.Size)
	run := func(nParts int, training bool) []*tensors.Tensor {
		store := model.NewStore()
		SetConfig(store, cfg)
		if err := store.SetRNGStateFromSeed(3); err != nil {
			t.Fatal(err)
		}
		exec, err := model.NewExec(backend, store, func(scope *model.Scope, images *Node) []*Node {
			scope.Store().SetTraining(images.Graph(), training)
			logits, feats, _ := forward(scope, images, true, false, nParts)
			out := []*Node{logits}
			for _, n := range LayerNames {
				out = append(out, feats[n])
			}
			if training {
				loss := ReduceAllSum(Mul(logits, logits))
				var vars []*Node
				for v := range scope.Store().IterVariables() {
					if v.Trainable && strings.HasSuffix(v.Path(), "weights") {
						vars = append(vars, v.NodeValue(images.Graph()))
					}
				}
				out = append(out, Gradient(loss, vars...)...)
				for v := range scope.Store().IterVariables() {
					if strings.HasSuffix(v.Path(), "/mean") || strings.HasSuffix(v.Path(), "/variance") {
						out = append(out, v.NodeValue(images.Graph()))
					}
				}
			}
			return out
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := exec.Call(x)
		if err != nil {
			t.Fatal(err)
		}
		return outs
	}
	for _, training := range []bool{false, true} {
		want := run(1, training)
		for _, n := range []int{2, 3} {
			got := run(n, training)
			if len(got) != len(want) {
				t.Fatalf("parts %d training %v: %d outputs, want %d", n, training, len(got), len(want))
			}
			for i := range want {
				g, w := flat32(t, got[i]), flat32(t, want[i])
				scale, maxDiff := 1.0, 0.0
				for j := range w {
					scale = max(scale, math.Abs(float64(w[j])))
					maxDiff = max(maxDiff, math.Abs(float64(g[j]-w[j])))
				}
				if maxDiff > 1e-5*scale {
					t.Errorf("%s/%s: parts %d training %v output %d: max diff %g (scale %g)", cfg.Padding, cfg.Head, n,
						training, i, maxDiff, scale)
				}
			}
		}
	}
}

// TestFoldedBatchNormMatches: inference with batch norm folded into the conv kernels gives the logits and
// feature maps of the unfolded network (trained running statistics, not the initial ones, so the fold
// is exercised).
func TestFoldedBatchNormMatches(t *testing.T) {
	backend := testBackend(t)
	cfg := tinyConfig()
	store := model.NewStore()
	SetConfig(store, cfg)
	trainer := NewTrainer(backend, store)
	rng := rand.New(rand.NewPCG(11, 12))
	for range 3 {
		x, y := randomBatch(rng, 4, cfg.Size)
		if _, err := trainer.TrainStep(train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y}}); err != nil {
			t.Fatal(err)
		}
	}
	x, _ := randomBatch(rng, 3, cfg.Size)
	run := func(fold bool) []*tensors.Tensor {
		foldBatchNorm = fold
		defer func() { foldBatchNorm = true }()
		exec, err := model.NewExec(backend, store, func(scope *model.Scope, images *Node) []*Node {
			logits, feats := Model(scope, images)
			out := []*Node{logits}
			for _, n := range LayerNames {
				out = append(out, feats[n])
			}
			return out
		})
		if err != nil {
			t.Fatal(err)
		}
		outs, err := exec.Call(x)
		if err != nil {
			t.Fatal(err)
		}
		return outs
	}
	want, got := run(false), run(true)
	for i := range want {
		g, w := flat32(t, got[i]), flat32(t, want[i])
		scale, maxDiff := 1.0, 0.0
		for j := range w {
			scale = max(scale, math.Abs(float64(w[j])))
			maxDiff = max(maxDiff, math.Abs(float64(g[j]-w[j])))
		}
		if maxDiff > 1e-5*scale {
			t.Errorf("output %d: folded batch norm differs by %g (scale %g)", i, maxDiff, scale)
		}
	}
}

func TestSafeGoConfig(t *testing.T) {
	for in, want := range map[string]string{
		"go":                            "go:parallelism=-1",
		"go:ops_parallel":               "go:ops_parallel,parallelism=-1",
		"go:ops_sequential":             "go:ops_sequential",
		"go:parallelism=2":              "go:parallelism=2",
		"xla:cpu":                       "xla:cpu",
		"go:ops_parallel,parallelism=8": "go:ops_parallel,parallelism=8",
	} {
		if got := safeGoConfig(in); got != want {
			t.Errorf("safeGoConfig(%q) = %q, want %q", in, got, want)
		}
	}
}
