package render

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"strings"

	xdraw "golang.org/x/image/draw"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// Panel is everything the figures show about one image.
type Panel struct {
	Gray       *image.Gray // the image as shown (boxes are in its pixel coordinates)
	Name       string      // e.g. "crazing_12"
	TrueClass  string      // "" when unknown: no GT panel, no boxes, prediction only
	PredClass  string
	Prob       float64       // probability of PredClass
	Probs      []float64     // optional, per class (ClassNames order): shown in ClassRow tile titles
	GT         []Box         // ground-truth boxes in Gray's pixel coordinates
	Maps       []heatmap.Map // one heatmap per class (ClassNames order), any size (resampled to Gray's)
	ClassNames []string
	Metric     string // optional second caption line, e.g. "energy in GT 0.81"
}

// Options control the figures. The zero value gives the defaults.
type Options struct {
	Colormap     Colormap // the zero value is Viridis
	Alpha        float64  // heatmap opacity in overlays, in [0,1] (0: the plain image)
	Threshold    float64  // CAM box threshold as a fraction of the map max, in [0,1]
	Scale        int      // display upscaling of the image (2: 200 px image -> 400 px tiles); must be >= 1
	Smooth       bool     // upscale the image bilinearly instead of pixel-replicating it
	ShowCAMBoxes bool     // draw dashed CAM boxes (map > Threshold*max, components of >= 1% of the image)
	Method       string   // CAM method shown in titles, e.g. "gradcam"; "": "map"
}

// DefaultOptions are the settings used everywhere unless asked otherwise (CLI, reports, notebooks): viridis,
// alpha 0.45, CAM boxes at 0.5 of the max drawn dashed, tiles at twice the image size. Every Options field is used
// as given: zero means zero.
func DefaultOptions() Options {
	return Options{Colormap: Viridis, Alpha: 0.45, Threshold: 0.5, Scale: 2, ShowCAMBoxes: true}
}

// check reports options no figure can be drawn with.
func (o Options) check() error {
	if o.Scale < 1 {
		return fmt.Errorf("render: Options.Scale is %d; it must be >= 1 (see DefaultOptions)", o.Scale)
	}
	if !(o.Alpha >= 0 && o.Alpha <= 1) || !(o.Threshold >= 0 && o.Threshold <= 1) {
		return fmt.Errorf("render: Options.Alpha %g and Threshold %g must be in [0,1]", o.Alpha, o.Threshold)
	}
	return nil
}

// methodTitle is the method's name for tile titles.
func (o Options) methodTitle() string {
	if o.Method == "" {
		return "map"
	}
	return o.Method
}

// Layout, display pixels.
const (
	pad          = 14 // outer margin
	gap          = 14 // between tiles
	barGap       = 6  // between a heatmap tile and its colour bar
	titleSize    = 14
	captionSize  = 15
	metricSize   = 13
	boxThickness = 2
	titleGap     = 5 // between a title and its tile
	captionGap   = 8 // between tiles and caption
)

var (
	camBoxColor   = color.RGBA{255, 255, 255, 255}
	separatorLine = color.RGBA{0xd0, 0xd7, 0xde, 255}
	tileFrame     = color.RGBA{0xd0, 0xd7, 0xde, 255}
)

// tile is one image of a row with its title.
type tile struct {
	img       *image.RGBA
	title     string
	swatch    *color.RGBA // small colour square before the title
	colorBar  bool        // followed by a colour bar
	titleInk  color.RGBA
	titleBold bool
}

// classIndex resolves classIdx (-1: the predicted class) against the panel.
func (p Panel) classIndex(classIdx int) (int, error) {
	if classIdx < 0 {
		for i, n := range p.ClassNames {
			if n == p.PredClass {
				return i, nil
			}
		}
		return 0, fmt.Errorf("render: panel %q: predicted class %q is not among the class names %v", p.Name, p.PredClass, p.ClassNames)
	}
	if classIdx >= len(p.Maps) {
		return 0, fmt.Errorf("render: panel %q: class index %d out of range (%d maps)", p.Name, classIdx, len(p.Maps))
	}
	return classIdx, nil
}

func (p Panel) check() error {
	if p.Gray == nil || p.Gray.Bounds().Empty() {
		return fmt.Errorf("render: panel %q has no image", p.Name)
	}
	if len(p.Maps) == 0 {
		return fmt.Errorf("render: panel %q has no maps", p.Name)
	}
	if len(p.ClassNames) != len(p.Maps) {
		return fmt.Errorf("render: panel %q: %d maps but %d class names", p.Name, len(p.Maps), len(p.ClassNames))
	}
	for i, m := range p.Maps {
		if !m.Valid() {
			return fmt.Errorf("render: panel %q: map %d (%s) is %dx%d with %d values", p.Name, i, p.ClassNames[i], m.W, m.H, len(m.V))
		}
	}
	return nil
}

