package report

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam/metrics"
)

// WriteHTML writes OUT/index.html: the summary, a legend and a glossary, the classification and localization
// tables (methods beside the baselines), detection scores, the skipped files and one figure per image (most
// wrong first, filterable by class and correctness; click to enlarge) with the image's scores for every method and
// the boxes read from its maps. Figures are linked from OUT/images (loaded lazily), not inlined, so the page stays
// small whatever the number of images.
func (r *Results) WriteHTML(outDir, title string) error {
	path := filepath.Join(outDir, "index.html")
	f, err := os.Create(path)
	if err != nil {
		return errors.Wrapf(err, "creating %s", path)
	}
	w := bufio.NewWriter(f)
	r.writeHTML(w, title)
	if err := w.Flush(); err != nil {
		f.Close()
		return errors.Wrapf(err, "writing %s", path)
	}
	return errors.Wrapf(f.Close(), "writing %s", path)
}

const css = `body{font-family:system-ui,sans-serif;margin:24px;color:#222;background:#fafafa;max-width:1500px}
h1{margin-bottom:4px}.sub{color:#666;margin-top:0}
table{border-collapse:collapse;margin:8px 0 20px;font-size:13px;background:#fff}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}
.best{font-weight:bold;background:#e8f5e9}.base{color:#777}.bestbase{font-weight:bold;color:#777;background:#fff3e0}
.controls{position:sticky;top:0;background:#fafafa;padding:8px 0;border-bottom:1px solid #ddd;z-index:1}
figure{margin:12px 0;background:#fff;border:1px solid #ddd;padding:8px;display:inline-block;vertical-align:top}
figure.wrong{border-color:#d32f2f}figcaption{font-size:13px;margin-top:4px}figcaption table{margin:4px 0}
figure img{max-width:100%;height:auto;cursor:zoom-in}.kpi{display:inline-block;margin-right:28px;font-size:18px}
.kpi b{font-size:26px;display:block}details{margin:8px 0}
.tables{display:flex;flex-wrap:wrap;gap:0 24px}.tables h3{margin:8px 0 0;font-size:15px}
.legend{background:#fff;border:1px solid #ddd;padding:8px 14px;margin:12px 0;font-size:14px;line-height:1.45}
.legend dt{font-weight:bold;margin-top:6px}.legend dd{margin-left:18px}
.swatch{display:inline-block;width:28px;height:0;vertical-align:middle;margin-right:4px}
#zoom{display:none;position:fixed;inset:0;background:rgba(0,0,0,.85);z-index:9;cursor:zoom-out;overflow:auto}
#zoom img{display:block;margin:2vh auto;width:auto;max-width:none;min-width:min(96vw,1800px);image-rendering:pixelated}`

const js = `function filt(){var c=document.getElementById('cls').value,w=document.getElementById('wrong').checked,n=0;
document.querySelectorAll('figure[data-true]').forEach(function(f){var ok=(c==''||f.dataset.true==c||f.dataset.pred==c)&&(!w||f.classList.contains('wrong'));
f.style.display=ok?'':'none';if(ok)n++});document.getElementById('count').textContent=n+' shown'}
function zoom(src){var z=document.getElementById('zoom');z.firstChild.src=src;z.style.display='block'}`

