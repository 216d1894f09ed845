package render

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/neucam/neucam/gradcam/heatmap"
)

func TestColormapEndpoints(t *testing.T) {
	for _, tc := range []struct {
		name   string
		v      float64
		want   color.RGBA
		byName string
	}{
		{"viridis", 0, color.RGBA{0x44, 0x01, 0x54, 255}, "viridis"},
		{"viridis", 1, color.RGBA{0xfd, 0xe7, 0x25, 255}, "Viridis"},
		{"magma", 0, color.RGBA{0x00, 0x00, 0x04, 255}, "magma"},
		{"magma", 1, color.RGBA{0xfc, 0xfd, 0xbf, 255}, "MAGMA"},
		{"turbo", 0, color.RGBA{0x30, 0x12, 0x3b, 255}, "turbo"},
		{"turbo", 1, color.RGBA{0x7a, 0x04, 0x03, 255}, "turbo"},
		{"jet", 0, color.RGBA{0, 0, 128, 255}, "jet"},
		{"jet", 1, color.RGBA{128, 0, 0, 255}, "jet"},
		{"jet", 0.5, color.RGBA{125, 255, 122, 255}, "jet"}, // matplotlib to_hex(jet(128)) = #7dff7a
		{"gray", 0.5, color.RGBA{128, 128, 128, 255}, "grey"},
		{"gray", -3, color.RGBA{0, 0, 0, 255}, "gray"},
		{"gray", math.NaN(), color.RGBA{0, 0, 0, 255}, "gray"},
		{"gray", 7, color.RGBA{255, 255, 255, 255}, "gray"},
	} {
		cm, err := ColormapByName(tc.byName)
		if err != nil {
			t.Fatal(err)
		}
		if cm.Name() != tc.name {
			t.Errorf("ColormapByName(%q).Name() = %q, want %q", tc.byName, cm.Name(), tc.name)
		}
		if got := cm.At(tc.v); got != tc.want {
			t.Errorf("%s.At(%v) = %v, want %v", tc.name, tc.v, got, tc.want)
		}
	}
	if _, err := ColormapByName("rainbow"); err == nil || !strings.Contains(err.Error(), `"rainbow"`) {
		t.Errorf("ColormapByName(rainbow) error = %v, want one naming the map", err)
	}
	if got := (Colormap{}).At(1); got != Viridis.At(1) {
		t.Errorf("zero Colormap At(1) = %v, want viridis %v", got, Viridis.At(1))
	}
	// Colorize puts the end colours in the right pixels.
	img := Colorize(heatmap.Map{W: 3, H: 1, V: []float32{0, float32(math.NaN()), 1}}, Viridis)
	if img.Bounds() != image.Rect(0, 0, 3, 1) {
		t.Fatalf("Colorize bounds %v", img.Bounds())
	}
	for x, want := range []color.RGBA{Viridis.At(0), Viridis.At(0), {0xfd, 0xe7, 0x25, 255}} {
		if got := img.RGBAAt(x, 0); got != want {
			t.Errorf("Colorize pixel %d = %v, want %v", x, got, want)
		}
	}
}

func filled(w, h int, c color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(img, img.Bounds(), image.NewUniform(c), image.Point{}, draw.Src)
	return img
}

func TestDrawBoxExactPixels(t *testing.T) {
	bg := color.RGBA{10, 20, 30, 255}
	red := color.RGBA{255, 0, 0, 255}
	for _, th := range []int{1, 2} {
		img := filled(12, 12, bg)
		r := image.Rect(2, 3, 9, 11) // x 2..8, y 3..10
		DrawBox(img, r, red, th)
		for y := 0; y < 12; y++ {
			for x := 0; x < 12; x++ {
				in := x >= 2 && x <= 8 && y >= 3 && y <= 10
				border := in && (x < 2+th || x > 8-th || y < 3+th || y > 10-th)
				want := bg
				if border {
					want = red
				}
				if got := img.RGBAAt(x, y); got != want {
					t.Errorf("thickness %d: pixel (%d,%d) = %v, want %v", th, x, y, got, want)
				}
			}
		}
	}
	// Clipped at the image border without panicking; only in-bounds pixels change.
	img := filled(5, 5, bg)
	DrawBox(img, image.Rect(-3, -3, 3, 3), red, 1)
	if img.RGBAAt(2, 0) != red || img.RGBAAt(0, 2) != red || img.RGBAAt(1, 1) != bg || img.RGBAAt(3, 3) != bg {
		t.Errorf("clipped box wrong: %v %v %v %v", img.RGBAAt(2, 0), img.RGBAAt(0, 2), img.RGBAAt(1, 1), img.RGBAAt(3, 3))
	}
}

