package report

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"image"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/gradcam/heatmap"
	"github.com/neucam/neucam/gradcam/metrics"
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

// writeImagePNG renders one image into OUT/images: NAME.png, the full figure (the methods side by side for the
// true class when known, else the predicted one; then, for the first method, the heatmap row and the
// all-classes row), and NAME.strip.png, the side-by-side row alone, which index.html embeds.
func writeImagePNG(cfg Config, ir *ImageResult, g *image.Gray, s neu.Sample, full [][][]float32, names []string) error {
	cls := -1
	if s.Label >= 0 {
		cls = s.Label
	}
	panels := make([]render.Panel, len(names))
	for mi, name := range names {
		panels[mi] = explain.NewPanel(imageOf(g, s), cfg.Model.Classes, ir.probs, gridMaps(full[mi], g.Rect.Dx(), g.Rect.Dy()))
		if im, ok := ir.Metrics[name]; ok && mi == 0 {
			panels[mi].Metric = fmt.Sprintf("%s: energy in GT %.2f (gain %.2f) | pointing game %s | IoU %.2f",
				name, im.EnergyInBox, im.EnergyGain, hitMiss(im.PointingGame), im.IoU)
		}
	}
	strip, err := render.MethodRow(panels, names, cls, cfg.Render)
	if err != nil {
		return errors.WithMessagef(err, "rendering %s", s.ImagePath)
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
	base := filepath.Join("images", safeName(s.Name))
	if err := render.SavePNG(filepath.Join(cfg.OutDir, base+".png"), render.Stack([]*image.RGBA{strip, heat, classes})); err != nil {
		return err
	}
	if err := render.SavePNG(filepath.Join(cfg.OutDir, base+".strip.png"), strip); err != nil {
		return err
	}
	ir.PNG = base + ".png"
	return nil
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

// WriteHTML writes OUT/index.html: a self-contained page (inline CSS/JS, images as data-URI PNGs read back from
// OUT/images one at a time, so memory stays bounded) with the summary, the localization table, the skipped files
// and one figure per image, most wrong first, filterable by class and by correctness. Only the first embed
// figures are inlined (each is ~300 KB; 1,500 inlined images make a 230 MB page no browser opens comfortably);
// the others are listed with links to their PNG files. embed <= 0 inlines every figure.
func (r *Results) WriteHTML(outDir, title string, embed int) error {
	path := filepath.Join(outDir, "index.html")
	f, err := os.Create(path)
	if err != nil {
		return errors.Wrapf(err, "creating %s", path)
	}
	w := bufio.NewWriter(f)
	if err := r.writeHTML(w, outDir, title, embed); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return errors.Wrapf(err, "writing %s", path)
	}
	return errors.Wrapf(f.Close(), "writing %s", path)
}

const css = `body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fafafa}
h1{margin-bottom:4px}.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:8px 0 20px;font-size:13px;background:#fff}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}
.best{font-weight:bold;background:#e8f5e9}.base{color:#777}
.controls{position:sticky;top:0;background:#fafafa;padding:8px 0;border-bottom:1px solid #ddd;z-index:1}
figure{margin:12px 0;background:#fff;border:1px solid #ddd;padding:8px;display:inline-block}
figure.wrong{border-color:#d32f2f}figcaption{font-size:13px;margin-top:4px}
figure img{max-width:100%;height:auto}.kpi{display:inline-block;margin-right:28px;font-size:18px}
.kpi b{font-size:26px;display:block}details{margin:8px 0}
.tables{display:flex;flex-wrap:wrap;gap:0 24px}.tables h3{margin:8px 0 0;font-size:15px}`

const js = `function filt(){var c=document.getElementById('cls').value,w=document.getElementById('wrong').checked,n=0;
document.querySelectorAll('figure[data-true]').forEach(function(f){var ok=(c==''||f.dataset.true==c||f.dataset.pred==c)&&(!w||f.classList.contains('wrong'));
f.style.display=ok?'':'none';if(ok)n++});document.getElementById('count').textContent=n+' shown'}`

func (r *Results) writeHTML(w io.Writer, outDir, title string, embed int) error {
	esc := html.EscapeString
	fmt.Fprintf(w, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title><style>%s</style><script>%s</script></head><body>\n",
		esc(title), css, js)
	fmt.Fprintf(w, "<h1>%s</h1><p class=\"sub\">methods: %s &middot; %d images in %.1f s</p>\n",
		esc(title), esc(strings.Join(r.Methods, ", ")), r.Images, r.Seconds)
	fmt.Fprintf(w, "<div><span class=\"kpi\"><b>%d</b>images</span>", r.Images)
	if r.Labelled > 0 {
		fmt.Fprintf(w, "<span class=\"kpi\"><b>%.1f%%</b>accuracy (%d labelled)</span>", 100*r.Accuracy, r.Labelled)
	}
	fmt.Fprintf(w, "<span class=\"kpi\"><b>%d</b>skipped files</span></div>\n", len(r.Skipped))
	if r.Labelled > 0 {
		r.writeAccuracyTable(w)
		r.writeLocalizationTables(w)
	}
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "<details open><summary>%d skipped files</summary><table><tr><th>file</th><th>reason</th></tr>", len(r.Skipped))
		for _, s := range r.Skipped {
			fmt.Fprintf(w, "<tr><td>%s</td><td style=\"text-align:left\">%s</td></tr>", esc(s.Path), esc(s.Reason))
		}
		fmt.Fprintln(w, "</table></details>")
	}
	fmt.Fprintln(w, `<div class="controls">class: <select id="cls" onchange="filt()"><option value="">all</option>`)
	for _, c := range r.Classes {
		fmt.Fprintf(w, "<option>%s</option>", esc(c))
	}
	fmt.Fprintln(w, `</select> <label><input type="checkbox" id="wrong" onchange="filt()"> misclassified only</label> <span id="count"></span> &middot; sorted most wrong first</div>`)
	for i, ir := range r.MostWrongFirst() {
		inline := embed <= 0 || i < embed
		if i == embed && embed > 0 {
			fmt.Fprintf(w, "<p class=\"sub\">The %d figures below are linked, not embedded (-embed %d); open each PNG in images/.</p>\n",
				len(r.PerImage)-embed, embed)
		}
		cls := ""
		if ir.Correct != nil && !*ir.Correct {
			cls = "wrong"
		}
		fmt.Fprintf(w, "<figure class=\"%s\" data-true=\"%s\" data-pred=\"%s\">", cls, esc(ir.TrueClass), esc(ir.PredClass))
		if ir.PNG != "" && !inline {
			fmt.Fprintf(w, "<a href=\"%s\">%s</a> ", esc(ir.PNG), esc(ir.PNG))
		}
		if ir.PNG != "" && inline {
			strip := strings.TrimSuffix(ir.PNG, ".png") + ".strip.png"
			data, err := os.ReadFile(filepath.Join(outDir, strip))
			if err != nil {
				return errors.Wrapf(err, "reading back %s", strip)
			}
			fmt.Fprintf(w, "<a href=\"%s\"><img alt=\"%s\" src=\"data:image/png;base64,%s\"></a>", esc(ir.PNG), esc(ir.Name),
				base64.StdEncoding.EncodeToString(data))
		}
		caption := fmt.Sprintf("%s: pred %s %.3f", ir.Name, ir.PredClass, ir.Prob)
		if ir.TrueClass != "" {
			caption += " / true " + ir.TrueClass
		}
		fmt.Fprintf(w, "<figcaption>%s</figcaption></figure>\n", esc(caption))
	}
	_, err := fmt.Fprintln(w, "<script>filt()</script></body></html>")
	return err
}

