package display

import (
	"errors"
	"fmt"
	"html"
	"math"
	"time"

	"github.com/janpfeifer/gonb/gonbui"
	"github.com/janpfeifer/gonb/gonbui/comms"
	"github.com/janpfeifer/gonb/gonbui/dom"
	"github.com/janpfeifer/gonb/gonbui/widgets"
	"github.com/neucam/neucam/gradcam/render"
)

// Explorer is an interactive view of Grad-CAM rows in a notebook: a class dropdown ("predicted",
// each class, or "all classes" for the multi-label view), a method dropdown, and sliders for the
// overlay alpha and the CAM-box threshold (0 hides the CAM boxes). Every change redraws a single
// output block in place (gonbui.UpdateHTML with a fixed display id) instead of appending outputs.
// When the user presses "Done" (or after Idle without changes) the controls are removed and the last
// view is displayed as a normal output, so it is saved with the notebook.
type Explorer struct {
	ClassNames []string
	Methods    []string // e.g. "gradcam", "gradcam++", "scorecam"; the first is shown first
	// Compute returns the panels for a method; called once per method (results are cached).
	Compute func(method string) ([]render.Panel, error)
	Options render.Options // starting colormap, alpha, threshold, scale
	Idle    time.Duration  // stop after this long without interaction; 0: wait for "Done"
	// FrontEndTimeout bounds the wait for a browser before the controls are built; 0: 5 s.
	FrontEndTimeout time.Duration
}

// session is the explorer's state and view, free of gonbui so it can be tested outside GoNB.
type session struct {
	e      *Explorer
	method int
	class  int // -1: predicted class; 0..K-1: that class; K: all classes (render.ClassRow)
	opts   render.Options
	cache  map[string][]render.Panel
	errs   map[string]error
}

func (e *Explorer) newSession() (*session, error) {
	if len(e.Methods) == 0 {
		return nil, errors.New("display: Explorer needs at least one method")
	}
	if e.Compute == nil {
		return nil, errors.New("display: Explorer.Compute is nil")
	}
	o := e.Options
	o.ShowCAMBoxes = e.Options.ShowCAMBoxes
	return &session{e: e, class: -1, opts: o, cache: map[string][]render.Panel{}, errs: map[string]error{}}, nil
}

// classOptions are the entries of the class dropdown; entry i is class i-1 (0: predicted).
func (s *session) classOptions() []string {
	return append(append([]string{"predicted class"}, s.e.ClassNames...), "all classes")
}

func (s *session) setClassOption(i int) {
	s.class = min(max(i-1, -1), len(s.e.ClassNames))
}

func (s *session) setMethod(i int) {
	s.method = min(max(i, 0), len(s.e.Methods)-1)
}

// setAlpha takes the slider position 0..100. Alpha 0 would mean "default" to render, so the
// slider's 0 is a tiny positive alpha (the raw image).
func (s *session) setAlpha(v int) {
	s.opts.Alpha = math.Max(float64(v)/100, 1e-6)
}

// setThreshold takes the slider position 0..100; 0 turns the CAM boxes off.
func (s *session) setThreshold(v int) {
	s.opts.ShowCAMBoxes = v > 0
	if v > 0 {
		s.opts.Threshold = float64(v) / 100
	}
}

func (s *session) panels() ([]render.Panel, error) {
	m := s.e.Methods[s.method]
	if p, ok := s.cache[m]; ok {
		return p, s.errs[m]
	}
	p, err := s.e.Compute(m)
	if err != nil {
		err = fmt.Errorf("display: computing maps with %q: %w", m, err)
	}
	s.cache[m], s.errs[m] = p, err
	return p, err
}

// summary is the one-line description of the current view.
func (s *session) summary(n int) string {
	class := "predicted class"
	switch {
	case s.class == len(s.e.ClassNames):
		class = "all classes"
	case s.class >= 0:
		class = s.e.ClassNames[s.class]
	}
	boxes := "off"
	if s.opts.ShowCAMBoxes {
		boxes = fmt.Sprintf(">= %.2f of max", s.opts.Threshold)
	}
	return fmt.Sprintf("%s · %s · alpha %.2f · CAM boxes %s · %d images",
		s.e.Methods[s.method], class, s.opts.Alpha, boxes, n)
}

// html renders the current view; errors are shown in the block rather than ending the explorer.
func (s *session) html() string {
	panels, err := s.panels()
	if err != nil {
		return errorHTML(err)
	}
	o := s.opts
	o.Method = s.e.Methods[s.method]
	var body string
	if s.class == len(s.e.ClassNames) {
		body, err = ClassRowsHTML(panels, o)
	} else {
		body, err = RowsHTML(panels, s.class, o)
	}
	if err != nil {
		return errorHTML(err)
	}
	head := `<div style="font:13px sans-serif;color:#57606a;margin:4px 0">` + html.EscapeString(s.summary(len(panels))) + "</div>\n"
	return head + body
}