// boxColor resolves a box's colour: its own, else its label's class colour, else white.
func (p Panel) boxColor(b Box) color.RGBA {
	if b.Color.A != 0 {
		return b.Color
	}
	for i, n := range p.ClassNames {
		if n == b.Label {
			return ClassColor(i)
		}
	}
	return ClassColor(-1)
}

// grayTile upscales the panel image to display size.
func grayTile(g *image.Gray, o Options) *image.Gray {
	b := g.Bounds()
	dst := image.NewGray(image.Rect(0, 0, b.Dx()*o.Scale, b.Dy()*o.Scale))
	interp := xdraw.Interpolator(xdraw.NearestNeighbor)
	if o.Smooth {
		interp = xdraw.BiLinear
	}
	interp.Scale(dst, dst.Bounds(), g, b, xdraw.Src, nil)
	return dst
}

func toRGBA(g *image.Gray) *image.RGBA {
	img := image.NewRGBA(g.Bounds())
	draw.Draw(img, img.Bounds(), g, g.Bounds().Min, draw.Src)
	return img
}

// rawTile is the image with all ground-truth boxes (none when the truth is unknown).
func (p Panel) rawTile(o Options, gt []Box) *image.RGBA {
	img := toRGBA(grayTile(p.Gray, o))
	p.drawGT(img, gt, o)
	return img
}

func (p Panel) drawGT(img *image.RGBA, gt []Box, o Options) {
	for _, b := range gt {
		DrawBox(img, scaleRect(b.Rect, o.Scale), p.boxColor(b), boxThickness)
	}
	var taken []image.Rectangle
	for _, b := range gt {
		taken = drawBoxLabel(img, scaleRect(b.Rect, o.Scale), b.Label, p.boxColor(b), boxThickness, taken)
	}
}

// overlayTile blends map k over the image and draws gt and, if asked, the CAM boxes.
func (p Panel) overlayTile(k int, o Options, gt []Box) *image.RGBA {
	g := grayTile(p.Gray, o)
	m := p.Maps[k]
	img := Overlay(g, m.Resized(g.Rect.Dx(), g.Rect.Dy()), o.Colormap, o.Alpha)
	if o.ShowCAMBoxes {
		b := p.Gray.Bounds()
		for _, r := range m.Resized(b.Dx(), b.Dy()).Boxes(o.Threshold) {
			if r.Dx()*r.Dy()*100 < b.Dx()*b.Dy() {
				continue // specks under 1% of the image: a litter of tiny boxes on texture classes
			}
			DrawDashedBox(img, scaleRect(r, o.Scale), camBoxColor, boxThickness, 0)
		}
	}
	p.drawGT(img, gt, o)
	return img
}

func (p Panel) heatTile(k int, o Options) *image.RGBA {
	b := p.Gray.Bounds()
	return Colorize(p.Maps[k].Resized(b.Dx()*o.Scale, b.Dy()*o.Scale), o.Colormap)
}

// imageTile is the first tile of every row: the image with the ground-truth boxes gt, titled with its name.
func (p Panel) imageTile(o Options, gt []Box) tile {
	title := "image"
	if p.Name != "" {
		title = p.Name
	}
	return tile{img: p.rawTile(o, gt), title: title, titleInk: inkColor, titleBold: true}
}

// boxesLabelled keeps the boxes of one class (matched by Label).
func boxesLabelled(boxes []Box, label string) []Box {
	var out []Box
	for _, b := range boxes {
		if b.Label == label {
			out = append(out, b)
		}
	}
	return out
}

// gtBoxes are the boxes to draw: none when the true class is unknown.
func (p Panel) gtBoxes() []Box {
	if p.TrueClass == "" {
		return nil
	}
	return p.GT
}

// captionLines: "true: X / pred: Y 0.97" (green when right, red when wrong; just "pred: Y 0.97" when
// the truth is unknown) and the optional metric line.
func (p Panel) caption() (string, color.RGBA) {
	pred := fmt.Sprintf("pred: %s %.2f", p.PredClass, p.Prob)
	if p.TrueClass == "" {
		return pred, inkColor
	}
	c := correctColor
	if p.TrueClass != p.PredClass {
		c = wrongColor
	}
	return fmt.Sprintf("true: %s / %s", p.TrueClass, pred), c
}

