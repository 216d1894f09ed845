package report

import (
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neucam/neucam/gradcam/metrics"
	"github.com/neucam/neucam/neu"
)

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

// TestWriteHTML: the page carries the legend and the glossary, links the figures instead of inlining them,
// marks a baseline (not a method) when the baseline beats every method, and a misclassified figure is flagged.
func TestWriteHTML(t *testing.T) {
	dir := t.TempDir()
	l := func(v float64) *float64 { return &v }
	wrong, right := false, true
	acc := 0.5
	r := &Results{Classes: []string{"a", "b"}, Methods: []string{"gradcam"}, Labelled: 2, Accuracy: &acc,
		Confusion: [][]int{{1, 0}, {1, 0}}, PerClassAccuracy: map[string]float64{"a": 1, "b": 0},
		Localization: map[string]metrics.Scores{
			"gradcam":                      {metrics.MetricEnergyGain: {"a": 0.2, "b": 0.6, metrics.Mean: 0.4}},
			metrics.BaselineUniform:        {metrics.MetricEnergyGain: {"a": 0, "b": 0, metrics.Mean: 0}},
			metrics.BaselineCenterGaussian: {metrics.MetricEnergyGain: {"a": 0.3, "b": 0.1, metrics.Mean: 0.2}},
			metrics.BaselineRandom:         {metrics.MetricEnergyGain: {"a": 0, "b": 0, metrics.Mean: 0}},
		}}
	r.PerImage = []ImageResult{
		{Name: "img0", PNG: "images/img0.png", Loss: l(0.1), TrueClass: "a", PredClass: "a", Correct: &right},
		{Name: "img1", PNG: "images/img1.png", Loss: l(2), TrueClass: "b", PredClass: "a", Correct: &wrong},
	}
	if err := r.WriteHTML(dir, "t"); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(filepath.Join(dir, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	html := string(page)
	for _, want := range []string{"How to read this report", "dashed white boxes", "energy gain g", "pointing game",
		"MaxBoxAccV2", "center_gaussian", `src="images/img1.png"`, `<figure class="wrong" data-true="b" data-pred="a">`,
		`<td class="bestbase" title="a baseline beats every method here">0.300</td>`, `<td class="best">0.600</td>`, "zoom(this.src)"} {
		if !strings.Contains(html, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	if strings.Contains(html, "data:image/png;base64,") {
		t.Error("figures inlined")
	}
	if strings.Index(html, "img1") > strings.Index(html, "img0.png") {
		t.Error("the misclassified image is not first")
	}
	if strings.Contains(html, `<td class="best">0.200</td>`) {
		t.Error("a method is marked best where the centred Gaussian beats it")
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