// Run shows the controls and the view and handles interaction until "Done" or Idle. It returns
// ErrNotNotebook outside GoNB. Inside GoNB without a browser attached (a headless nbconvert run), GoNB's
// widgets would wait forever for the page's first value, so Run first asks the page to answer within
// FrontEndTimeout and, when nothing answers, displays the opening view without controls and returns.
func (e *Explorer) Run() error {
	s, err := e.newSession()
	if err != nil {
		return err
	}
	if !inNotebook() {
		return ErrNotNotebook
	}
	timeout := e.FrontEndTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	if !frontEnd(timeout) {
		gonbui.DisplayHTML(s.html())
		return gonbui.Error()
	}
	label := func(parent, text string) {
		dom.Append(parent, `<span style="font:13px sans-serif;margin:0 4px 0 12px">`+html.EscapeString(text)+"</span>")
	}
	valueSpan := func(parent, id, text string) {
		dom.Append(parent, fmt.Sprintf(`<span id="%s" style="font:12px monospace;margin-left:4px">%s</span>`, id, html.EscapeString(text)))
	}
	uid := gonbui.UniqueId()
	alphaID, thrID := "neucam_alpha_"+uid, "neucam_thr_"+uid
	alpha0 := int(math.Round(s.opts.Alpha * 100))
	thr0 := 0
	if s.opts.ShowCAMBoxes {
		thr0 = int(math.Round(s.opts.Threshold * 100))
	}

	controls := dom.CreateTransientDiv()
	label(controls, "class")
	classSel := widgets.Select(s.classOptions()).AppendTo(controls).Done()
	label(controls, "method")
	methodSel := widgets.Select(e.Methods).AppendTo(controls).Done()
	label(controls, "alpha")
	alphaSl := widgets.Slider(0, 100, alpha0).AppendTo(controls).Done()
	valueSpan(controls, alphaID, fmt.Sprintf("%.2f", s.opts.Alpha))
	label(controls, "CAM boxes")
	thrSl := widgets.Slider(0, 100, thr0).AppendTo(controls).Done()
	valueSpan(controls, thrID, thresholdText(thr0))
	dom.Append(controls, "&nbsp;&nbsp;")
	doneBtn := widgets.Button("Done").AppendTo(controls).Done()

	out := "neucam_explorer_" + uid
	view := s.html()
	gonbui.UpdateHTML(out, view)

	classC, methodC := classSel.Listen().LatestOnly(), methodSel.Listen().LatestOnly()
	alphaC, thrC, doneC := alphaSl.Listen().LatestOnly(), thrSl.Listen().LatestOnly(), doneBtn.Listen()
	defer func() {
		for _, c := range []interface{ Close() }{classC, methodC, alphaC, thrC, doneC} {
			c.Close()
		}
	}()
	var idle <-chan time.Time
	resetIdle := func() {
		if e.Idle > 0 {
			idle = time.After(e.Idle)
		}
	}
	resetIdle()
loop:
	for {
		select {
		case v := <-classC.C:
			s.setClassOption(v)
		case v := <-methodC.C:
			s.setMethod(v)
			if _, ok := s.cache[e.Methods[s.method]]; !ok {
				gonbui.UpdateHTML(out, `<div style="font:13px sans-serif">computing `+html.EscapeString(e.Methods[s.method])+"...</div>")
			}
		case v := <-alphaC.C:
			s.setAlpha(v)
			dom.SetInnerText(alphaID, fmt.Sprintf("%.2f", s.opts.Alpha))
		case v := <-thrC.C:
			s.setThreshold(v)
			dom.SetInnerText(thrID, thresholdText(v))
		case <-doneC.C:
			break loop
		case <-idle:
			break loop
		}
		view = s.html()
		gonbui.UpdateHTML(out, view)
		resetIdle()
	}
	// Persist the final view as a regular output and drop the transient controls and block.
	gonbui.UpdateHTML(out, "")
	dom.Remove(controls)
	gonbui.DisplayHTML(view)
	return gonbui.Error()
}

func thresholdText(v int) string {
	if v <= 0 {
		return "off"
	}
	return fmt.Sprintf(">= %.2f max", float64(v)/100)
}

// viewHTML is used by tests: the HTML after applying the given control positions.
func (e *Explorer) viewHTML(classOption, method, alpha, threshold int) (string, error) {
	s, err := e.newSession()
	if err != nil {
		return "", err
	}
	s.setClassOption(classOption)
	s.setMethod(method)
	s.setAlpha(alpha)
	s.setThreshold(threshold)
	return s.html(), nil
}

// frontEnd reports whether a browser is attached to the kernel: the page is asked, through GoNB's websocket
// (which the widgets use too), to send a value back within timeout. Headless runs get no answer.
func frontEnd(timeout time.Duration) bool {
	addr := "/neucam/probe/" + gonbui.UniqueId()
	c := comms.Listen[int](addr).LatestOnly()
	defer c.Close()
	dom.TransientJavascript(fmt.Sprintf(`(() => { const g = globalThis?.gonb_comm; if (g) { g.newSyncedVariable(%q, 0).set(1); } })();`, addr))
	select {
	case <-c.C:
		return true
	case <-time.After(timeout):
		return false
	}
}