func (r *Results) writeHTML(w io.Writer, title string) {
	esc := html.EscapeString
	fmt.Fprintf(w, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>%s</title><style>%s</style><script>%s</script></head><body>\n",
		esc(title), css, js)
	fmt.Fprintln(w, `<div id="zoom" onclick="this.style.display='none'"><img alt="enlarged figure"></div>`)
	fmt.Fprintf(w, "<h1>%s</h1><p class=\"sub\">methods: %s &middot; %d images in %.1f s</p>\n",
		esc(title), esc(strings.Join(r.Methods, ", ")), r.Images, r.Seconds)
	fmt.Fprintf(w, "<div><span class=\"kpi\"><b>%d</b>images</span>", r.Images)
	if r.Accuracy != nil {
		fmt.Fprintf(w, "<span class=\"kpi\"><b>%.1f%%</b>accuracy (%d labelled)</span>", 100**r.Accuracy, r.Labelled)
	} else {
		fmt.Fprint(w, "<span class=\"kpi\"><b>&ndash;</b>no labelled image: predictions only</span>")
	}
	fmt.Fprintf(w, "<span class=\"kpi\"><b>%d</b>skipped files</span></div>\n", len(r.Skipped))
	writeLegend(w)
	if r.Labelled > 0 {
		r.writeAccuracyTable(w)
		r.writeLocalizationTables(w)
	}
	r.writeDetectionTable(w)
	r.writeFaithfulnessTable(w)
	if len(r.Skipped) > 0 {
		fmt.Fprintf(w, "<details open><summary>%d skipped files</summary><table><tr><th>file</th><th>reason</th></tr>", len(r.Skipped))
		for _, s := range r.Skipped {
			fmt.Fprintf(w, "<tr><td>%s</td><td style=\"text-align:left\">%s</td></tr>", esc(s.Path), esc(s.Reason))
		}
		fmt.Fprintln(w, "</table></details>")
	}
	r.writeFigures(w)
	fmt.Fprintln(w, "<script>filt()</script></body></html>")
}

