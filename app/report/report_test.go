package report

import (
	"encoding/base64"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
