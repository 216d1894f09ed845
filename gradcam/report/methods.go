package report

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/lime"
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
	if m.Name == MethodLIME {
		if m.Layers != nil || m.TTA != gradcam.TTANone || m.Smooth || m.LogProb || m.PGC {
			return m, errors.Errorf("method %q: lime takes no layers or modifiers", s)
		}
		return m, nil
	}
	for _, known := range gradcam.Methods {
		if string(known) == m.Name {
			return m, nil
		}
	}
	names := []string{MethodLIME}
	for _, k := range gradcam.Methods {
		names = append(names, string(k))
	}
	return m, errors.Errorf("unknown method %q (known: %s; modifiers @layer+layer, :tta, :flips, :smooth, :logprob, :pgc)",
		s, strings.Join(names, ", "))
}

// Mapper computes, for a batch of S*S images, the class probabilities [N][K] and one map per class
// [N][K][S*S] in [0,1].
type Mapper interface {
	Maps(images [][]float32) (probs [][]float32, maps [][][]float32, err error)
}

// NewMapper builds the Mapper of one method for m.
func NewMapper(m *Model, spec MethodSpec, seed int64) (Mapper, error) {
	if spec.Name == MethodLIME {
		opts := lime.DefaultOptions()
		opts.Seed = seed
		return &limeMapper{model: m, opts: opts}, nil
	}
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
	e    *gradcam.Explainer
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
