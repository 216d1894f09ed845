// Package render draws Grad-CAM heatmaps, overlays, ground-truth and CAM-derived boxes, colour bars
// and captions into plain Go images, and encodes them as PNG or HTML with data-URI images.
//
// It depends only on the standard library and golang.org/x/image, so reports, the command line tool
// and the notebook display (package gradcam/display) share one renderer.
package render

import (
	"fmt"
	"image/color"
	"math"
	"strings"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// Colormap maps a value in [0,1] to a colour through a 256-entry lookup table.
// The zero Colormap behaves as Viridis.
type Colormap struct {
	name string
	lut  *[256][3]uint8
}

// The colour maps. Viridis and Magma are perceptually uniform (good default for heatmaps);
// Turbo and Jet are the classic rainbow maps of Grad-CAM papers; Gray is a linear ramp.
var (
	Viridis = Colormap{"viridis", &viridisLUT}
	Magma   = Colormap{"magma", &magmaLUT}
	Turbo   = Colormap{"turbo", &turboLUT}
	Jet     = Colormap{"jet", &jetLUT}
	Gray    = Colormap{"gray", &grayLUT}
)

var grayLUT = func() (lut [256][3]uint8) {
	for i := range lut {
		lut[i] = [3]uint8{uint8(i), uint8(i), uint8(i)}
	}
	return lut
}()

var colormaps = map[string]Colormap{
	"viridis": Viridis, "magma": Magma, "turbo": Turbo, "jet": Jet, "gray": Gray, "grey": Gray,
}

// ColormapNames lists the names accepted by ColormapByName, sorted.
func ColormapNames() []string {
	return []string{"gray", "jet", "magma", "turbo", "viridis"}
}

// ColormapByName returns the colour map with the given (case-insensitive) name.
func ColormapByName(name string) (Colormap, error) {
	c, ok := colormaps[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Colormap{}, fmt.Errorf("render: unknown colormap %q (known: %s)", name, strings.Join(ColormapNames(), ", "))
	}
	return c, nil
}

// Name returns the colour map's name ("viridis" for the zero Colormap).
func (c Colormap) Name() string {
	if c.lut == nil {
		return Viridis.name
	}
	return c.name
}

// At returns the colour for v: v is clamped to [0,1] (NaN counts as 0) and rounded to the nearest of
// the 256 table entries, so At(0) and At(1) are exactly the first and last entries.
func (c Colormap) At(v float64) color.RGBA {
	lut := c.lut
	if lut == nil {
		lut = &viridisLUT
	}
	e := lut[lutIndex(v)]
	return color.RGBA{e[0], e[1], e[2], 255}
}

func lutIndex(v float64) int {
	return int(math.Floor(heatmap.Clamp01(v)*255 + 0.5))
}
