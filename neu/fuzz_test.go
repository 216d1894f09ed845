package neu

import (
	"bytes"
	"image"
	"testing"

	"github.com/neucam/neucam/gradcam/heatmap"
	"github.com/neucam/neucam/internal/neutest"
)

// FuzzParseVOC: any bytes either fail cleanly or give boxes that are valid, non-empty and inside the image.
func FuzzParseVOC(f *testing.F) {
	f.Add(voc(size200, obj("crazing", "1", "2", "200", "200")))
	f.Add([]byte("<annotation><object><name>x</name></object></annotation>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, size := range []image.Point{{}, {200, 200}, {9, 13}} {
			a, err := ParseVOC(data, size)
			if err != nil {
				if a != nil {
					t.Fatal("annotation returned with an error")
				}
				continue
			}
			for _, b := range a.Boxes {
				if b.Rect.Empty() || b.Class < 0 || b.Class >= len(Classes) {
					t.Fatalf("bad box %+v", b)
				}
				if size.X > 0 && !b.Rect.In(image.Rect(0, 0, size.X, size.Y)) {
					t.Fatalf("box %v outside %v", b.Rect, size)
				}
			}
		}
	})
}

// FuzzReadImage: DecodeImage never panics and a decoded image has the header's size within the limits.
func FuzzReadImage(f *testing.F) {
	f.Add(encodePNG(f, neutest.Gradient(8, 8)))
	f.Add(encodeJPEG(f, neutest.Gradient(9, 8)))
	f.Add([]byte("not an image"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// Headers may claim up to MaxImagePixels; decoding those is correct but too slow for fuzzing.
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && int64(cfg.Width)*int64(cfg.Height) > 1<<20 {
			t.Skip()
		}
		img, err := DecodeImage(bytes.NewReader(data))
		if err != nil {
			if img != nil {
				t.Fatal("image returned with an error")
			}
			return
		}
		b := img.Bounds()
		if b.Min != (image.Point{}) || b.Dx() < MinImageSide || b.Dy() < MinImageSide || len(img.Pix) != b.Dx()*b.Dy() {
			t.Fatalf("bounds %v, %d pixels", b, len(img.Pix))
		}
		p := heatmap.Pixels(img, 16)
		for _, v := range p {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("pixel %v", v)
			}
		}
	})
}
