package report

import (
	"encoding/base64"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/resnet"
	"github.com/neucam/neucam/neu"
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
	if s := specs[2]; s.Name != "gradcam++" || !s.Smooth || !s.LogProb || s.Spec != "gradcam++:smooth:logprob" {
		t.Errorf("spec 2 = %+v", s)
	}
	if specs[3].Name != MethodLIME {
		t.Errorf("spec 3 = %+v", specs[3])
	}
	if s, err := ParseMethod("scorecam:pgc"); err != nil || !s.PGC || s.Name != "scorecam" {
		t.Errorf("scorecam:pgc = %+v, %v", s, err)
	}
	all := "guided-gradcam@layer3,integrated-gradients,smoothgrad,vargrad,occlusion,guided-backprop,ablationcam,eigengradcam,finercam,fem,ig"
	if specs, err := ParseMethods(all); err != nil || len(specs) != 11 || specs[10].Name != "integrated-gradients" {
		t.Errorf("ParseMethods(%q) = %+v, %v", all, specs, err)
	}
	for _, bad := range []string{"gradkam", "gradcam:blur", "gradcam@", "lime:tta", "lime:pgc", "smoothgrad@layer4", "occlusion:tta", " , "} {
		if _, err := ParseMethods(bad); err == nil {
			t.Errorf("ParseMethods(%q): no error", bad)
		}
	}
}

// TestRandomizedModel: the sanity-check copy re-initialises exactly the variables under the given scopes
// (weights He-normal, batch-norm scale/variance 1, the rest 0) and leaves the original model untouched.
func TestRandomizedModel(t *testing.T) {
	backend, err := resnet.NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	resnet.SetConfig(store, resnet.Config{Size: 16, Widths: []int{4, 4, 8, 8}, Strides: []int{2, 2, 2, 1, 1}, Mean: 0.5, Std: 0.25})
	c, err := resnet.NewClassifier(backend, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Predict([][]float32{make([]float32, 16*16)}); err != nil { // creates the variables
		t.Fatal(err)
	}
	m := NEUModel(c)
	before := snapshot(t, m)
	rm, err := RandomizedModel(m, NEURandomizeScopes, 7)
	if err != nil {
		t.Fatal(err)
	}
	after, orig := snapshot(t, rm), snapshot(t, m)
	changed := 0
	for path, v := range before {
		if !equal(orig[path], v) {
			t.Errorf("original variable %s changed", path)
		}
		top := strings.HasPrefix(path, "/resnet/layer4/") || strings.HasPrefix(path, "/resnet/head/")
		same := equal(after[path], v)
		if !top && !same {
			t.Errorf("%s outside the randomised scopes changed", path)
		}
		if top && strings.HasSuffix(path, "/weights") {
			if same {
				t.Errorf("%s was not re-initialised", path)
			}
			changed++
		}
		if top && (strings.HasSuffix(path, "/scale") || strings.HasSuffix(path, "/variance")) {
			for _, x := range after[path] {
				if x != 1 {
					t.Fatalf("%s = %v after randomisation, want 1", path, after[path])
				}
			}
		}
	}
	if changed < 3 {
		t.Errorf("only %d weight tensors re-initialised", changed)
	}
	if _, err := RandomizedModel(m, []string{"/nowhere"}, 1); err == nil {
		t.Error("randomising an empty scope: no error")
	}
}

func snapshot(t *testing.T, m *Model) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for v := range m.Store.IterVariables() {
		val, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		if v.DType() != dtypes.Float32 {
			continue // e.g. the RNG state
		}
		flat, err := tensors.CopyFlatData[float32](val)
		if err != nil {
			t.Fatal(err)
		}
		out[v.Path()] = flat
	}
	return out
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(float64(a[i])) && math.IsNaN(float64(b[i]))) {
			return false
		}
	}
	return true
}

func TestMostWrongFirst(t *testing.T) {
	l := func(v float64) *float64 { return &v }
	r := &Results{PerImage: []ImageResult{
		{Name: "ok", Loss: l(0.01)}, {Name: "unknown-confident", Prob: 0.9}, {Name: "wrong", Loss: l(3)},
		{Name: "unknown-unsure", Prob: 0.4}, {Name: "meh", Loss: l(0.7)},
	}}
	var got []string
	for _, ir := range r.MostWrongFirst() {
		got = append(got, ir.Name)
	}
	if want := "wrong meh ok unknown-unsure unknown-confident"; strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

// TestWriteHTMLEmbedLimit: the first `embed` figures (most wrong first) are inlined, the rest linked.
func TestWriteHTMLEmbedLimit(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "images"), 0o755); err != nil {
		t.Fatal(err)
	}
	l := func(v float64) *float64 { return &v }
	r := &Results{Classes: []string{"a", "b"}, Methods: []string{"gradcam"}}
	for i, loss := range []float64{0.1, 2, 0.5} {
		name := fmt.Sprintf("img%d", i)
		if err := os.WriteFile(filepath.Join(dir, "images", name+".strip.png"), []byte("png-"+name), 0o644); err != nil {
			t.Fatal(err)
		}
		r.PerImage = append(r.PerImage, ImageResult{Name: name, PNG: "images/" + name + ".png", Loss: l(loss), PredClass: "a"})
	}
	if err := r.WriteHTML(dir, "t", 2); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	if n := strings.Count(html, "data:image/png;base64,"); n != 2 {
		t.Errorf("%d inlined figures, want 2", n)
	}
	// img1 (loss 2) and img2 (0.5) are inlined; img0 (0.1) is only linked.
	for _, want := range []string{base64.StdEncoding.EncodeToString([]byte("png-img1")), base64.StdEncoding.EncodeToString([]byte("png-img2")),
		`<a href="images/img0.png">images/img0.png</a>`} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if strings.Contains(html, base64.StdEncoding.EncodeToString([]byte("png-img0"))) {
		t.Error("img0 was inlined beyond the limit")
	}
}

func TestFitDisplay(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 4000, 2000))
	boxes := []neu.Box{{Class: 1, Rect: image.Rect(1000, 500, 2000, 1500)}}
	out, scaled := fitDisplay(g, boxes)
	if out.Bounds() != image.Rect(0, 0, MaxGridSide, MaxGridSide/2) {
		t.Errorf("scaled to %v, want %dx%d", out.Bounds(), MaxGridSide, MaxGridSide/2)
	}
	if scaled[0].Rect != image.Rect(200, 100, 400, 300) || scaled[0].Class != 1 || boxes[0].Rect.Min.X != 1000 {
		t.Errorf("box scaled to %v (original now %v)", scaled[0].Rect, boxes[0].Rect)
	}
	small := image.NewGray(image.Rect(0, 0, 200, 200))
	if out, _ := fitDisplay(small, nil); out != small {
		t.Error("a 200x200 image was resampled")
	}
}