// writeLegend explains the figures and every number of the page: what a reader who does not know the methods
// needs to read it.
func writeLegend(w io.Writer) {
	fmt.Fprint(w, `<details class="legend" open><summary><b>How to read this report</b></summary>
<p><b>Figures.</b> Left: the image with its ground-truth (GT) boxes, <span class="swatch" style="border-top:3px solid #e69f00"></span>solid,
one colour per class, labelled with the class. Then one overlay per method for the image's true class (its predicted class when
the class is unknown): the method's heatmap over the image on the colour scale of the bar on the right (dark = 0, bright = the
map's maximum), and <span class="swatch" style="border-top:3px dashed #fff;background:#555;height:3px"></span>dashed white boxes around
the map's hot regions (above 50% of its maximum; regions under 1% of the image are not drawn). A red frame marks a misclassified
image; its figure has a second row with the maps of the <i>predicted</i> class, which show what drove the error.
Click a figure to enlarge it.</p>
<dl>
<dt>energy in box e</dt><dd>share of the map's energy (sum of its values) inside the GT boxes of the class. Meaningless alone:
a uniform map already gets the box-area fraction u.</dd>
<dt>energy gain g = (e &minus; u) / (1 &minus; u)</dt><dd>the headline score: 0 = no better than a uniform map, 1 = all energy inside
the boxes, &lt; 0 = worse than uniform. Good: &ge; 0.5.</dd>
<dt>pointing game</dt><dd>hit when the map's maximum lies in a GT box (within 15 px at 224 px, scaled to the image); the table
gives the hit rate. Compare with the baselines: large boxes make hits easy.</dd>
<dt>MaxBoxAccV2</dt><dd>(Choe et al. 2020) share of images where a box around a thresholded region of the map overlaps a GT box with
IoU &ge; 0.3/0.5/0.7 (averaged), at the best threshold for the whole data set. 1 is perfect.</dd>
<dt>IoU</dt><dd>intersection over union of the dashed boxes with the GT boxes (mean over GT boxes of the best match). 1 is perfect.</dd>
<dt>detection mAP</dt><dd>the dashed boxes scored as an object detector (Pascal VOC average precision at IoU 0.5, and averaged
over IoU 0.5&ndash;0.95), every class with a probability &ge; 0.1.</dd>
<dt>baselines</dt><dd><i>uniform</i>: a flat map (g = 0 by definition); <i>center_gaussian</i>: a blob in the image centre
(sigma 25% of the side), which wins when the annotators drew big central boxes; <i>random</i>: noise. A method is only useful
where it beats all three. In the tables the best column of each row is bold; when a baseline is best it is marked in orange
and no method is bold.</dd>
</dl></details>
`)
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
			if p == t && n > 0 {
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

// writeLocalizationTables: one table per headline metric, classes as rows, methods then baselines as columns; the
// best column of each row, baselines included, is highlighted.
func (r *Results) writeLocalizationTables(w io.Writer) {
	if len(r.Localization) == 0 {
		return
	}
	fmt.Fprintln(w, "<h2>Localization against GT boxes</h2><p class=\"sub\">each class's map scored against that class's boxes (see the glossary above)</p>")
	fmt.Fprintln(w, "<div class=\"tables\">")
	headline := []string{metrics.MetricEnergyGain, metrics.MetricPointingGame, metrics.MetricEnergyInBox, metrics.MetricMaxBoxAccV2, metrics.MetricIoU}
	if _, ok := r.Localization[metrics.BaselineUniform][metrics.MetricEnergyInMask]; ok {
		// The data has exact defect masks (e.g. neucam synth): those scores first.
		fmt.Fprintln(w, "<p class=\"sub\">*_mask: the same scores against the exact defect pixels (masks/), inside that class's boxes</p>")
		headline = append(slices.Clone(metrics.MaskMetrics), headline...)
	}
	for _, metric := range headline {
		fmt.Fprintf(w, "<div>%s</div>\n", r.LocalizationTable(metric).HTML())
	}
	fmt.Fprintln(w, "</div>")
}

// writeDetectionTable: per method, the CAM boxes' mAP as a detector, per class and mean.
func (r *Results) writeDetectionTable(w io.Writer) {
	if len(r.Detection) == 0 {
		return
	}
	fmt.Fprint(w, "<h2>CAM boxes as detections</h2><p class=\"sub\">Pascal VOC AP of the dashed boxes against all GT boxes; cell: AP@0.5 / AP@0.5:0.95</p><table><tr><th>method</th>")
	for _, c := range r.Classes {
		fmt.Fprintf(w, "<th>%s</th>", html.EscapeString(c))
	}
	fmt.Fprintln(w, "<th>mean</th></tr>")
	for _, m := range r.Methods {
		d, ok := r.Detection[m]
		if !ok {
			continue
		}
		fmt.Fprintf(w, "<tr><td>%s</td>", html.EscapeString(m))
		for c := range r.Classes {
			if c < len(d.MAP50.Values) && !math.IsNaN(d.MAP50.Values[c]) {
				fmt.Fprintf(w, "<td>%.2f / %.2f</td>", d.MAP50.Values[c], d.MAP5095.Values[c])
			} else {
				fmt.Fprint(w, "<td>&ndash;</td>")
			}
		}
		fmt.Fprintf(w, "<td><b>%.3f</b> / %.3f</td></tr>\n", d.MAP50.Mean, d.MAP5095.Mean)
	}
	fmt.Fprintln(w, "</table>")
}

// writeFaithfulnessTable: deletion/insertion AUC and the sanity check, when the run computed them.
func (r *Results) writeFaithfulnessTable(w io.Writer) {
	if len(r.Faithfulness) == 0 && len(r.Sanity) == 0 {
		return
	}
	fmt.Fprintln(w, "<h2>Faithfulness and sanity</h2><table><tr><th>method</th><th>deletion AUC (lower is better)</th><th>insertion AUC (higher is better)</th><th>Spearman vs randomised top layers (lower: depends on the weights)</th></tr>")
	for _, m := range r.Methods {
		fmt.Fprintf(w, "<tr><td>%s</td>", html.EscapeString(m))
		if f, ok := r.Faithfulness[m]; ok {
			fmt.Fprintf(w, "<td>%.3f</td><td>%.3f</td>", f.DeletionAUC, f.InsertionAUC)
		} else {
			fmt.Fprint(w, "<td>&ndash;</td><td>&ndash;</td>")
		}
		if s, ok := r.Sanity[m]; ok {
			fmt.Fprintf(w, "<td>%.2f</td></tr>\n", s.SpearmanRandomized)
		} else {
			fmt.Fprintln(w, "<td>&ndash;</td></tr>")
		}
	}
	fmt.Fprintln(w, "</table>")
}

func (r *Results) writeFigures(w io.Writer) {
	esc := html.EscapeString
	fmt.Fprintln(w, `<h2 id="images">Images</h2><div class="controls">class: <select id="cls" onchange="filt()"><option value="">all</option>`)
	for _, c := range r.Classes {
		fmt.Fprintf(w, "<option>%s</option>", esc(c))
	}
	fmt.Fprintln(w, `</select> <label><input type="checkbox" id="wrong" onchange="filt()"> misclassified only</label> <span id="count"></span> &middot; sorted most wrong first</div>`)
	for _, ir := range r.MostWrongFirst() {
		cls := ""
		if ir.Correct != nil && !*ir.Correct {
			cls = "wrong"
		}
		fmt.Fprintf(w, "<figure class=\"%s\" data-true=\"%s\" data-pred=\"%s\">", cls, esc(ir.TrueClass), esc(ir.PredClass))
		if ir.PNG != "" {
			fmt.Fprintf(w, "<img loading=\"lazy\" alt=\"%s\" src=\"%s\" onclick=\"zoom(this.src)\">", esc(ir.Name), esc(ir.PNG))
		}
		fmt.Fprint(w, "<figcaption>")
		r.writeImageScores(w, ir)
		fmt.Fprintln(w, "</figcaption></figure>")
	}
}

// writeImageScores is a figure's caption: file, the class probabilities (top 3), one row of scores per method
// for the true class, and the boxes read from the maps.
func (r *Results) writeImageScores(w io.Writer, ir ImageResult) {
	esc := html.EscapeString
	fmt.Fprintf(w, "<a href=\"%s\">%s</a> &middot; %s", esc(ir.File), esc(ir.Name), esc(topProbs(ir.Probs, 3)))
	if len(ir.Metrics) > 0 {
		fmt.Fprintf(w, "<table><tr><th>%s (true class)</th><th>e</th><th>g</th><th>pointing</th><th>IoU</th></tr>", esc(ir.TrueClass))
		for _, m := range r.Methods {
			if im, ok := ir.Metrics[m]; ok {
				fmt.Fprintf(w, "<tr><td>%s</td><td>%.2f</td><td>%.2f</td><td>%s</td><td>%.2f</td></tr>", esc(m),
					im.EnergyInBox, im.EnergyGain, hitMiss(im.PointingGame), im.IoU)
			}
		}
		fmt.Fprint(w, "</table>")
	}
	if len(ir.Boxes) > 0 {
		fmt.Fprintf(w, "<details><summary>%d boxes read from the maps</summary><table><tr><th>method</th><th>class</th><th>score</th><th>box (x0,y0)-(x1,y1)</th></tr>", len(ir.Boxes))
		for _, b := range ir.Boxes {
			fmt.Fprintf(w, "<tr><td>%s</td><td>%s</td><td>%.2f</td><td>(%d,%d)-(%d,%d)</td></tr>", esc(b.Method), esc(b.Class),
				b.Score, b.XMin, b.YMin, b.XMax, b.YMax)
		}
		fmt.Fprint(w, "</table></details>")
	}
}

// topProbs formats the n most probable classes: "patches 0.97, scratches 0.02".
func topProbs(probs map[string]float64, n int) string {
	names := make([]string, 0, len(probs))
	for c := range probs {
		names = append(names, c)
	}
	slices.SortFunc(names, func(a, b string) int {
		if probs[a] != probs[b] {
			if probs[a] > probs[b] {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, c := range names[:min(n, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %.2f", c, probs[c]))
	}
	return strings.Join(parts, ", ")
}