// ImageRow renders one image as three tiles: the image with its ground-truth boxes | the heatmap of
// class classIdx (-1: the predicted class) with a colour bar | the overlay with the ground-truth boxes
// (and dashed CAM boxes with Options.ShowCAMBoxes); below, the caption and the metric line.
// Images without a true class show no boxes.
func ImageRow(p Panel, classIdx int, opts Options) (*image.RGBA, error) {
	o := opts
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	k, err := p.classIndex(classIdx)
	if err != nil {
		return nil, err
	}
	gt := p.gtBoxes()
	ovTitle := "overlay"
	tiles := []tile{
		p.imageTile(o, gt),
		{img: p.heatTile(k, o), title: fmt.Sprintf("%s: %s", o.methodTitle(), p.ClassNames[k]), colorBar: true,
			swatch: ptr(ClassColor(k)), titleInk: inkColor},
		{img: p.overlayTile(k, o, gt), title: ovTitle, titleInk: inkColor},
	}
	capt, capColor := p.caption()
	return composeRow(tiles, o, capt, capColor, p.Metric), nil
}

// ClassRow renders the multi-label view of one image: the image with all ground-truth boxes, then
// one overlay per class, each with that class's own ground-truth boxes (boxes are matched to classes
// by Label), titled with the class name and, when Panel.Probs is set, its probability; a colour bar
// and the caption close the row.
func ClassRow(p Panel, opts Options) (*image.RGBA, error) {
	o := opts
	if err := o.check(); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	gt := p.gtBoxes()
	tiles := []tile{p.imageTile(o, gt)}
	for k, name := range p.ClassNames {
		own := boxesLabelled(gt, name)
		t := name
		if k < len(p.Probs) {
			t = fmt.Sprintf("%s %.2f", name, p.Probs[k])
		}
		tiles = append(tiles, tile{img: p.overlayTile(k, o, own), title: t, swatch: ptr(ClassColor(k)),
			titleInk: inkColor, titleBold: name == p.PredClass})
	}
	tiles[len(tiles)-1].colorBar = true
	capt, capColor := p.caption()
	return composeRow(tiles, o, capt, capColor, p.Metric), nil
}

