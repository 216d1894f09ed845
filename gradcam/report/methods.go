package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/lime"
	"github.com/neucam/neucam/gradcam/pixel"
)

// Model is what a report needs of a trained image classifier: a backend, its variables, the graph function with
// named feature maps, its input size and class names.
type Model struct {
	Backend     compute.Backend
	Store       *model.Store
	Fn          gradcam.ModelFn
	Size        int      // input side S; images are S*S gray in [0,1]
	Classes     []string // class names, in logit order
	Layers      []string // default target layers for CAM methods, e.g. {"layer4"}
	HeadWeights gradcam.HeadWeightsFn
}

// MethodLIME is the model-agnostic LIME explanation (gradcam/lime), usable wherever a CAM method is.
const MethodLIME = "lime"

// DefaultMethods is what explain/evaluate use when -methods is not given.
var DefaultMethods = []string{"gradcam", "gradcam++", "layercam", "scorecam"}

// MethodSpec is a parsed method string: NAME[@LAYER[+LAYER...]][:MODIFIER...] with modifiers tta (the 8
// flips/rotations), flips (the 4 flips), smooth (noise averaging), logprob (differentiate log p_k instead of
// the logit) and pgc (pytorch-grad-cam's formula where ours differs: gradcam++, eigencam, scorecam). Examples: "gradcam", "gradcam@layer3+layer4", "gradcam++:tta", "gradcam:logprob:flips", "lime".
type MethodSpec struct {
	Spec    string // as written
	Name    string // a gradcam.Method or "lime"
	Layers  []string
	TTA     gradcam.TTAMode
	Smooth  bool
	LogProb bool
	PGC     bool // pytorch-grad-cam's own formula (gradcam.Options.PGC)
}

// ParseMethods parses a comma-separated list of method specs.
func ParseMethods(list string) ([]MethodSpec, error) {
	var out []MethodSpec
	seen := map[string]bool{}
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		m, err := ParseMethod(s)
		if err != nil {
			return nil, err
		}
		if seen[m.Spec] {
			continue
		}
		seen[m.Spec] = true
		out = append(out, m)
	}
	if len(out) == 0 {
		return nil, errors.Errorf("no method given in %q", list)
	}
	return out, nil
}

// ParseMethod parses one method spec (see MethodSpec).
func ParseMethod(s string) (MethodSpec, error) {
	m := MethodSpec{Spec: strings.ToLower(strings.TrimSpace(s))}
	rest := m.Spec
	if i := strings.Index(rest, ":"); i >= 0 {
		for _, mod := range strings.Split(rest[i+1:], ":") {
			switch mod {
			case "tta":
				m.TTA = gradcam.TTADihedral
			case "flips":
				m.TTA = gradcam.TTAFlips
			case "smooth":
				m.Smooth = true
			case "logprob":
				m.LogProb = true
			case "pgc":
				m.PGC = true
			default:
				return m, errors.Errorf("method %q: unknown modifier %q (want tta, flips, smooth, logprob or pgc)", s, mod)
			}
		}
		rest = rest[:i]
	}
	if i := strings.Index(rest, "@"); i >= 0 {
		for _, l := range strings.Split(rest[i+1:], "+") {
			if l = strings.TrimSpace(l); l != "" {
				m.Layers = append(m.Layers, l)
			}
		}
		if len(m.Layers) == 0 {
			return m, errors.Errorf("method %q: empty layer list after @", s)
		}
		rest = rest[:i]
	}
	m.Name = rest
	if full, ok := methodAliases[m.Name]; ok {
		m.Name = full
	}
	var names []string
	for _, f := range families {
		if !slices.Contains(f.names, m.Name) {
			names = append(names, f.names...)
			continue
		}
		modified := m.TTA != gradcam.TTANone || m.Smooth || m.LogProb || m.PGC
		if (m.Layers != nil && !f.layers && !slices.Contains(f.layerNames, m.Name)) || (modified && !f.modifiers) {
			return m, errors.Errorf("method %q: %s takes no layers or modifiers", s, m.Name)
		}
		return m, nil
	}
	return m, errors.Errorf("unknown method %q (known: %s; aliases %v; modifiers @layer+layer, :tta, :flips, :smooth, :logprob, :pgc)",
		s, strings.Join(names, ", "), methodAliases)
}

// family is one kind of method the report runs: its names, what the spec may carry and how to build its Mapper.
// Adding a method to gradcam.Methods or pixel.Methods makes it available here; a new kind is one entry.
type family struct {
	names      []string
	layers     bool     // @layer+layer allowed
	layerNames []string // the only names of the family that take @layers, when !layers
	modifiers  bool     // :tta, :flips, :smooth, :logprob, :pgc allowed
	mapper     func(m *Model, spec MethodSpec, seed int64) (Mapper, error)
}

var families = []family{
	{names: []string{MethodLIME}, mapper: newLIMEMapper},
	{names: names(gradcam.Methods), layers: true, modifiers: true, mapper: newCAMMapper},
	{names: names(pixel.Methods), layerNames: []string{string(pixel.GuidedGradCAM)}, mapper: newPixelMapper},
}

