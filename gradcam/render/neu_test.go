package render

import (
	"encoding/xml"
	"github.com/neucam/neucam/internal/neutest"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/neucam/neucam/gradcam/heatmap"
)

var classNames = []string{"crazing", "inclusion", "patches", "pitted_surface", "rolled-in_scale", "scratches"}

// vocBoxes reads the boxes of a Pascal-VOC XML (test-only: the real parser lives in package neu).
func vocBoxes(t *testing.T, path string) []Box {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Objects []struct {
			Name string `xml:"name"`
			Box  struct {
				XMin int `xml:"xmin"`
				YMin int `xml:"ymin"`
				XMax int `xml:"xmax"`
				YMax int `xml:"ymax"`
			} `xml:"bndbox"`
		} `xml:"object"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var boxes []Box
	for _, o := range doc.Objects {
		b := o.Box
		// VOC is 1-based inclusive.
		boxes = append(boxes, Box{Rect: image.Rect(b.XMin-1, b.YMin-1, b.XMax, b.YMax), Label: o.Name})
	}
	return boxes
}

func readGray(t *testing.T, path string) *image.Gray {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := jpeg.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	g := image.NewGray(img.Bounds())
	draw.Draw(g, g.Bounds(), img, img.Bounds().Min, draw.Src)
	return g
}

// blobMap is a size x size map with Gaussian blobs (peak 1) at the centres of rects given in a
// 200 px image, so the maps mimic CAMs at a different resolution from the image.
func blobMap(size int, rects []image.Rectangle, sigma float64) heatmap.Map {
	m := heatmap.Map{W: size, H: size, V: make([]float32, size*size)}
	s := float64(size) / 200
	for _, r := range rects {
		cx, cy := float64(r.Min.X+r.Max.X)/2*s, float64(r.Min.Y+r.Max.Y)/2*s
		for y := 0; y < size; y++ {
			for x := 0; x < size; x++ {
				dx, dy := float64(x)+0.5-cx, float64(y)+0.5-cy
				v := float32(math.Exp(-(dx*dx + dy*dy) / (2 * sigma * sigma * s * s)))
				m.V[y*size+x] = max(m.V[y*size+x], v)
			}
		}
	}
	return m
}

func samplePanel(t *testing.T, dir, name string) Panel {
	g := readGray(t, filepath.Join(dir, "images", name+".jpg"))
	gt := vocBoxes(t, filepath.Join(dir, "annotations", name+".xml"))
	var rects []image.Rectangle
	for _, b := range gt {
		rects = append(rects, b.Rect)
	}
	trueIdx := -1
	for i, c := range classNames {
		if len(name) > len(c) && name[:len(c)] == c && name[len(c)] == '_' {
			trueIdx = i
		}
	}
	maps := make([]heatmap.Map, len(classNames))
	probs := make([]float64, len(classNames))
	for k := range maps {
		if k == trueIdx {
			maps[k] = blobMap(28, rects, 18) // CAM-like: coarse layer resolution
			probs[k] = 0.9
		} else {
			// A weak blob in a corner for the other classes.
			maps[k] = blobMap(28, []image.Rectangle{image.Rect(20*k, 150, 20*k+40, 190)}, 25) // peak 1 already
			for i := range maps[k].V {
				maps[k].V[i] *= 0.35
			}
			probs[k] = 0.02
		}
	}
	return Panel{
		Gray: g, Name: name, TrueClass: classNames[trueIdx], PredClass: classNames[trueIdx], Prob: 0.9,
		Probs: probs, GT: gt, Maps: maps, ClassNames: classNames,
	}
}

func savePNG(t *testing.T, name string, img image.Image) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := SavePNG(path, img); err != nil {
		t.Fatal(err)
	}
	return path
}

func pngSize(t *testing.T, path string) image.Point {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return image.Pt(cfg.Width, cfg.Height)
}

func TestRenderNEUGrid(t *testing.T) {
	dir := neutest.Dir(t)
	names := []string{"inclusion_10", "patches_3", "scratches_12"}
	var panels []Panel
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, "images", n+".jpg")); err != nil {
			t.Skipf("%s missing from this copy of NEU-DET", n)
		}
		panels = append(panels, samplePanel(t, dir, n))
	}
	// Row 2: a wrong prediction with a metric line; row 3: unknown truth (no GT boxes).
	panels[1].PredClass, panels[1].Prob = "crazing", 0.61
	panels[1].Metric = "energy in GT 0.81  |  pointing game hit"
	panels[2].TrueClass = ""
	opts := DefaultOptions()
	opts.Colormap, opts.Method = Turbo, "gradcam"

	grid, err := Grid(panels, opts)
	if err != nil {
		t.Fatal(err)
	}
	path := savePNG(t, "neu_grid.png", grid)
	t.Logf("grid written to %s", path)

	// Rows: 14+400+14+400+6+bar+14+400+14 wide; the bar is 14+4+3+width("0.5")+2 px.
	bar := ColorBarWidth()
	if bar != 38 {
		t.Errorf("ColorBarWidth = %d, want 38", bar)
	}
	// Go font line heights (ascent+descent) at 14 px bold, 15 px bold and 13 px.
	title, capt, metric := lineHeight(face(titleSize, true)), lineHeight(face(captionSize, true)), lineHeight(face(metricSize, false))
	if title != 17 || capt != 19 || metric != 16 {
		t.Errorf("line heights title %d caption %d metric %d, want 17 19 16", title, capt, metric)
	}
	plain := 14 + 17 + 5 + 400 + 8 + 19 + 14 // 477
	withMetric := plain + 2 + 16             // 495
	want := image.Pt(14+400+14+400+6+38+14+400+14, plain+1+withMetric+1+plain)
	if got := pngSize(t, path); got != want || want != image.Pt(1300, 1451) {
		t.Errorf("grid PNG is %v, want %v (= 1300x1451)", got, want)
	}
	if rs := RowSize(image.Pt(200, 200), false, opts); rs != image.Pt(1300, plain) {
		t.Errorf("RowSize = %v, want 1300x%d", rs, plain)
	}

	// The last GT box of inclusion_10 is VOC (149,129)-(163,158): its bottom-right pixel, in the
	// raw tile at (14, 14+17+5) and scale 2, has the inclusion colour.
	tileX, tileY := 14, 36
	last := panels[0].GT[len(panels[0].GT)-1].Rect
	if last != image.Rect(148, 128, 163, 158) {
		t.Fatalf("parsed box %v", last)
	}
	if c := grid.RGBAAt(tileX+2*163-1, tileY+2*158-1); c != ClassColor(1) {
		t.Errorf("GT box corner pixel = %v, want inclusion colour %v", c, ClassColor(1))
	}
	// The same box on the overlay tile (third tile).
	ovX := tileX + 400 + 14 + 400 + 6 + 38 + 14
	if c := grid.RGBAAt(ovX+2*163-1, tileY+2*158-1); c != ClassColor(1) {
		t.Errorf("overlay GT box corner pixel = %v, want %v", c, ClassColor(1))
	}
	// Just inside the box the raw tile shows the image's gray.
	g := panels[0].Gray.GrayAt(155, 140).Y
	if c := grid.RGBAAt(tileX+2*155, tileY+2*140); c.R != g || c.G != g || c.B != g {
		t.Errorf("raw tile pixel inside the box = %v, want gray %d", c, g)
	}
	// The unknown-truth row has no boxes: its raw tile is exactly the upscaled image.
	row3Y := plain + 1 + withMetric + 1 + tileY
	g3 := panels[2].Gray
	for _, b := range panels[2].GT {
		p := b.Rect.Min // where a box corner would be drawn
		v := g3.GrayAt(p.X, p.Y).Y
		if c := grid.RGBAAt(tileX+2*p.X+1, row3Y+2*p.Y+1); c != (color.RGBA{v, v, v, 255}) {
			t.Errorf("row 3 raw pixel %v = %v, want gray %d", p, c, v)
		}
	}

	// The multi-label view of the first image.
	cr, err := ClassRow(panels[0], Options{Colormap: Viridis, Alpha: 0.45, Threshold: 0.5, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	cpath := savePNG(t, "neu_classrow.png", cr)
	t.Logf("class row written to %s", cpath)
	wantCR := image.Pt(14+7*200+6*14+6+38+14, 14+17+5+200+8+19+14)
	if got := pngSize(t, cpath); got != wantCR {
		t.Errorf("class row PNG is %v, want %v", got, wantCR)
	}
	if dst := os.Getenv("RENDER_DEMO_DIR"); dst != "" {
		for name, img := range map[string]image.Image{"neu_grid.png": grid, "neu_classrow.png": cr} {
			if err := SavePNG(filepath.Join(dst, name), img); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestImageRowErrors(t *testing.T) {
	g := image.NewGray(image.Rect(0, 0, 4, 4))
	p := Panel{Gray: g, Name: "x", PredClass: "b", ClassNames: []string{"a", "b"},
		Maps: []heatmap.Map{{W: 2, H: 2, V: make([]float32, 4)}, {W: 2, H: 2, V: make([]float32, 3)}}}
	if _, err := ImageRow(p, 0, DefaultOptions()); err == nil || err.Error() != `render: panel "x": map 1 (b) is 2x2 with 3 values` {
		t.Errorf("bad map: err = %v", err)
	}
	p.Maps[1].V = make([]float32, 4)
	p.PredClass = "zzz"
	if _, err := ImageRow(p, -1, DefaultOptions()); err == nil {
		t.Error("unknown predicted class: want an error")
	}
	if _, err := ImageRow(p, 2, DefaultOptions()); err == nil {
		t.Error("class index 2 of 2: want an error")
	}
	img, err := ImageRow(p, 1, Options{Alpha: 0.45, Scale: 3})
	if err != nil {
		t.Fatal(err)
	}
	if want := RowSize(image.Pt(4, 4), false, Options{Scale: 3}); img.Bounds().Size() != want {
		t.Errorf("row size %v, want %v", img.Bounds().Size(), want)
	}
}