// Grid stacks the ImageRow of each panel (for its predicted class), in the given order, separated by
// thin lines. Sort the panels first, e.g. with SortByLoss.
func Grid(panels []Panel, opts Options) (*image.RGBA, error) {
	rows := make([]*image.RGBA, 0, len(panels))
	for _, p := range panels {
		r, err := ImageRow(p, -1, opts)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return Stack(rows), nil
}

// Stack places images one below the other, left-aligned on a white background, separated by 1 px
// light gray lines. The width is the widest image's; no images give a 1x1 white image.
func Stack(imgs []*image.RGBA) *image.RGBA {
	w, h := 1, 0
	for i, im := range imgs {
		w = max(w, im.Bounds().Dx())
		h += im.Bounds().Dy()
		if i > 0 {
			h++
		}
	}
	out := image.NewRGBA(image.Rect(0, 0, w, max(h, 1)))
	draw.Draw(out, out.Bounds(), image.NewUniform(paperColor), image.Point{}, draw.Src)
	y := 0
	for i, im := range imgs {
		if i > 0 {
			draw.Draw(out, image.Rect(0, y, w, y+1), image.NewUniform(separatorLine), image.Point{}, draw.Src)
			y++
		}
		b := im.Bounds()
		draw.Draw(out, image.Rect(0, y, b.Dx(), y+b.Dy()), im, b.Min, draw.Src)
		y += b.Dy()
	}
	return out
}

// RowSize returns the size of an ImageRow for an image of size img with the given options, so
// callers (and tests) can lay out figures without rendering them.
// A Scale below 1 counts as 1 here (drawing with it is an error).
func RowSize(img image.Point, metric bool, opts Options) image.Point {
	s := max(opts.Scale, 1)
	tw, th := img.X*s, img.Y*s
	w := 2*pad + 3*tw + 2*gap + barGap + ColorBarWidth()
	return image.Pt(w, rowHeight(th, metric))
}

func rowHeight(tileH int, metric bool) int {
	h := pad + lineHeight(face(titleSize, true)) + titleGap + tileH + captionGap + lineHeight(face(captionSize, true)) + pad
	if metric {
		h += 2 + lineHeight(face(metricSize, false))
	}
	return h
}

// composeRow lays out titled tiles left to right, colour bars after the tiles that ask for one, and
// the caption below.
func composeRow(tiles []tile, o Options, capt string, capColor color.RGBA, metric string) *image.RGBA {
	tf := face(titleSize, false)
	tfb := face(titleSize, true)
	cf := face(captionSize, true)
	mf := face(metricSize, false)
	w, th := 2*pad, 0
	for i, t := range tiles {
		if i > 0 {
			w += gap
		}
		w += t.img.Bounds().Dx()
		if t.colorBar {
			w += barGap + ColorBarWidth()
		}
		th = max(th, t.img.Bounds().Dy())
	}
	h := rowHeight(th, metric != "")
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(out, out.Bounds(), image.NewUniform(paperColor), image.Point{}, draw.Src)
	titleH := lineHeight(tfb)
	tileY := pad + titleH + titleGap
	x := pad
	for i, t := range tiles {
		if i > 0 {
			x += gap
		}
		tb := t.img.Bounds()
		tx := x
		if t.swatch != nil {
			s := titleH * 2 / 3
			sy := pad + (titleH-s)/2
			draw.Draw(out, image.Rect(tx, sy, tx+s, sy+s), image.NewUniform(*t.swatch), image.Point{}, draw.Src)
			tx += s + 5
		}
		f := tf
		if t.titleBold {
			f = tfb
		}
		drawText(out, f, tx, pad, fitText(f, t.title, tb.Dx()-(tx-x)), t.titleInk)
		dr := image.Rect(x, tileY, x+tb.Dx(), tileY+tb.Dy())
		draw.Draw(out, dr, t.img, tb.Min, draw.Src)
		DrawBox(out, dr.Inset(-1), tileFrame, 1)
		x += tb.Dx()
		if t.colorBar {
			x += barGap
			bar := ColorBar(o.Colormap, tb.Dy())
			draw.Draw(out, bar.Bounds().Add(image.Pt(x, tileY)), bar, image.Point{}, draw.Src)
			x += bar.Bounds().Dx()
		}
	}
	y := tileY + th + captionGap
	drawText(out, cf, pad, y, fitText(cf, capt, w-2*pad), capColor)
	if metric != "" {
		drawText(out, mf, pad, y+lineHeight(cf)+2, fitText(mf, metric, w-2*pad), mutedColor)
	}
	return out
}

// fitText shortens s with "..." until it fits in width pixels.
func fitText(f fontFace, s string, width int) string {
	if textWidth(f, s) <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 0 {
		r = r[:len(r)-1]
		t := strings.TrimSpace(string(r)) + "..."
		if textWidth(f, t) <= width {
			return t
		}
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

// MethodRow compares methods on one image: the image with its ground-truth boxes, then one overlay per method
// (panels[i] holds method methods[i]'s maps; all panels show the same image) for class classIdx (-1: the
// predicted class), each with that class's GT boxes and, with Options.ShowCAMBoxes, dashed CAM boxes; a colour
// bar and the caption of panels[0] close the row.
func MethodRow(panels []Panel, methods []string, classIdx int, opts Options) (*image.RGBA, error) {
	o := opts
	if err := o.check(); err != nil {
		return nil, err
	}
	if len(panels) == 0 || len(panels) != len(methods) {
		return nil, fmt.Errorf("render: MethodRow needs one panel per method, got %d panels for %d methods",
			len(panels), len(methods))
	}
	p := panels[0]
	if err := p.check(); err != nil {
		return nil, err
	}
	k, err := p.classIndex(classIdx)
	if err != nil {
		return nil, err
	}
	gt := p.gtBoxes()
	own := boxesLabelled(gt, p.ClassNames[k])
	tiles := []tile{p.imageTile(o, gt)}
	for i, mp := range panels {
		if err := mp.check(); err != nil {
			return nil, err
		}
		tiles = append(tiles, tile{img: mp.overlayTile(k, o, own), title: fmt.Sprintf("%s: %s", methods[i], p.ClassNames[k]),
			swatch: ptr(ClassColor(k)), titleInk: inkColor})
	}
	tiles[len(tiles)-1].colorBar = true
	capt, capColor := p.caption()
	return composeRow(tiles, o, capt, capColor, p.Metric), nil
}

// ImageWithBoxes draws the panel's image at o.Scale with its GT boxes, each in its class colour and labelled (the
// first tile of every row, without title).
func ImageWithBoxes(p Panel, o Options) (*image.RGBA, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	if p.Gray == nil {
		return nil, fmt.Errorf("render: panel %q has no image", p.Name)
	}
	return p.rawTile(o, p.GT), nil
}
