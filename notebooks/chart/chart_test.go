package chart

import (
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"testing"

	"image/png"
)

// colorRows returns the topmost and bottommost rows holding colour c.
func colorRows(img *image.RGBA, c color.RGBA) (top, bottom int) {
	top, bottom = -1, -1
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.RGBAAt(x, y) == c {
				if top < 0 {
					top = y
				}
				bottom = y
				break
			}
		}
	}
	return top, bottom
}

func save(t *testing.T, name string, img image.Image) {
	if dir := os.Getenv("CHART_PNG_DIR"); dir != "" { // look at the charts: CHART_PNG_DIR=/tmp go test
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
	}
}

func TestBarsHeights(t *testing.T) {
	red, blue := color.RGBA{200, 0, 0, 255}, color.RGBA{0, 0, 200, 255}
	img, err := Bars([]string{"a", "b", "mean"}, []string{"m1", "m2"}, [][]float64{{0.8, 0.2, 0.5}, {0.4, math.NaN(), -0.2}},
		BarOptions{Title: "test", Colors: map[string]color.RGBA{"m1": red, "m2": blue}, Values: true})
	if err != nil {
		t.Fatal(err)
	}
	save(t, "bars.png", img)
	rTop, _ := colorRows(img, red)
	bTop, bBottom := colorRows(img, blue)
	if rTop < 0 || bTop < 0 {
		t.Fatalf("bars missing: red top %d, blue top %d", rTop, bTop)
	}
	// m1's tallest bar (0.8) reaches higher than m2's (0.4); m2's negative bar goes below the zero line,
	// i.e. further down than any of m1's bars.
	if rTop >= bTop {
		t.Errorf("0.8 bar top at y=%d, not above the 0.4 bar top at y=%d", rTop, bTop)
	}
	_, rBottom := colorRows(img, red)
	if bBottom <= rBottom {
		t.Errorf("negative bar bottom y=%d not below the positive bars' base y=%d", bBottom, rBottom)
	}
	if _, err := Bars([]string{"a"}, []string{"m1", "m2"}, [][]float64{{1}}, BarOptions{}); err == nil {
		t.Error("mismatched rows accepted")
	}
}

func TestLineAndMatrix(t *testing.T) {
	c := color.RGBA{200, 0, 0, 255}
	img := Line([]Series{{Name: "loss", X: []float64{0, 1, 2, 3}, Y: []float64{2, 1, 0.5, math.NaN()}, Color: c}},
		LineOptions{Title: "loss", XLabel: "step"})
	save(t, "line.png", img)
	if top, _ := colorRows(img, c); top < 0 {
		t.Fatal("line not drawn")
	}
	empty := Line(nil, LineOptions{})
	if empty.Bounds().Dx() != 520 {
		t.Errorf("default width %d", empty.Bounds().Dx())
	}
	m, err := Matrix("confusion", []string{"x", "y"}, [][]int{{9, 1}, {0, 10}})
	if err != nil {
		t.Fatal(err)
	}
	save(t, "matrix.png", m)
	// A full-row diagonal cell is the pure diagonal green somewhere in the image.
	if top, _ := colorRows(m, color.RGBA{0x1a, 0x7f, 0x37, 255}); top < 0 {
		t.Error("no fully green diagonal cell")
	}
	if _, err := Matrix("bad", []string{"x"}, [][]int{{1, 2}}); err == nil {
		t.Error("ragged matrix accepted")
	}
	s := SideBySide(10, img, m)
	if s.Bounds().Dx() != img.Bounds().Dx()+10+m.Bounds().Dx() {
		t.Errorf("SideBySide width %d", s.Bounds().Dx())
	}
}

func TestGrid(t *testing.T) {
	tile := image.NewRGBA(image.Rect(0, 0, 20, 10))
	c := color.RGBA{0, 0, 255, 255}
	fill(tile, tile.Bounds(), c)
	g := Grid(2, 4, []image.Image{tile, tile, tile}, []string{"a", "b", "c"})
	// 2 columns: width gap + 2*(20+gap); 2 rows.
	if g.Bounds().Dx() != 4+2*24 {
		t.Errorf("width %d, want %d", g.Bounds().Dx(), 4+2*24)
	}
	top, bottom := colorRows(g, c)
	if top < 0 || bottom-top+1 <= 2*10 {
		t.Errorf("tiles span rows %d..%d, want two rows of 10 px with titles between", top, bottom)
	}
}

func TestNiceTicksCoverData(t *testing.T) {
	for _, c := range [][2]float64{{0, 1}, {-0.191, 0.599}, {0.37, 0.42}, {0, 33}, {-3, -1}} {
		ticks := niceTicks(c[0], c[1], 5)
		if len(ticks) < 2 || ticks[0] > c[0]+1e-12 || ticks[len(ticks)-1] < c[1]-1e-12 {
			t.Errorf("niceTicks(%g, %g) = %v does not cover the range", c[0], c[1], ticks)
		}
		if len(ticks) > 12 {
			t.Errorf("niceTicks(%g, %g): %d ticks", c[0], c[1], len(ticks))
		}
	}
}
