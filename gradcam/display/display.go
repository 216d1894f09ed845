// Package display shows neucam figures in a GoNB (Go Jupyter kernel) notebook: single images,
// Grad-CAM rows and grids, and an interactive Explorer with class/method dropdowns and alpha/threshold
// sliders that redraws one output block in place.
//
// It is the only package that imports gonbui. Outside a notebook (plain `go run`, tests) nothing can
// be shown: the Show functions and Explorer.Run return ErrNotNotebook; the HTML they would send is
// available from the *HTML functions.
package display

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"image"
	"image/jpeg"
	"strings"
	"sync"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/gradcam/render"
)

// ErrNotNotebook is returned when there is no GoNB kernel to display to.
var ErrNotNotebook = errors.New("display: not running inside a GoNB notebook (GONB_PIPE unset), nothing shown")

// inNotebook reports whether a GoNB kernel started this program (gonbui.IsNotebook: GONB_PIPE is
// set); a variable so tests don't depend on the environment they run in.
var inNotebook = func() bool { return gonbui.IsNotebook }

func showHTML(s string) error {
	if !inNotebook() {
		return ErrNotNotebook
	}
	gonbui.DisplayHTML(s)
	return gonbui.Error()
}

// ShowImage displays img as a PNG.
func ShowImage(img image.Image) error {
	if !inNotebook() {
		return ErrNotNotebook
	}
	if err := gonbui.DisplayImage(img); err != nil {
		return fmt.Errorf("display: %w", err)
	}
	return gonbui.Error()
}

// ShowRows displays one render.ImageRow per panel (for its predicted class), one figure each.
func ShowRows(panels []render.Panel, opts render.Options) error {
	s, err := RowsHTML(panels, -1, opts)
	if err != nil {
		return err
	}
	return showHTML(s)
}

// ShowClassRows displays the multi-label view (render.ClassRow) of each panel.
func ShowClassRows(panels []render.Panel, opts render.Options) error {
	s, err := ClassRowsHTML(panels, opts)
	if err != nil {
		return err
	}
	return showHTML(s)
}

// ShowGrid displays all panels as one stacked image (render.Grid), in the given order.
func ShowGrid(panels []render.Panel, opts render.Options) error {
	img, err := render.Grid(panels, opts)
	if err != nil {
		return err
	}
	return ShowImage(img)
}

// RowsHTML is the HTML of ShowRows, with the map of class classIdx (-1: each panel's prediction).
func RowsHTML(panels []render.Panel, classIdx int, opts render.Options) (string, error) {
	var b strings.Builder
	for _, p := range panels {
		img, err := render.ImageRow(p, classIdx, opts)
		if err != nil {
			return "", err
		}
		if err := figure(&b, img, p.Name); err != nil {
			return "", err
		}
	}
	return wrap(b.String()), nil
}

// ClassRowsHTML is the HTML of ShowClassRows.
func ClassRowsHTML(panels []render.Panel, opts render.Options) (string, error) {
	var b strings.Builder
	for _, p := range panels {
		img, err := render.ClassRow(p, opts)
		if err != nil {
			return "", err
		}
		if err := figure(&b, img, p.Name); err != nil {
			return "", err
		}
	}
	return wrap(b.String()), nil
}

func figure(b *strings.Builder, img image.Image, name string) error {
	// The rows are rendered at Options.Scale for sharpness; the browser shrinks them to fit.
	f, err := render.HTMLFigure(img, "")
	if err != nil {
		return fmt.Errorf("display: %s: %w", name, err)
	}
	b.WriteString(f)
	b.WriteByte('\n')
	return nil
}

func wrap(body string) string {
	return `<div class="neucam" style="overflow-x:auto">` + "\n" + body + "</div>"
}

func errorHTML(err error) string {
	return `<pre style="color:#cf222e;white-space:pre-wrap">` + html.EscapeString(err.Error()) + "</pre>"
}

// Explain shows an explain.Result, one figure per image: the image with its GT boxes, then one overlay per
// method for the image's true class (its predicted class when unlabelled), then a colour bar (render.MethodRow),
// as JPEG (photos of steel compress about 3x better than as PNG).
func Explain(res *explain.Result, opts render.Options) error {
	s, err := ExplainHTML(res, opts)
	if err != nil {
		return err
	}
	return showHTML(s)
}

// ExplainHTML is the HTML of Explain.
func ExplainHTML(res *explain.Result, opts render.Options) (string, error) {
	var b strings.Builder
	names := res.MethodNames()
	for i, x := range res.Images {
		panels := make([]render.Panel, len(names))
		for mi := range names {
			panels[mi] = res.Panel(i, mi)
		}
		cls := -1
		if x.Label >= 0 && x.Label < len(res.Classes) {
			cls = x.Label
		}
		img, err := render.MethodRow(panels, names, cls, opts)
		if err != nil {
			return "", err
		}
		s, err := photoHTML(img)
		if err != nil {
			return "", err
		}
		b.WriteString(s + "\n")
	}
	return wrap(b.String()), nil
}

// NewExplorer is an Explorer over images whose maps an explain.Explainer computes (once per method, on demand).
func NewExplorer(ex *explain.Explainer, images []explain.Image, methods []string, opts render.Options) *Explorer {
	return &Explorer{ClassNames: ex.Model().Classes, Methods: methods, Options: opts,
		Compute: func(method string) ([]render.Panel, error) {
			res, err := ex.Explain(images, method)
			if err != nil {
				return nil, err
			}
			return res.Panels(0), nil
		}}
}

// ShowHTML displays an HTML fragment (e.g. a report table).
func ShowHTML(s string) error { return showHTML(wrap(s)) }

// ShowPhoto displays a large figure of photos as a JPEG (quality 90): steel textures compress about 3x better than
// as PNG, which keeps saved notebooks small. ShowImage (PNG) suits charts and small figures.
func ShowPhoto(img image.Image) error {
	s, err := photoHTML(img)
	if err != nil {
		return err
	}
	return showHTML(s)
}

func photoHTML(img image.Image) (string, error) {
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		return "", fmt.Errorf("display: %w", err)
	}
	return `<img style="max-width:100%" src="data:image/jpeg;base64,` + base64.StdEncoding.EncodeToString(buf.Bytes()) + `">`, nil
}

// Live is an output block redrawn in place (a live training plot): Show records how to draw the current state
// and draws it at most twice a second; Finish draws the last state as a regular output, so it is saved with the
// notebook. Outside a notebook nothing is drawn.
type Live struct {
	mu    sync.Mutex
	id    string
	drawn time.Time
	draw  func() image.Image
}

// NewLive starts an empty block.
func NewLive() *Live {
	l := &Live{}
	if inNotebook() {
		l.id = "neucam_live_" + gonbui.UniqueId()
	}
	return l
}

// Show records draw as the block's content and redraws the block when the last redraw is 0.5 s old.
func (l *Live) Show(draw func() image.Image) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.draw = draw
	if l.id == "" || time.Since(l.drawn) < 500*time.Millisecond {
		return
	}
	l.drawn = time.Now()
	if uri, err := render.PNGDataURI(draw()); err == nil {
		gonbui.UpdateHTML(l.id, `<img src="`+uri+`">`)
	}
}

// Finish clears the block and shows the last state as a regular output.
func (l *Live) Finish() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.id != "" {
		gonbui.UpdateHTML(l.id, "")
	}
	if l.draw == nil {
		return nil
	}
	return ShowImage(l.draw())
}