// methodAliases are other names accepted for methods (as other libraries call them).
var methodAliases = map[string]string{
	"ig":             string(pixel.IntegratedGradients),
	"guidedgradcam":  string(pixel.GuidedGradCAM),
	"guidedbackprop": string(pixel.GuidedBackprop),
	"gradcampp":      string(gradcam.GradCAMPlusPlus),
	"ablation-cam":   string(gradcam.AblationCAM),
	"eigen-grad-cam": string(gradcam.EigenGradCAM),
	"finer-cam":      string(gradcam.FinerCAM),
	"noisetunnel":    string(pixel.SmoothGrad),
}

// MethodHelp lists every method name and the aliases, for usage texts.
func MethodHelp() string {
	var all []string
	for _, f := range families {
		all = append(all, f.names...)
	}
	var aliases []string
	for _, a := range slices.Sorted(maps.Keys(methodAliases)) {
		aliases = append(aliases, a+"="+methodAliases[a])
	}
	return strings.Join(all, ", ") + " (aliases " + strings.Join(aliases, ", ") + ")"
}

func names[T ~string](ms []T) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m)
	}
	return out
}

// Mapper computes, for a batch of S*S images, the class probabilities [N][K] and one map per class
// [N][K][S*S] in [0,1].
type Mapper interface {
	Maps(images [][]float32) (probs [][]float32, maps [][][]float32, err error)
}

// NewMapper builds the Mapper of one method for m.
func NewMapper(m *Model, spec MethodSpec, seed int64) (Mapper, error) {
	for _, f := range families {
		if slices.Contains(f.names, spec.Name) {
			return f.mapper(m, spec, seed)
		}
	}
	return nil, errors.Errorf("unknown method %q", spec.Name)
}

func newLIMEMapper(m *Model, _ MethodSpec, seed int64) (Mapper, error) {
	opts := lime.DefaultOptions()
	opts.Seed = seed
	return &limeMapper{model: m, opts: opts}, nil
}

// newPixelMapper builds a gradcam/pixel method (guided-gradcam's Grad-CAM on spec's or the model's layers).
func newPixelMapper(m *Model, spec MethodSpec, seed int64) (Mapper, error) {
	opts := pixel.DefaultOptions(pixel.Method(spec.Name))
	opts.Layers, opts.Seed = spec.Layers, uint64(seed)
	if len(opts.Layers) == 0 {
		opts.Layers = m.Layers
	}
	e, err := pixel.NewExplainer(m.Backend, m.Store, m.Fn, opts)
	if err != nil {
		return nil, err
	}
	return &camMapper{e: e, size: m.Size}, nil
}

func newCAMMapper(m *Model, spec MethodSpec, seed int64) (Mapper, error) {
	layers := spec.Layers
	if len(layers) == 0 {
		layers = m.Layers
	}
	opts := gradcam.Options{
		Method:      gradcam.Method(spec.Name),
		Layers:      layers,
		HeadWeights: m.HeadWeights,
		TTA:         spec.TTA,
		Seed:        uint64(seed),
	}
	if spec.Smooth {
		opts.NoiseSamples = 8
	}
	if spec.LogProb {
		opts.Score = gradcam.ScoreLogProb
	}
	opts.PGC = spec.PGC
	if opts.Method == gradcam.ScoreCAM && !spec.PGC {
		opts.ScoreCAMTopK = 32 // the 32 most active channels carry nearly all of the map; bounds the cost
	}
	e, err := gradcam.NewExplainer(m.Backend, m.Store, m.Fn, opts)
	if err != nil {
		return nil, err
	}
	return &camMapper{e: e, size: m.Size}, nil
}

type camMapper struct {
	e interface {
		Explain(images [][]float32, size int, targets ...int) (*gradcam.Result, error)
	}
	size int
}

func (c *camMapper) Maps(images [][]float32) ([][]float32, [][][]float32, error) {
	r, err := c.e.Explain(images, c.size)
	if err != nil {
		return nil, nil, err
	}
	return r.Probs, r.Maps, nil
}

type limeMapper struct {
	model *Model
	opts  lime.Options
	pred  *gradcam.Explainer
}

func (l *limeMapper) Maps(images [][]float32) ([][]float32, [][][]float32, error) {
	if l.pred == nil {
		e, err := gradcam.NewExplainer(l.model.Backend, l.model.Store, l.model.Fn,
			gradcam.Options{Layers: l.model.Layers, BatchSize: 64})
		if err != nil {
			return nil, nil, err
		}
		l.pred = e
	}
	predict := func(batch [][]float32) ([][]float32, error) { return l.pred.Predict(batch, l.model.Size) }
	probs := make([][]float32, len(images))
	maps := make([][][]float32, len(images))
	for i, img := range images {
		r, err := lime.Explain(predict, img, l.model.Size, l.opts)
		if err != nil {
			return nil, nil, fmt.Errorf("lime: image %d: %w", i, err)
		}
		probs[i], maps[i] = r.Probs, r.Maps
	}
	return probs, maps, nil
}
