package display

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/png"
	"regexp"
	"strings"
	"testing"

	"github.com/neucam/neucam/gradcam/heatmap"
	"github.com/neucam/neucam/gradcam/render"
)

func init() { inNotebook = func() bool { return false } }

var names = []string{"a", "b", "c"}

func panel(name, truth, pred string) render.Panel {
	g := image.NewGray(image.Rect(0, 0, 20, 10))
	for i := range g.Pix {
		g.Pix[i] = uint8(i)
	}
	maps := make([]heatmap.Map, len(names))
	for k := range maps {
		maps[k] = heatmap.Map{W: 4, H: 2, V: []float32{0, 0.2, 0.4, 1, 0, 0, 0.5, float32(k) / 2}}
	}
	return render.Panel{Gray: g, Name: name, TrueClass: truth, PredClass: pred, Prob: 0.75,
		GT: []render.Box{{Rect: image.Rect(2, 2, 8, 6), Label: truth}}, Maps: maps, ClassNames: names}
}

var dataURI = regexp.MustCompile(`src="data:image/png;base64,([^"]+)"`)

// figureSizes decodes every data-URI PNG of s and returns their sizes.
func figureSizes(t *testing.T, s string) []image.Point {
	t.Helper()
	var sizes []image.Point
	for _, m := range dataURI.FindAllStringSubmatch(s, -1) {
		raw, err := base64.StdEncoding.DecodeString(m[1])
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, image.Pt(cfg.Width, cfg.Height))
	}
	return sizes
}

func TestShowOutsideNotebook(t *testing.T) {
	ps := []render.Panel{panel("x", "a", "a")}
	img := image.NewRGBA(image.Rect(0, 0, 2, 2))
	for name, err := range map[string]error{
		"ShowImage":     ShowImage(img),
		"ShowRows":      ShowRows(ps, render.DefaultOptions()),
		"ShowClassRows": ShowClassRows(ps, render.DefaultOptions()),
		"ShowGrid":      ShowGrid(ps, render.DefaultOptions()),
		"Explorer.Run": (&Explorer{ClassNames: names, Methods: []string{"m"},
			Compute: func(string) ([]render.Panel, error) { return ps, nil }}).Run(),
	} {
		if !errors.Is(err, ErrNotNotebook) {
			t.Errorf("%s outside GoNB: err = %v, want ErrNotNotebook", name, err)
		}
	}
	// Bad input is reported before the notebook check.
	bad := panel("bad", "a", "zzz")
	if err := ShowRows([]render.Panel{bad}, render.DefaultOptions()); err == nil || errors.Is(err, ErrNotNotebook) {
		t.Errorf("ShowRows with an unknown predicted class: err = %v", err)
	}
	if err := (&Explorer{}).Run(); err == nil || errors.Is(err, ErrNotNotebook) {
		t.Errorf("Explorer without methods: err = %v", err)
	}
}

func TestRowsHTML(t *testing.T) {
	ps := []render.Panel{panel("one", "a", "b"), panel("two", "", "c")}
	opts := render.Options{Alpha: 0.45, Threshold: 0.5, Scale: 3}
	s, err := RowsHTML(ps, -1, opts)
	if err != nil {
		t.Fatal(err)
	}
	want := render.RowSize(image.Pt(20, 10), false, opts)
	sizes := figureSizes(t, s)
	if len(sizes) != 2 || sizes[0] != want || sizes[1] != want {
		t.Errorf("figure sizes %v, want 2 x %v", sizes, want)
	}
	if n := strings.Count(s, "<figure"); n != 2 {
		t.Errorf("%d figures, want 2", n)
	}
	if !strings.HasPrefix(s, `<div class="neucam"`) || !strings.HasSuffix(s, "</div>") {
		t.Errorf("not wrapped in the neucam div: %.60s ... %s", s, s[len(s)-10:])
	}
}

func TestExplorerView(t *testing.T) {
	calls := map[string]int{}
	e := &Explorer{
		ClassNames: names,
		Methods:    []string{"gradcam", "<broken>"},
		Compute: func(m string) ([]render.Panel, error) {
			calls[m]++
			if m == "<broken>" {
				return nil, errors.New("no gradients & no luck")
			}
			return []render.Panel{panel("p1", "a", "a"), panel("p2", "b", "c")}, nil
		},
		Options: render.Options{Alpha: 0.45, Threshold: 0.5, Scale: 1},
	}
	// Class option 2 = class "b", alpha 30, threshold 0 (boxes off).
	s, err := e.viewHTML(2, 0, 30, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s, "gradcam · b · alpha 0.30 · CAM boxes off · 2 images") {
		t.Errorf("summary missing: %.300s", s)
	}
	rowSize := render.RowSize(image.Pt(20, 10), false, render.Options{Alpha: 0.45, Threshold: 0.5, Scale: 1})
	if got := figureSizes(t, s); len(got) != 2 || got[0] != rowSize {
		t.Errorf("image rows %v, want 2 x %v", got, rowSize)
	}
	// "all classes": one ClassRow per panel, wider than an image row (raw + 3 overlays + bar).
	s, _ = e.viewHTML(len(names)+1, 0, 45, 60)
	if !strings.Contains(s, "all classes · alpha 0.45 · CAM boxes &gt;= 0.60 of max") {
		t.Errorf("summary missing: %.300s", s)
	}
	cr, err := render.ClassRow(panel("p1", "a", "a"), render.Options{Alpha: 0.45, Threshold: 0.5, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := figureSizes(t, s); len(got) != 2 || got[0] != cr.Bounds().Size() {
		t.Errorf("class rows %v, want 2 x %v", got, cr.Bounds().Size())
	}
	// A failing method shows its escaped error in the block.
	s, _ = e.viewHTML(0, 1, 45, 50)
	want := `computing maps with &#34;&lt;broken&gt;&#34;: no gradients &amp; no luck`
	if !strings.Contains(s, want) || !strings.Contains(s, "<pre") {
		t.Errorf("error view = %s", s)
	}
	// Out-of-range control values are clamped, not a panic.
	if _, err := e.viewHTML(99, 99, 100, 100); err != nil {
		t.Error(err)
	}
	// Compute is called once per method per session (each viewHTML is a new session).
	if calls["gradcam"] != 2 || calls["<broken>"] != 2 {
		t.Errorf("compute calls %v", calls)
	}
	sess, _ := e.newSession()
	for i := 0; i < 3; i++ {
		sess.setAlpha(10 * i)
		_ = sess.html()
	}
	if calls["gradcam"] != 3 {
		t.Errorf("compute not cached within a session: %v", calls)
	}
}