func TestDrawDashedBoxHasGaps(t *testing.T) {
	bg := color.RGBA{0, 0, 0, 255}
	white := color.RGBA{255, 255, 255, 255}
	img := filled(40, 20, bg)
	r := image.Rect(5, 5, 35, 15) // 30 x 10
	DrawDashedBox(img, r, white, 1, 3)
	// Top edge, position counted from the nearer corner: on for 0-2, off 3-5, on 6-8, ...
	var top []int
	for x := 5; x < 35; x++ {
		if img.RGBAAt(x, 5) == white {
			top = append(top, 1)
		} else {
			top = append(top, 0)
		}
	}
	want := []int{1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1}
	if !reflect.DeepEqual(top, want) {
		t.Errorf("dashed top edge\n got %v\nwant %v", top, want)
	}
	// Left edge (10 px): 1,1,1,0,0 | 0,0,1,1,1 from the nearer corner.
	var left []int
	for y := 5; y < 15; y++ {
		if img.RGBAAt(5, y) == white {
			left = append(left, 1)
		} else {
			left = append(left, 0)
		}
	}
	if wantL := []int{1, 1, 1, 0, 0, 0, 0, 1, 1, 1}; !reflect.DeepEqual(left, wantL) {
		t.Errorf("dashed left edge got %v want %v", left, wantL)
	}
	if img.RGBAAt(20, 10) != bg || img.RGBAAt(4, 5) != bg {
		t.Error("dashed box touched pixels off its outline")
	}
}

func TestOverlayMath(t *testing.T) {
	base := image.NewGray(image.Rect(0, 0, 2, 2))
	copy(base.Pix, []uint8{0, 100, 200, 255})
	heat := heatmap.Map{W: 2, H: 2, V: []float32{0, 1, 0.5, float32(math.NaN())}}
	got := Overlay(base, heat, Gray, 0.25)
	// out = 0.75*g + 0.25*c, rounded: c = gray LUT at round(v*255).
	want := []uint8{0, 139, 182, 191} // 0; 75+63.75; 150+32; 191.25 (NaN -> 0)
	for i, w := range want {
		c := got.RGBAAt(i%2, i/2)
		if c != (color.RGBA{w, w, w, 255}) {
			t.Errorf("gray overlay pixel %d = %v, want %d", i, c, w)
		}
	}
	// Viridis(1) = (253,231,37) over gray 100 at alpha 0.25: (75+63.25, 75+57.75, 75+9.25).
	if c := Overlay(base, heat, Viridis, 0.25).RGBAAt(1, 0); c != (color.RGBA{138, 133, 84, 255}) {
		t.Errorf("viridis overlay pixel = %v, want {138 133 84 255}", c)
	}
	// A 1x1 map is resampled to the image size: constant colour at alpha 1.
	one := Overlay(base, heatmap.Map{W: 1, H: 1, V: []float32{1}}, Magma, 1)
	for i := 0; i < 4; i++ {
		if c := one.RGBAAt(i%2, i/2); c != (color.RGBA{0xfc, 0xfd, 0xbf, 255}) {
			t.Errorf("alpha 1 pixel %d = %v", i, c)
		}
	}
}

func TestHTMLFigure(t *testing.T) {
	img := filled(3, 2, color.RGBA{1, 2, 3, 255})
	s, err := HTMLFigure(img, `true: <a> & "b"`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s, "<figcaption") || !strings.Contains(s, "true: &lt;a&gt; &amp; &#34;b&#34;") || strings.Contains(s, "<a>") {
		t.Errorf("caption not escaped: %s", s)
	}
	const pre = `src="data:image/png;base64,`
	i := strings.Index(s, pre)
	if i < 0 {
		t.Fatalf("no data URI in %s", s)
	}
	b64 := s[i+len(pre):]
	b64 = b64[:strings.IndexByte(b64, '"')]
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if dec.Bounds() != image.Rect(0, 0, 3, 2) {
		t.Errorf("decoded PNG bounds %v", dec.Bounds())
	}
	if r, g, b, _ := dec.At(2, 1).RGBA(); r>>8 != 1 || g>>8 != 2 || b>>8 != 3 {
		t.Errorf("decoded pixel %d %d %d", r>>8, g>>8, b>>8)
	}
	if _, err := PNGDataURI(image.NewRGBA(image.Rect(0, 0, 0, 0))); err == nil {
		t.Error("PNGDataURI of an empty image: want an error")
	}
}
