// Package chart draws the few plots the notebooks need (line charts, grouped bar charts, a confusion
// matrix) as plain Go images, so they show in GoNB with display.ShowImage and are saved in the notebook
// as PNG. It uses only the standard library and golang.org/x/image (already a dependency): no plotting
// module, no JavaScript.
package chart

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// Palette are the series colours (Okabe-Ito, colour-blind safe; the same order as render.ClassColor
// uses for the classes), then grays for baselines.
var Palette = []color.RGBA{
	{0xE6, 0x9F, 0x00, 255}, {0x56, 0xB4, 0xE9, 255}, {0x00, 0x9E, 0x73, 255}, {0xF0, 0xE4, 0x42, 255},
	{0x00, 0x72, 0xB2, 255}, {0xD5, 0x5E, 0x00, 255}, {0xCC, 0x79, 0xA7, 255}, {0x33, 0x33, 0x33, 255},
}

// Gray shades for baselines (uniform, centre Gaussian, random).
var Grays = []color.RGBA{{0x99, 0x99, 0x99, 255}, {0xbb, 0xbb, 0xbb, 255}, {0xdd, 0xdd, 0xdd, 255}}

var (
	ink   = color.RGBA{0x24, 0x29, 0x2f, 255}
	muted = color.RGBA{0x57, 0x60, 0x6a, 255}
	grid  = color.RGBA{0xe4, 0xe7, 0xeb, 255}
	paper = color.RGBA{255, 255, 255, 255}
)

var (
	fontOnce  sync.Once
	fontReg   *opentype.Font
	fontBold  *opentype.Font
	facesMu   sync.Mutex
	faceCache = map[[2]int]font.Face{}
)

// face returns the Go font at size px (bold or regular). The fonts are compiled into x/image: a parse
// failure means a broken build, so it panics.
func face(size int, bold bool) font.Face {
	fontOnce.Do(func() {
		var err error
		if fontReg, err = opentype.Parse(goregular.TTF); err == nil {
			fontBold, err = opentype.Parse(gobold.TTF)
		}
		if err != nil {
			panic(fmt.Sprintf("chart: parsing the Go fonts: %v", err))
		}
	})
	b := 0
	f := fontReg
	if bold {
		b, f = 1, fontBold
	}
	facesMu.Lock()
	defer facesMu.Unlock()
	if fc, ok := faceCache[[2]int{size, b}]; ok {
		return fc
	}
	fc, err := opentype.NewFace(f, &opentype.FaceOptions{Size: float64(size), DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		panic(fmt.Sprintf("chart: font face %d px: %v", size, err))
	}
	faceCache[[2]int{size, b}] = fc
	return fc
}

func textW(f font.Face, s string) int { return font.MeasureString(f, s).Ceil() }

// text draws s with its top-left at (x, y); align -1 left, 0 centred on x, 1 right-aligned at x.
func text(dst draw.Image, f font.Face, x, y, align int, s string, c color.Color) {
	switch align {
	case 0:
		x -= textW(f, s) / 2
	case 1:
		x -= textW(f, s)
	}
	d := font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: f, Dot: fixed.P(x, y+f.Metrics().Ascent.Ceil())}
	d.DrawString(s)
}

func fill(dst draw.Image, r image.Rectangle, c color.RGBA) {
	draw.Draw(dst, r, image.NewUniform(c), image.Point{}, draw.Src)
}

func newCanvas(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	fill(img, img.Bounds(), paper)
	return img
}

// polyline strokes the points with an anti-aliased line of width wd (one quad per segment).
func polyline(dst *image.RGBA, xs, ys []float64, wd float64, c color.RGBA) {
	b := dst.Bounds()
	z := vector.NewRasterizer(b.Dx(), b.Dy())
	for i := 1; i < len(xs); i++ {
		x0, y0, x1, y1 := xs[i-1], ys[i-1], xs[i], ys[i]
		dx, dy := x1-x0, y1-y0
		n := math.Hypot(dx, dy)
		if n == 0 {
			continue
		}
		px, py := -dy/n*wd/2, dx/n*wd/2
		// Extend each segment by half the width so consecutive segments overlap at the joints.
		ex, ey := dx/n*wd/2, dy/n*wd/2
		z.MoveTo(float32(x0-ex+px), float32(y0-ey+py))
		z.LineTo(float32(x1+ex+px), float32(y1+ey+py))
		z.LineTo(float32(x1+ex-px), float32(y1+ey-py))
		z.LineTo(float32(x0-ex-px), float32(y0-ey-py))
		z.ClosePath()
	}
	z.Draw(dst, b, image.NewUniform(c), image.Point{})
}

