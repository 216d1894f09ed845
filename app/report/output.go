package report

import (
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/gradcam/heatmap"
	"github.com/neucam/neucam/gradcam/render"
	"github.com/neucam/neucam/neu"
)

// imageOf is the explain-layer view of a sample whose gray image is g (boxes already on g's grid).
func imageOf(g *image.Gray, s neu.Sample) explain.Image {
	im := explain.Image{Name: s.Name, Gray: g, Label: s.Label}
	for _, b := range s.Boxes {
		im.Boxes = append(im.Boxes, explain.Box{Class: b.Class, Rect: b.Rect})
	}
	return im
}

// gridMaps wraps per-class maps on the w x h image grid.
func gridMaps(maps [][]float32, w, h int) []heatmap.Map {
	out := make([]heatmap.Map, len(maps))
	for k, m := range maps {
		out[k] = heatmap.Map{W: w, H: h, V: m}
	}
	return out
}

// writeImagePNG renders one image into OUT/images/NAME.png: the image with its GT boxes and the methods' overlays
// side by side for the true class (the predicted one when unlabelled); for a misclassified image a second row shows
// the maps of the predicted class, which explain the error. With Config.AllClasses, NAME.classes.png adds the
// first method's heatmap row and its all-classes row.
func writeImagePNG(cfg Config, ir *ImageResult, g *image.Gray, s neu.Sample, full [][][]float32, names []string) error {
	panels := make([]render.Panel, len(names))
	for mi := range names {
		panels[mi] = explain.NewPanel(imageOf(g, s), cfg.Model.Classes, ir.probs, gridMaps(full[mi], g.Rect.Dx(), g.Rect.Dy()))
	}
	cls, pred := s.Label, heatmap.ArgMax(ir.probs)
	if cls < 0 {
		cls = pred
	}
	rows := []int{cls}
	if cls != pred {
		rows = append(rows, pred)
	}
	var imgs []*image.RGBA
	for _, c := range rows {
		row, err := render.MethodRow(panels, names, c, cfg.Render)
		if err != nil {
			return errors.WithMessagef(err, "rendering %s", s.ImagePath)
		}
		imgs = append(imgs, row)
	}
	base := filepath.Join("images", safeName(s.Name))
	if err := savePNG(filepath.Join(cfg.OutDir, base+".png"), render.Stack(imgs)); err != nil {
		return err
	}
	ir.PNG = filepath.ToSlash(base + ".png")
	if !cfg.AllClasses {
		return nil
	}
	opts := cfg.Render
	opts.Method = names[0]
	heat, err := render.ImageRow(panels[0], cls, opts)
	if err != nil {
		return errors.WithMessagef(err, "rendering %s", s.ImagePath)
	}
	classes, err := render.ClassRow(panels[0], opts)
	if err != nil {
		return errors.WithMessagef(err, "rendering %s", s.ImagePath)
	}
	return savePNG(filepath.Join(cfg.OutDir, base+".classes.png"), render.Stack([]*image.RGBA{heat, classes}))
}

// savePNG writes img with its colour channels rounded to 6 bits: indistinguishable on screen (steps of 4 of
// 255) and a third smaller, since overlays of steel texture are noisy and PNG's deflate gains little on them.
func savePNG(path string, img *image.RGBA) error {
	for i := range img.Pix {
		if i%4 != 3 {
			img.Pix[i] = uint8(min(255, (int(img.Pix[i])+2)/4*4))
		}
	}
	return render.SavePNG(path, img)
}

func hitMiss(v float64) string {
	if v >= 0.5 {
		return "hit"
	}
	return "miss"
}

// safeName keeps file names portable: anything but letters, digits, '-', '_' and '.' becomes '_'.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, s)
}

// WriteJSON writes the results (pretty-printed) to path.
func (r *Results) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return errors.Wrap(err, "encoding results")
	}
	return errors.Wrapf(os.WriteFile(path, append(data, '\n'), 0o644), "writing %s", path)
}

// MostWrongFirst returns the per-image results ordered by loss (largest first); images without a known class
// follow, least confident first.
func (r *Results) MostWrongFirst() []ImageResult {
	out := append([]ImageResult(nil), r.PerImage...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Loss != nil) != (b.Loss != nil) {
			return a.Loss != nil
		}
		if a.Loss != nil {
			return *a.Loss > *b.Loss
		}
		return a.Prob < b.Prob
	})
	return out
}

// ReadResults reads a results.json written by WriteJSON (the per-image predictions' probabilities come back through
// the Probs map; the localization accumulators do not: WriteTable needs the Results of Run).
func ReadResults(path string) (*Results, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, errors.Wrapf(err, "reading %s", path)
	}
	return &r, nil
}
