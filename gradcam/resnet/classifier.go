package resnet

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/numpy"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
)

// shippedFS holds the trained model shipped with the binary (see docs/BENCH.md for how it was made).
//
//go:embed shipped
var shippedFS embed.FS

// ShippedDir is the folder (inside the package) of the embedded model.
const ShippedDir = "shipped"

// ModelVarScope is the scope of the model's variables; only these are needed for inference.
const ModelVarScope = "/resnet"

// Classifier is a loaded NEU ResNet ready for inference. It is safe for concurrent use.
type Classifier struct {
	backend compute.Backend
	store   *model.Store
	cfg     Config
	source  string

	mu    sync.Mutex
	execs map[bool]*model.Exec // by "return logits" (else probabilities)
}

// Backend returns the compute backend the classifier runs on.
func (c *Classifier) Backend() compute.Backend { return c.backend }

// Store returns the model store holding the weights and the architecture params.
func (c *Classifier) Store() *model.Store { return c.store }

// Size is the input side S expected by the model: images are S*S row-major pixels in [0,1].
func (c *Classifier) Size() int { return c.cfg.Size }

// Config returns the architecture.
func (c *Classifier) Config() Config { return c.cfg }

// Classes are the class names in logit order (NEU's six for a model saved without a class list).
func (c *Classifier) Classes() []string { return c.cfg.ClassNames() }

// Source says where the weights came from (a directory or "embedded").
func (c *Classifier) Source() string { return c.source }

// ModelFn returns the model-building function (Model); call it with c.Store().RootScope()-derived scopes.
func (c *Classifier) ModelFn() func(scope *model.Scope, images *Node) (*Node, map[string]*Node) {
	return Model
}

// Load opens a trained model: dir "" is the embedded shipped model; otherwise dir holds a GoMLX
// checkpoint (the inference checkpoint Train writes at the top of its output folder, or any training
// checkpoint folder). Missing, truncated or mismatched checkpoints are reported as errors.
func Load(dir string) (*Classifier, error) {
	backend, err := NewBackend()
	if err != nil {
		return nil, err
	}
	return LoadWithBackend(backend, dir)
}

// LoadWithBackend is Load on a given backend.
func LoadWithBackend(backend compute.Backend, dir string) (c *Classifier, err error) {
	source := dir
	if dir == "" {
		source = "embedded"
	}
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("model %s: %v", source, firstLine(fmt.Sprint(r)))
		}
	}()
	store := model.NewStore()
	cb := checkpoint.Load(store).Immediate()
	if dir == "" {
		jsonData, binData, err := embeddedCheckpoint()
		if err != nil {
			return nil, err
		}
		cb = cb.FromEmbed(jsonData, binData)
	} else {
		dir, err = resolveCheckpointDir(dir)
		if err != nil {
			return nil, err
		}
		source = dir
		cb = cb.Dir(dir)
	}
	if _, err := cb.Done(); err != nil {
		return nil, fmt.Errorf("model %s: loading checkpoint: %w", source, err)
	}
	cfg := ConfigFromStore(store)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("model %s: %w", source, err)
	}
	c = &Classifier{backend: backend, store: store, cfg: cfg, source: source}
	if err := c.checkComplete(); err != nil {
		return nil, fmt.Errorf("model %s: %w", source, err)
	}
	return c, nil
}

// NewClassifier wraps a store holding (or about to hold, when freshly created: variables are initialised
// on first use) the NEU ResNet weights and architecture params.
func NewClassifier(backend compute.Backend, store *model.Store) (*Classifier, error) {
	cfg := ConfigFromStore(store)
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Classifier{backend: backend, store: store, cfg: cfg, source: "memory"}, nil
}

// resolveCheckpointDir returns dir if it holds checkpoints, else its "train" sub-folder if that does.
func resolveCheckpointDir(dir string) (string, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("model directory: %w", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("model directory %s: not a directory", dir)
	}
	for _, d := range []string{dir, filepath.Join(dir, TrainCheckpointDir)} {
		if m, _ := filepath.Glob(filepath.Join(d, "checkpoint-*.json")); len(m) > 0 {
			return d, nil
		}
	}
	return "", fmt.Errorf("model directory %s: no checkpoint-*.json found (train one with `neucam train -out %s`)", dir, dir)
}

// embeddedCheckpoint returns the newest checkpoint files in shippedFS.
func embeddedCheckpoint() (string, []byte, error) {
	matches, err := fs.Glob(shippedFS, ShippedDir+"/checkpoint-*.json")
	if err != nil || len(matches) == 0 {
		return "", nil, fmt.Errorf("no embedded model: build with a checkpoint in gradcam/resnet/%s", ShippedDir)
	}
	sort.Strings(matches)
	jsonName := matches[len(matches)-1]
	jsonData, err := shippedFS.ReadFile(jsonName)
	if err != nil {
		return "", nil, err
	}
	binName := strings.TrimSuffix(jsonName, ".json") + ".bin"
	binData, err := shippedFS.ReadFile(binName)
	if err != nil {
		return "", nil, fmt.Errorf("embedded model: %s missing: %w", path.Base(binName), err)
	}
	return string(jsonData), binData, nil
}