// dot draws a filled circle of radius r.
func dot(dst *image.RGBA, x, y, r float64, c color.RGBA) {
	b := dst.Bounds()
	z := vector.NewRasterizer(b.Dx(), b.Dy())
	const n = 16
	for i := 0; i <= n; i++ {
		a := 2 * math.Pi * float64(i) / n
		px, py := float32(x+r*math.Cos(a)), float32(y+r*math.Sin(a))
		if i == 0 {
			z.MoveTo(px, py)
		} else {
			z.LineTo(px, py)
		}
	}
	z.ClosePath()
	z.Draw(dst, b, image.NewUniform(c), image.Point{})
}

// niceTicks returns about n round tick values covering [lo, hi].
func niceTicks(lo, hi float64, n int) []float64 {
	if !(hi > lo) {
		hi = lo + 1
	}
	raw := (hi - lo) / float64(max(n, 1))
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var t []float64
	// From the round value at or below lo to the one at or above hi, so the axis covers all the data.
	for v := math.Floor(lo/step+1e-9) * step; v < hi+step*(1-1e-9); v += step {
		t = append(t, math.Round(v/step)*step)
	}
	return t
}

func tickLabel(v float64, ticks []float64) string {
	if math.Abs(v) < 1e-12 {
		v = 0 // no "-0.0"
	}
	step := 1.0
	if len(ticks) > 1 {
		step = ticks[1] - ticks[0]
	}
	switch {
	case step >= 1:
		return fmt.Sprintf("%.0f", v)
	case step >= 0.1:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// Series is one line of a line chart.
type Series struct {
	Name   string
	X, Y   []float64
	Color  color.RGBA // zero: Palette[i]
	Points bool       // draw a dot at each point (for sparse series, e.g. once per epoch)
}

// LineOptions configure Line.
type LineOptions struct {
	Title, XLabel  string
	Width, Height  int     // 0: 520 x 300
	YMin, YMax     float64 // both 0: from the data (YMin 0 when all data are >= 0)
	XMin, XMax     float64 // both 0: from the data
	LegendBottomUp bool    // legend in the lower right corner (for curves that rise)
}

// Line draws a line chart of the series. Empty series are allowed (an empty frame).
func Line(series []Series, o LineOptions) *image.RGBA {
	if o.Width == 0 {
		o.Width = 520
	}
	if o.Height == 0 {
		o.Height = 300
	}
	img := newCanvas(o.Width, o.Height)
	ax := lineAxes(series, o, image.Rect(52, 34, o.Width-16, o.Height-40))
	ax.draw(img, o)
	for i, s := range series {
		c := seriesColor(s, i)
		var xs, ys []float64
		for j := range s.X {
			if math.IsNaN(s.Y[j]) || math.IsInf(s.Y[j], 0) {
				continue
			}
			xs, ys = append(xs, ax.px(s.X[j])), append(ys, ax.py(s.Y[j]))
		}
		polyline(img, xs, ys, 2, c)
		if s.Points || len(xs) == 1 {
			for j := range xs {
				dot(img, xs[j], ys[j], 3.5, c)
			}
		}
	}
	lineLegend(img, series, ax.plot, o.LegendBottomUp)
	return img
}

func seriesColor(s Series, i int) color.RGBA {
	if s.Color.A == 0 {
		return Palette[i%len(Palette)]
	}
	return s.Color
}

// axes maps data to pixels inside plot.
type axes struct {
	plot               image.Rectangle
	xlo, xhi, ylo, yhi float64
	xt, yt             []float64
}

func (a axes) px(x float64) float64 {
	return float64(a.plot.Min.X) + (x-a.xlo)/(a.xhi-a.xlo)*float64(a.plot.Dx())
}

func (a axes) py(y float64) float64 {
	return float64(a.plot.Max.Y) - (y-a.ylo)/(a.yhi-a.ylo)*float64(a.plot.Dy())
}

// lineAxes takes the ranges from the finite data (y from 0 when all data are >= 0) unless the options fix them,
// and extends y to nice ticks.
func lineAxes(series []Series, o LineOptions, plot image.Rectangle) axes {
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for i := range s.X {
			if math.IsNaN(s.Y[i]) || math.IsInf(s.Y[i], 0) {
				continue
			}
			xlo, xhi = math.Min(xlo, s.X[i]), math.Max(xhi, s.X[i])
			ylo, yhi = math.Min(ylo, s.Y[i]), math.Max(yhi, s.Y[i])
		}
	}
	if math.IsInf(xlo, 0) {
		xlo, xhi, ylo, yhi = 0, 1, 0, 1
	}
	if ylo >= 0 {
		ylo = 0
	}
	if o.XMin != 0 || o.XMax != 0 {
		xlo, xhi = o.XMin, o.XMax
	}
	if o.YMin != 0 || o.YMax != 0 {
		ylo, yhi = o.YMin, o.YMax
	}
	if xhi <= xlo {
		xhi = xlo + 1
	}
	if yhi <= ylo {
		yhi = ylo + 1
	}
	yt := niceTicks(ylo, yhi, 5)
	return axes{plot: plot, xlo: xlo, xhi: xhi, ylo: math.Min(ylo, yt[0]), yhi: math.Max(yhi, yt[len(yt)-1]),
		xt: niceTicks(xlo, xhi, 6), yt: yt}
}

// draw paints the grid, ticks, axis lines, title and x label.
func (a axes) draw(img *image.RGBA, o LineOptions) {
	ft, fl := face(15, true), face(12, false)
	plot := a.plot
	for _, v := range a.yt {
		y := int(math.Round(a.py(v)))
		fill(img, image.Rect(plot.Min.X, y, plot.Max.X, y+1), grid)
		text(img, fl, plot.Min.X-6, y-7, 1, tickLabel(v, a.yt), muted)
	}
	for _, v := range a.xt {
		if v < a.xlo-1e-9 || v > a.xhi+1e-9 {
			continue
		}
		x := int(math.Round(a.px(v)))
		fill(img, image.Rect(x, plot.Max.Y, x+1, plot.Max.Y+4), muted)
		text(img, fl, x, plot.Max.Y+6, 0, tickLabel(v, a.xt), muted)
	}
	fill(img, image.Rect(plot.Min.X, plot.Max.Y, plot.Max.X, plot.Max.Y+1), muted)
	fill(img, image.Rect(plot.Min.X-1, plot.Min.Y, plot.Min.X, plot.Max.Y+1), muted)
	text(img, ft, o.Width/2, 8, 0, o.Title, ink)
	text(img, fl, (plot.Min.X+plot.Max.X)/2, o.Height-18, 0, o.XLabel, muted)
}

// lineLegend writes one line per named series in the upper (or lower) right corner.
func lineLegend(img *image.RGBA, series []Series, plot image.Rectangle, bottomUp bool) {
	fl := face(12, false)
	ly := plot.Min.Y + 6
	if bottomUp {
		ly = plot.Max.Y - 6 - 16*len(series)
	}
	for i, s := range series {
		if s.Name == "" {
			continue
		}
		x := plot.Max.X - 8 - textW(fl, s.Name)
		fill(img, image.Rect(x-22, ly+6, x-6, ly+9), seriesColor(s, i))
		text(img, fl, x, ly, -1, s.Name, ink)
		ly += 16
	}
}

// BarOptions configure Bars.
type BarOptions struct {
	Title         string
	Width, Height int                   // 0: 60 px per bar group + legend, 300 px
	YMin, YMax    float64               // both 0: from the data (0 always included)
	Colors        map[string]color.RGBA // per series name; missing: Palette in order
	Values        bool                  // print each bar's value above it
}

// Bars draws a grouped bar chart: values[s][g] is series s (e.g. a method) in group g (e.g. a class).
// NaN values leave a gap.
func Bars(groups, series []string, values [][]float64, o BarOptions) (*image.RGBA, error) {
	if len(values) != len(series) {
		return nil, fmt.Errorf("chart.Bars: %d value rows for %d series", len(values), len(series))
	}
	for i, v := range values {
		if len(v) != len(groups) {
			return nil, fmt.Errorf("chart.Bars: series %q has %d values for %d groups", series[i], len(v), len(groups))
		}
	}
	fl := face(12, false)
	legendW := 0
	for _, s := range series {
		legendW = max(legendW, textW(fl, s)+30)
	}
	barW := 10
	if o.Values {
		barW = 22
	}
	if o.Width == 0 {
		o.Width = 60 + len(groups)*max(len(series)*barW+16, 70) + legendW + 20
	}
	if o.Height == 0 {
		o.Height = 320
	}
	img := newCanvas(o.Width, o.Height)
	b := barChart{groups: groups, series: series, values: values, o: o,
		plot: image.Rect(52, 34, o.Width-legendW-20, o.Height-44)}
	b.yAxis(img)
	b.bars(img)
	b.legend(img)
	return img, nil
}

type barChart struct {
	groups, series []string
	values         [][]float64
	o              BarOptions
	plot           image.Rectangle
	ylo, yhi       float64
}

func (b *barChart) py(y float64) int {
	return int(math.Round(float64(b.plot.Max.Y) - (y-b.ylo)/(b.yhi-b.ylo)*float64(b.plot.Dy())))
}

func (b *barChart) color(i int) color.RGBA {
	if c, ok := b.o.Colors[b.series[i]]; ok {
		return c
	}
	return Palette[i%len(Palette)]
}

// yAxis sets the y range (the data's with 0 included, unless fixed by the options, extended to nice ticks) and
// draws the grid, tick labels and title.
func (b *barChart) yAxis(img *image.RGBA) {
	ylo, yhi := 0.0, 0.0
	for _, row := range b.values {
		for _, v := range row {
			if !math.IsNaN(v) {
				ylo, yhi = math.Min(ylo, v), math.Max(yhi, v)
			}
		}
	}
	if b.o.YMin != 0 || b.o.YMax != 0 {
		ylo, yhi = b.o.YMin, b.o.YMax
	}
	if yhi <= ylo {
		yhi = ylo + 1
	}
	yt := niceTicks(ylo, yhi, 5)
	b.ylo, b.yhi = math.Min(ylo, yt[0]), math.Max(yhi, yt[len(yt)-1])
	fl := face(12, false)
	for _, v := range yt {
		y := b.py(v)
		fill(img, image.Rect(b.plot.Min.X, y, b.plot.Max.X, y+1), grid)
		text(img, fl, b.plot.Min.X-6, y-7, 1, tickLabel(v, yt), muted)
	}
	text(img, face(15, true), b.o.Width/2, 8, 0, b.o.Title, ink)
}

// bars draws each group's bars (filling the group up to 28 px each, 16 px between groups) and its label.
func (b *barChart) bars(img *image.RGBA) {
	plot, fl, fv := b.plot, face(12, false), face(9, false)
	gw := float64(plot.Dx()) / float64(max(len(b.groups), 1))
	bw := math.Max(1, math.Min(28, (gw-16)/float64(max(len(b.series), 1))))
	for g, name := range b.groups {
		x0 := float64(plot.Min.X) + float64(g)*gw + (gw-bw*float64(len(b.series)))/2
		for s := range b.series {
			v := b.values[s][g]
			if math.IsNaN(v) {
				continue
			}
			xa, xb := int(math.Round(x0+float64(s)*bw)), int(math.Round(x0+float64(s+1)*bw))-1
			ya, yb := b.py(min(max(v, b.ylo), b.yhi)), b.py(min(max(0, b.ylo), b.yhi)) // clipped to the axis range
			if ya > yb {
				ya, yb = yb, ya
			}
			fill(img, image.Rect(xa, ya, max(xb, xa+1), max(yb, ya+1)), b.color(s))
			if b.o.Values {
				ty := b.py(v) - 12
				if v < 0 {
					ty = b.py(v) + 2
				}
				text(img, fv, (xa+xb)/2, ty, 0, fmt.Sprintf("%.2f", v), muted)
			}
		}
		cx := int(float64(plot.Min.X) + (float64(g)+0.5)*gw)
		label := name
		for textW(fl, label) > int(gw)-4 && len(label) > 4 {
			label = label[:len(label)-2] + "."
		}
		text(img, fl, cx, plot.Max.Y+8, 0, label, ink)
	}
	y0 := b.py(0)
	fill(img, image.Rect(plot.Min.X, y0, plot.Max.X, y0+1), muted)
	fill(img, image.Rect(plot.Min.X-1, plot.Min.Y, plot.Min.X, plot.Max.Y+1), muted)
}

func (b *barChart) legend(img *image.RGBA) {
	fl := face(12, false)
	ly := b.plot.Min.Y
	for s, name := range b.series {
		x := b.plot.Max.X + 16
		fill(img, image.Rect(x, ly+3, x+14, ly+13), b.color(s))
		text(img, fl, x+20, ly, -1, name, ink)
		ly += 17
	}
}

// Matrix draws a confusion matrix: counts[true][predicted], each cell shaded by its share of the row
// (so classes of different sizes compare), with the count printed; the diagonal is green, errors red.
func Matrix(title string, labels []string, counts [][]int) (*image.RGBA, error) {
	n := len(labels)
	if len(counts) != n {
		return nil, fmt.Errorf("chart.Matrix: %d rows for %d labels", len(counts), n)
	}
	fl, fb, ft := face(12, false), face(13, true), face(15, true)
	labelW := 0
	for _, l := range labels {
		labelW = max(labelW, textW(fl, l))
	}
	cell := 54
	left, top := labelW+40, 74
	w, h := max(left+n*cell+20, textW(ft, title)+20), top+n*cell+44
	img := newCanvas(w, h)
	text(img, ft, w/2, 8, 0, title, ink)
	text(img, fl, left+n*cell/2, 30, 0, "predicted", muted)
	text(img, fl, 6, top+n*cell+16, -1, "rows: true class", muted)
	for i, row := range counts {
		if len(row) != n {
			return nil, fmt.Errorf("chart.Matrix: row %d has %d columns for %d labels", i, len(row), n)
		}
		total := 0
		for _, v := range row {
			total += v
		}
		text(img, fl, left-8, top+i*cell+cell/2-8, 1, labels[i], ink)
		for j, v := range row {
			share := 0.0
			if total > 0 {
				share = float64(v) / float64(total)
			}
			base := color.RGBA{0xcf, 0x22, 0x2e, 255}
			if i == j {
				base = color.RGBA{0x1a, 0x7f, 0x37, 255}
			}
			// Blend from white to the base colour by the row share; at least a tint when non-zero.
			a := share
			if v > 0 {
				a = math.Max(a, 0.12)
			}
			c := color.RGBA{mix(255, base.R, a), mix(255, base.G, a), mix(255, base.B, a), 255}
			r := image.Rect(left+j*cell, top+i*cell, left+(j+1)*cell-1, top+(i+1)*cell-1)
			fill(img, r, c)
			tc := ink
			if a > 0.55 {
				tc = paper
			}
			text(img, fb, (r.Min.X+r.Max.X)/2, (r.Min.Y+r.Max.Y)/2-8, 0, fmt.Sprint(v), tc)
		}
	}
	// Column labels, abbreviated to fit the cell width.
	for j, l := range labels {
		s := l
		for textW(fl, s) > cell-4 && len(s) > 3 {
			s = s[:len(s)-2] + "."
		}
		text(img, fl, left+j*cell+cell/2, top-20, 0, s, ink)
	}
	return img, nil
}

func mix(a, b uint8, t float64) uint8 {
	return uint8(math.Round(float64(a)*(1-t) + float64(b)*t))
}

// SideBySide places images left to right on a white background, top-aligned, with a gap between them.
func SideBySide(gap int, imgs ...image.Image) *image.RGBA {
	w, h := 0, 1
	for i, im := range imgs {
		if i > 0 {
			w += gap
		}
		w += im.Bounds().Dx()
		h = max(h, im.Bounds().Dy())
	}
	out := newCanvas(max(w, 1), h)
	x := 0
	for _, im := range imgs {
		b := im.Bounds()
		draw.Draw(out, image.Rect(x, 0, x+b.Dx(), b.Dy()), im, b.Min, draw.Src)
		x += b.Dx() + gap
	}
	return out
}

// Grid lays tiles out in rows of cols, each under its title (titles may be shorter than tiles or nil),
// with gap pixels between tiles. Every cell has the size of the largest tile.
func Grid(cols, gap int, tiles []image.Image, titles []string) *image.RGBA {
	if cols < 1 {
		cols = 1
	}
	fl := face(13, true)
	cw, ch := 1, 1
	for _, t := range tiles {
		cw, ch = max(cw, t.Bounds().Dx()), max(ch, t.Bounds().Dy())
	}
	th := 0
	if len(titles) > 0 {
		th = (fl.Metrics().Ascent + fl.Metrics().Descent).Ceil() + 4
	}
	rows := (len(tiles) + cols - 1) / cols
	w := gap + min(cols, max(len(tiles), 1))*(cw+gap)
	h := gap + rows*(th+ch+gap)
	out := newCanvas(w, max(h, 1))
	for i, t := range tiles {
		x, y := gap+(i%cols)*(cw+gap), gap+(i/cols)*(th+ch+gap)
		if i < len(titles) {
			s := titles[i]
			for textW(fl, s) > cw && len(s) > 3 {
				s = s[:len(s)-2] + "."
			}
			text(out, fl, x, y, -1, s, ink)
		}
		b := t.Bounds()
		draw.Draw(out, image.Rect(x, y+th, x+b.Dx(), y+th+b.Dy()), t, b.Min, draw.Src)
	}
	return out
}