func (r *Results) writeAccuracyTable(w io.Writer) {
	fmt.Fprint(w, "<h2>Classification</h2><table><tr><th>true \\ predicted</th>")
	for _, c := range r.Classes {
		fmt.Fprintf(w, "<th>%s</th>", html.EscapeString(c))
	}
	fmt.Fprintln(w, "<th>accuracy</th></tr>")
	for t, row := range r.Confusion {
		fmt.Fprintf(w, "<tr><td>%s</td>", html.EscapeString(r.Classes[t]))
		for p, n := range row {
			cls := ""
			if p == t {
				cls = " class=\"best\""
			}
			fmt.Fprintf(w, "<td%s>%d</td>", cls, n)
		}
		if acc, ok := r.PerClassAccuracy[r.Classes[t]]; ok {
			fmt.Fprintf(w, "<td>%.3f</td></tr>\n", acc)
		} else {
			fmt.Fprintln(w, "<td>&ndash;</td></tr>") // no image of this class
		}
	}
	fmt.Fprintln(w, "</table>")
}

// writeLocalizationTables: one table per headline metric, classes as rows, methods then baselines as columns,
// the best method per row in bold.
func (r *Results) writeLocalizationTables(w io.Writer) {
	if len(r.Localization) == 0 {
		return
	}
	cols := append(append([]string(nil), r.Methods...), metrics.BaselineUniform, metrics.BaselineCenterGaussian, metrics.BaselineRandom)
	rows := append(append([]string(nil), r.Classes...), metrics.Mean)
	fmt.Fprintln(w, "<h2>Localization against GT boxes</h2><p class=\"sub\">each class's map scored against that class's boxes; energy gain g = (e&minus;u)/(1&minus;u), 0 = no better than a uniform map, 1 = all energy inside the boxes</p>")
	fmt.Fprintln(w, "<div class=\"tables\">")
	headline := []string{metrics.MetricEnergyGain, metrics.MetricPointingGame, metrics.MetricEnergyInBox, metrics.MetricMaxBoxAccV2, metrics.MetricIoU}
	if _, ok := r.Localization[metrics.BaselineUniform][metrics.MetricEnergyInMask]; ok {
		// The data has exact defect masks (e.g. neucam synth): those scores first.
		fmt.Fprintln(w, "<p class=\"sub\">*_mask: the same scores against the exact defect pixels (masks/), inside that class's boxes</p>")
		headline = append(slices.Clone(metrics.MaskMetrics), headline...)
	}
	for _, metric := range headline {
		fmt.Fprintf(w, "<div><h3>%s</h3><table><tr><th>class</th>", metric)
		for _, c := range cols {
			cls := ""
			if metrics.IsBaseline(c) {
				cls = " class=\"base\""
			}
			fmt.Fprintf(w, "<th%s>%s</th>", cls, html.EscapeString(c))
		}
		fmt.Fprintln(w, "</tr>")
		for _, row := range rows {
			best := ""
			bestV := -1e9
			for _, c := range r.Methods {
				if v, ok := r.Localization[c][metric][row]; ok && v > bestV {
					best, bestV = c, v
				}
			}
			fmt.Fprintf(w, "<tr><td>%s</td>", html.EscapeString(row))
			for _, c := range cols {
				v, ok := r.Localization[c][metric][row]
				cls := ""
				if c == best {
					cls = " class=\"best\""
				} else if metrics.IsBaseline(c) {
					cls = " class=\"base\""
				}
				if ok {
					fmt.Fprintf(w, "<td%s>%.3f</td>", cls, v)
				} else {
					fmt.Fprintf(w, "<td%s>&ndash;</td>", cls)
				}
			}
			fmt.Fprintln(w, "</tr>")
		}
		fmt.Fprintln(w, "</table></div>")
	}
	fmt.Fprintln(w, "</div>")
}