// checkComplete runs the model once and fails if building it had to create (randomly initialise) any
// variable, i.e. the checkpoint lacks some of the weights the architecture needs.
func (c *Classifier) checkComplete() error {
	before := map[string]bool{}
	for v := range c.store.IterVariables() {
		before[v.Path()] = true
	}
	if _, err := c.Predict([][]float32{make([]float32, c.cfg.Size*c.cfg.Size)}); err != nil {
		return err
	}
	var missing []string
	for v := range c.store.IterVariables() {
		if !before[v.Path()] && strings.HasPrefix(v.Path(), ModelVarScope+"/") {
			missing = append(missing, v.Path())
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("checkpoint lacks %d model variables (e.g. %s): not a checkpoint of this architecture",
			len(missing), missing[0])
	}
	return nil
}

// predictBuckets are the compiled batch sizes: a request is split into chunks of at most the largest,
// and each chunk padded to the next bucket, so at most len(predictBuckets) graphs are compiled.
var predictBuckets = []int{1, 2, 4, 8, 16, 32}

// Predict returns the class probabilities [N][K] (K = len(Classes())) for images given as S*S row-major pixels in [0,1].
func (c *Classifier) Predict(pix [][]float32) ([][]float32, error) { return c.run(pix, false) }

// Logits returns the pre-softmax outputs [N][K] (used to compare with the PyTorch twin).
func (c *Classifier) Logits(pix [][]float32) ([][]float32, error) { return c.run(pix, true) }

func (c *Classifier) run(pix [][]float32, wantLogits bool) (probs [][]float32, err error) {
	s, k := c.cfg.Size, c.cfg.NumClasses()
	for i, p := range pix {
		if len(p) != s*s {
			return nil, fmt.Errorf("Predict: image %d has %d pixels, want %d (%dx%d)", i, len(p), s*s, s, s)
		}
	}
	defer func() {
		if r := recover(); r != nil {
			probs, err = nil, fmt.Errorf("Predict: %v", firstLine(fmt.Sprint(r)))
		}
	}()
	c.mu.Lock()
	defer c.mu.Unlock()
	exec := c.execs[wantLogits]
	if exec == nil {
		exec, err = model.NewExec(c.backend, c.store, func(scope *model.Scope, images *Node) *Node {
			logits := Logits(scope, images)
			if wantLogits {
				return logits
			}
			return Softmax(logits)
		})
		if err != nil {
			return nil, err
		}
		if c.execs == nil {
			c.execs = map[bool]*model.Exec{}
		}
		c.execs[wantLogits] = exec
	}
	maxB := predictBuckets[len(predictBuckets)-1]
	probs = make([][]float32, 0, len(pix))
	for start := 0; start < len(pix); start += maxB {
		chunk := pix[start:min(start+maxB, len(pix))]
		b := maxB
		for _, bb := range predictBuckets {
			if bb >= len(chunk) {
				b = bb
				break
			}
		}
		flat := make([]float32, b*s*s)
		for i, p := range chunk {
			copy(flat[i*s*s:], p)
		}
		out, err := exec.Call1(tensors.FromFlatDataAndDimensions(flat, b, s, s, 1))
		if err != nil {
			return nil, err
		}
		values := tensors.MustCopyFlatData[float32](out)
		out.MustFinalizeAll()
		for i := range chunk {
			probs = append(probs, values[i*k:(i+1)*k])
		}
	}
	return probs, nil
}

// ExportNumpy writes every model variable as dir/<path>.npy, the path's "/" replaced by "." (e.g.
// "resnet.layer1.conv1.weights.npy"; conv weights are [K,K,Cin,Cout]), plus config.json-like
// "config.txt" with the architecture, for the PyTorch twin (bench/torch_twin.py).
func (c *Classifier) ExportNumpy(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	n := 0
	for v := range c.store.IterVariables() {
		if !strings.HasPrefix(v.Path(), ModelVarScope+"/") {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return fmt.Errorf("variable %s: %w", v.Path(), err)
		}
		name := strings.ReplaceAll(strings.TrimPrefix(v.Path(), "/"), "/", ".") + ".npy"
		if err := numpy.ToNpyFile(t, filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		n++
	}
	if n == 0 {
		return fmt.Errorf("ExportNumpy: no model variables in the store")
	}
	cfg := c.cfg
	txt := fmt.Sprintf("size %d\nwidths %s\nstrides %s\nmean %g\nstd %g\npadding %s\nhead %s\nhead_param %g\nclasses %d\n",
		cfg.Size, joinInts(cfg.Widths), joinInts(cfg.Strides), cfg.Mean, cfg.Std, cfg.padding(), cfg.head(), cfg.HeadParam,
		cfg.NumClasses())
	return os.WriteFile(filepath.Join(dir, "config.txt"), []byte(txt), 0o644)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

// SaveInference writes the model variables and architecture params of store (no optimizer state) as
// a checkpoint in dir, replacing any checkpoint there: this is what Load reads and what is shipped.
func SaveInference(store *model.Store, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	old, _ := filepath.Glob(filepath.Join(dir, "checkpoint-*"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return err
		}
	}
	inf := model.NewStore()
	SetConfig(inf, ConfigFromStore(store))
	for v := range store.IterVariables() {
		if !strings.HasPrefix(v.Path(), ModelVarScope+"/") {
			continue
		}
		t, err := v.Value()
		if err != nil {
			return err
		}
		clone, err := t.LocalClone()
		if err != nil {
			return err
		}
		if _, err := inf.CreateVariable(v.Path(), clone); err != nil {
			return err
		}
	}
	h, err := checkpoint.Build(inf).Dir(dir).Keep(1).Done()
	if err != nil {
		return err
	}
	return h.Save()
}
