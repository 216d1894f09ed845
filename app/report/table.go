package report

import (
	"fmt"
	"html"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/neucam/neucam/gradcam/metrics"
)

// Table is the one table model of the reports: the same value is printed on the terminal (WriteText), written
// into index.html (HTML) and shown in notebooks (HTML through display). Cells are float64, NaN for "no value".
// The best value is marked per row or per column (BestPer), baselines included: when a baseline wins, the table
// says so instead of flattering a method.
type Table struct {
	Title   string
	Corner  string   // header of the label column
	Columns []string // column headers; baselines (metrics.IsBaseline) are shown as such
	Rows    []TableRow
	BestPer BestPer
	Note    string // one line under the table
}

// TableRow is one labelled row of values.
type TableRow struct {
	Label  string
	Values []float64
}

// BestPer says along which direction the largest value is marked.
type BestPer int

const (
	BestNone BestPer = iota
	BestPerRow
	BestPerColumn
)

// best returns the (row, column) cells holding the largest value along BestPer (all of them on ties).
func (t Table) best() map[[2]int]bool {
	out := map[[2]int]bool{}
	mark := func(cells [][2]int) { // every cell equal to the largest value (ties all marked)
		bv := math.Inf(-1)
		for _, c := range cells {
			if v := t.Rows[c[0]].Values[c[1]]; !math.IsNaN(v) && v > bv {
				bv = v
			}
		}
		for _, c := range cells {
			if v := t.Rows[c[0]].Values[c[1]]; !math.IsNaN(v) && v >= bv-1e-12 {
				out[c] = true
			}
		}
	}
	switch t.BestPer {
	case BestPerRow:
		for r, row := range t.Rows {
			var cells [][2]int
			for c := range row.Values {
				cells = append(cells, [2]int{r, c})
			}
			mark(cells)
		}
	case BestPerColumn:
		for c := range t.Columns {
			var cells [][2]int
			for r, row := range t.Rows {
				if c < len(row.Values) {
					cells = append(cells, [2]int{r, c})
				}
			}
			mark(cells)
		}
	}
	return out
}

// isBaselineCell: in a per-row table the columns are the methods and baselines, in a per-column one the rows.
func (t Table) isBaselineCell(r, c int) bool {
	return metrics.IsBaseline(t.Columns[c]) || metrics.IsBaseline(t.Rows[r].Label)
}

// WriteText prints the table with aligned columns; the best cell gets a '*' (a '!' when a baseline wins).
func (t Table) WriteText(w io.Writer) error {
	best := t.best()
	width := len(t.Corner)
	for _, r := range t.Rows {
		width = max(width, len(r.Label))
	}
	var b strings.Builder
	if t.Title != "" {
		fmt.Fprintf(&b, "%s\n", t.Title)
	}
	fmt.Fprintf(&b, "%-*s", width, t.Corner)
	colW := make([]int, len(t.Columns))
	for c, name := range t.Columns {
		colW[c] = max(len(name), 7)
		fmt.Fprintf(&b, "  %*s", colW[c], name)
	}
	b.WriteByte('\n')
	for r, row := range t.Rows {
		fmt.Fprintf(&b, "%-*s", width, row.Label)
		for c := range t.Columns {
			cell := "-"
			if c < len(row.Values) && !math.IsNaN(row.Values[c]) {
				cell = fmt.Sprintf("%.3f", row.Values[c])
				if best[[2]int{r, c}] {
					cell = map[bool]string{true: "!", false: "*"}[t.isBaselineCell(r, c)] + cell
				}
			}
			fmt.Fprintf(&b, "  %*s", colW[c], cell)
		}
		b.WriteByte('\n')
	}
	if t.Note != "" {
		fmt.Fprintf(&b, "%s\n", t.Note)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// HTML renders the table (classes best, bestbase, base as in index.html's stylesheet).
func (t Table) HTML() string {
	esc := html.EscapeString
	best := t.best()
	var b strings.Builder
	if t.Title != "" {
		fmt.Fprintf(&b, "<h3>%s</h3>", esc(t.Title))
	}
	fmt.Fprintf(&b, "<table><tr><th>%s</th>", esc(t.Corner))
	for _, c := range t.Columns {
		fmt.Fprintf(&b, "<th%s>%s</th>", map[bool]string{true: ` class="base"`}[metrics.IsBaseline(c)], esc(c))
	}
	b.WriteString("</tr>\n")
	for r, row := range t.Rows {
		fmt.Fprintf(&b, "<tr><td%s>%s</td>", map[bool]string{true: ` class="base"`}[metrics.IsBaseline(row.Label)], esc(row.Label))
		for c := range t.Columns {
			cls := ""
			switch {
			case best[[2]int{r, c}] && t.isBaselineCell(r, c):
				cls = ` class="bestbase" title="a baseline beats every method here"`
			case best[[2]int{r, c}]:
				cls = ` class="best"`
			case t.isBaselineCell(r, c):
				cls = ` class="base"`
			}
			if c < len(row.Values) && !math.IsNaN(row.Values[c]) {
				fmt.Fprintf(&b, "<td%s>%.3f</td>", cls, row.Values[c])
			} else {
				fmt.Fprintf(&b, "<td%s>&ndash;</td>", cls)
			}
		}
		b.WriteString("</tr>\n")
	}
	b.WriteString("</table>")
	if t.Note != "" {
		fmt.Fprintf(&b, "<p class=\"sub\">%s</p>", esc(t.Note))
	}
	return b.String()
}

// columns are the methods, then the three baselines.
func (r *Results) columns() []string {
	return append(slices.Clone(r.Methods), metrics.BaselineUniform, metrics.BaselineCenterGaussian, metrics.BaselineRandom)
}

// LocalizationTable is one metric per class (rows, then "mean") and method/baseline (columns), best per row.
func (r *Results) LocalizationTable(metric string) Table {
	t := Table{Title: metric, Corner: "class", Columns: r.columns(), BestPer: BestPerRow}
	for _, row := range append(slices.Clone(r.Classes), metrics.Mean) {
		tr := TableRow{Label: row}
		present := false
		for _, c := range t.Columns {
			v, ok := r.Localization[c][metric][row]
			if !ok {
				v = math.NaN()
			}
			present = present || ok
			tr.Values = append(tr.Values, v)
		}
		if present {
			t.Rows = append(t.Rows, tr)
		}
	}
	return t
}

// SummaryTable has one row per method and baseline and the mean of each headline metric (over all images with
// GT boxes), best per column: what the terminal prints instead of every per-class table.
func (r *Results) SummaryTable() Table {
	cols := []string{metrics.MetricEnergyGain, metrics.MetricPointingGame, metrics.MetricMaxBoxAccV2, metrics.MetricIoU}
	t := Table{Title: "localization (mean over images with GT boxes; * best, ! a baseline is best)", Corner: "method",
		Columns: cols, BestPer: BestPerColumn}
	for _, m := range r.columns() {
		row := TableRow{Label: m}
		for _, c := range cols {
			v, ok := r.Localization[m][c][metrics.Mean]
			if !ok {
				v = math.NaN()
			}
			row.Values = append(row.Values, v)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}
