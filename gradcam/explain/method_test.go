package explain

import (
	"strings"
	"testing"

	"github.com/neucam/neucam/gradcam"
)

func TestParseMethods(t *testing.T) {
	specs, err := ParseMethods(" gradcam, gradcam@layer3+layer4:tta , GradCAM++:smooth:logprob,lime,gradcam")
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 4 {
		t.Fatalf("got %d specs, want 4 (duplicate gradcam dropped): %+v", len(specs), specs)
	}
	if s := specs[1]; s.Name != "gradcam" || strings.Join(s.Layers, ",") != "layer3,layer4" || s.TTA != gradcam.TTADihedral {
		t.Errorf("spec 1 = %+v", s)
	}
	if s := specs[2]; s.Name != "gradcam++" || !s.Smooth || !s.LogProb || s.String() != "gradcam++:smooth:logprob" {
		t.Errorf("spec 2 = %+v", s)
	}
	if specs[3].Name != LIME {
		t.Errorf("spec 3 = %+v", specs[3])
	}
	if s, err := ParseMethod("scorecam:pgc"); err != nil || !s.PGC || s.Name != "scorecam" {
		t.Errorf("scorecam:pgc = %+v, %v", s, err)
	}
	all := "guided-gradcam@layer3,integrated-gradients,smoothgrad,vargrad,occlusion,guided-backprop,ablationcam,eigengradcam,finercam,fem,ig"
	// "ig" = integrated-gradients is dropped as a duplicate of the same canonical method.
	if specs, err := ParseMethods(all); err != nil || len(specs) != 10 || specs[9].Name != "fem" {
		t.Errorf("ParseMethods(%q) = %+v, %v", all, specs, err)
	}
	for _, bad := range []string{"gradkam", "gradcam:blur", "gradcam@", "lime:tta", "lime:pgc", "smoothgrad@layer4", "occlusion:tta", " , "} {
		if _, err := ParseMethods(bad); err == nil {
			t.Errorf("ParseMethods(%q): no error", bad)
		}
	}
}

// TestMethodRoundTrip: String is canonical and ParseMethod reads it back to the same Method, for every name and
// combination of layers and modifiers; modifiers written in another order give the same canonical string.
func TestMethodRoundTrip(t *testing.T) {
	for _, name := range MethodNames() {
		specs := []string{name}
		if f, _ := familyOf(name); f.modifiers {
			specs = append(specs, name+"@layer3+layer4:tta:smooth:logprob:pgc", name+":flips", name+":logprob:smooth")
		}
		for _, spec := range specs {
			m, err := ParseMethod(spec)
			if err != nil {
				t.Fatalf("ParseMethod(%q): %v", spec, err)
			}
			back, err := ParseMethod(m.String())
			if err != nil || back.String() != m.String() || strings.Join(back.Layers, "+") != strings.Join(m.Layers, "+") ||
				back.TTA != m.TTA || back.Smooth != m.Smooth || back.LogProb != m.LogProb || back.PGC != m.PGC || back.Name != m.Name {
				t.Errorf("%q -> %q -> %+v (%v)", spec, m.String(), back, err)
			}
		}
	}
	if m, _ := ParseMethod("GradCAM:LogProb:Smooth"); m.String() != "gradcam:smooth:logprob" {
		t.Errorf("canonical form %q", m.String())
	}
	_, err := ParseMethod("gradkam")
	if err == nil || !strings.Contains(err.Error(), ":logprob") || !strings.Contains(err.Error(), "eigencam") {
		t.Errorf("unknown-method error does not list the grammar: %v", err)
	}
}
