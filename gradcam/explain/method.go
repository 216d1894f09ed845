package explain

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/pixel"
)

// LIME is the model-agnostic LIME explanation (gradcam/lime), usable wherever a CAM method is.
const LIME = "lime"

// DefaultMethods is what the explain and evaluate commands use when -methods is not given.
var DefaultMethods = []string{"gradcam", "gradcam++", "layercam", "scorecam"}

// Method is a parsed method string: NAME[@LAYER[+LAYER...]][:MODIFIER...] with the modifiers tta (the 8
// flips/rotations), flips (the 4 flips), smooth (noise averaging), logprob (differentiate log p_k instead of
// the logit) and pgc (pytorch-grad-cam's formula where ours differs: gradcam++, eigencam, scorecam). String gives
// the canonical form, which ParseMethod reads back to the same Method.
type Method struct {
	Name    string          `json:"name"`             // a gradcam.Method, a pixel.Method or LIME
	Layers  []string        `json:"layers,omitempty"` // target layers; none: the model's default
	TTA     gradcam.TTAMode `json:"tta,omitempty"`
	Smooth  bool            `json:"smooth,omitempty"`
	LogProb bool            `json:"logprob,omitempty"`
	PGC     bool            `json:"pgc,omitempty"` // pytorch-grad-cam's own formula (gradcam.Options.PGC)
}

// String is the canonical spec: name, @layers joined by +, then :tta or :flips, :smooth, :logprob.
func (m Method) String() string {
	s := m.Name
	if len(m.Layers) > 0 {
		s += "@" + strings.Join(m.Layers, "+")
	}
	switch m.TTA {
	case gradcam.TTADihedral:
		s += ":tta"
	case gradcam.TTAFlips:
		s += ":flips"
	}
	if m.Smooth {
		s += ":smooth"
	}
	if m.LogProb {
		s += ":logprob"
	}
	if m.PGC {
		s += ":pgc"
	}
	return s
}

// family is one kind of method: its names, what a spec may carry and how its maps are computed. Adding a method
// to gradcam.Methods or pixel.Methods makes it available here; a new kind is one entry.
type family struct {
	names      []string
	layers     bool     // @layer+layer allowed
	layerNames []string // the only names of the family that take @layers, when !layers
	modifiers  bool     // :tta, :flips, :smooth, :logprob, :pgc allowed
	kind       kind
}

type kind int

const (
	kindLIME kind = iota
	kindCAM
	kindPixel
)

var families = []family{
	{names: []string{LIME}, kind: kindLIME},
	{names: names(gradcam.Methods), layers: true, modifiers: true, kind: kindCAM},
	{names: names(pixel.Methods), layerNames: []string{string(pixel.GuidedGradCAM)}, kind: kindPixel},
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

func names[T ~string](ms []T) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = string(m)
	}
	return out
}

// familyOf returns the family of a method name.
func familyOf(name string) (family, bool) {
	for _, f := range families {
		if slices.Contains(f.names, name) {
			return f, true
		}
	}
	return family{}, false
}

// MethodNames lists every method name ParseMethod accepts (aliases aside).
func MethodNames() []string {
	var all []string
	for _, f := range families {
		all = append(all, f.names...)
	}
	return all
}

// MethodSyntax describes the grammar, every name and the aliases, for command help and error messages.
func MethodSyntax() string {
	var aliases []string
	for _, a := range slices.Sorted(maps.Keys(methodAliases)) {
		aliases = append(aliases, a+"="+methodAliases[a])
	}
	return "NAME[@LAYER[+LAYER]][:tta|:flips][:smooth][:logprob][:pgc] with NAME one of " + strings.Join(MethodNames(), ", ") +
		" (aliases " + strings.Join(aliases, ", ") + "); :tta = 8 flips/rotations averaged, :flips = 4 flips, " +
		":smooth = noise averaging, :logprob = explain log p instead of the logit, :pgc = pytorch-grad-cam's formula"
}

// ParseMethod parses one method spec (see Method); names are case-insensitive.
func ParseMethod(s string) (Method, error) {
	spec := strings.ToLower(strings.TrimSpace(s))
	var m Method
	if i := strings.Index(spec, ":"); i >= 0 {
		for _, mod := range strings.Split(spec[i+1:], ":") {
			if err := m.setModifier(mod); err != nil {
				return m, fmt.Errorf("method %q: %w", s, err)
			}
		}
		spec = spec[:i]
	}
	if i := strings.Index(spec, "@"); i >= 0 {
		for _, l := range strings.Split(spec[i+1:], "+") {
			if l = strings.TrimSpace(l); l != "" {
				m.Layers = append(m.Layers, l)
			}
		}
		if len(m.Layers) == 0 {
			return m, fmt.Errorf("method %q: empty layer list after @", s)
		}
		spec = spec[:i]
	}
	m.Name = spec
	if full, ok := methodAliases[m.Name]; ok {
		m.Name = full
	}
	f, ok := familyOf(m.Name)
	if !ok {
		return m, fmt.Errorf("unknown method %q: want %s", s, MethodSyntax())
	}
	modified := m.TTA != gradcam.TTANone || m.Smooth || m.LogProb || m.PGC
	if (m.Layers != nil && !f.layers && !slices.Contains(f.layerNames, m.Name)) || (modified && !f.modifiers) {
		return m, fmt.Errorf("method %q: %s takes no layers or modifiers", s, m.Name)
	}
	return m, nil
}

func (m *Method) setModifier(mod string) error {
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
		return fmt.Errorf("unknown modifier %q (want tta, flips, smooth, logprob or pgc)", mod)
	}
	return nil
}

// ParseMethods parses a comma-separated list of method specs; duplicates (same canonical form) are dropped.
func ParseMethods(list string) ([]Method, error) {
	var out []Method
	seen := map[string]bool{}
	for _, s := range strings.Split(list, ",") {
		if strings.TrimSpace(s) == "" {
			continue
		}
		m, err := ParseMethod(s)
		if err != nil {
			return nil, err
		}
		if !seen[m.String()] {
			seen[m.String()] = true
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no method given in %q", list)
	}
	return out, nil
}
