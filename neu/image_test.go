package neu

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/color/palette"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neucam/neucam/internal/neutest"
)

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encodeJPEG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// truncated keeps the first 60% of a file: header intact, pixel data cut.
func truncated(b []byte) []byte { return b[:len(b)*6/10] }

// pngHeaderOnly is a PNG signature and IHDR claiming w x h 8-bit gray, with no pixel data.
func pngHeaderOnly(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8] = 8 // bit depth; colour type 0 (gray)
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

func TestReadImageFormats(t *testing.T) {
	dir := t.TempDir()
	g16 := image.NewGray16(image.Rect(0, 0, 20, 10))
	for i := range g16.Pix {
		g16.Pix[i] = 0x80 // every pixel 0x8080 -> 128
	}
	rgba := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < len(rgba.Pix); i += 4 {
		copy(rgba.Pix[i:], []byte{255, 0, 0, 255}) // pure red: luma 0.299*255 = 76
	}
	nrgba := image.NewNRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < len(nrgba.Pix); i += 4 {
		copy(nrgba.Pix[i:], []byte{0, 255, 0, 128}) // half-transparent green over black: 0.587*255*128/255 = 75
	}
	pal := image.NewPaletted(image.Rect(0, 0, 12, 9), palette.Plan9)
	for i := range pal.Pix {
		pal.Pix[i] = uint8(pal.Palette.Index(color.RGBA{0, 0, 255, 255}))
	}
	tests := []struct {
		name    string
		data    []byte
		w, h    int
		center  int // expected gray value at the centre; -1 to skip
		wantErr string
	}{
		{name: "gray png", data: encodePNG(t, neutest.Gradient(30, 30)), w: 30, h: 30, center: (15 + 30) % 256},
		{name: "16-bit gray png", data: encodePNG(t, g16), w: 20, h: 10, center: 128},
		{name: "rgba png", data: encodePNG(t, rgba), w: 16, h: 16, center: 76},
		{name: "nrgba png with alpha", data: encodePNG(t, nrgba), w: 16, h: 16, center: 75},
		{name: "palette png", data: encodePNG(t, pal), w: 12, h: 9, center: 29},
		{name: "color jpeg", data: encodeJPEG(t, rgba), w: 16, h: 16, center: 76},
		{name: "8x8", data: encodePNG(t, neutest.Gradient(8, 8)), w: 8, h: 8, center: 4 + 8},
		{name: "non-square", data: encodeJPEG(t, neutest.Gradient(300, 40)), w: 300, h: 40, center: -1},
		{name: "4000x4000", data: encodePNG(t, neutest.Gradient(4000, 4000)), w: 4000, h: 4000, center: (2000 + 4000) % 256},
		{name: "7x7 too small", data: encodePNG(t, neutest.Gradient(7, 7)), wantErr: "7x7, smaller than the minimum 8x8"},
		{name: "absurd size header", data: pngHeaderOnly(20000, 20000), wantErr: "20000x20000, larger than the limit"},
		{name: "zero bytes", data: nil, wantErr: "empty file (0 bytes)"},
		{name: "text named jpg", data: []byte("this is not an image\n"), wantErr: `not a JPEG or PNG image (file starts with "this is "`},
		{name: "truncated jpeg", data: truncated(encodeJPEG(t, neutest.Gradient(64, 64))), wantErr: "truncated JPEG"},
		{name: "truncated png", data: truncated(encodePNG(t, neutest.Gradient(64, 64))), wantErr: "truncated PNG"},
		{name: "jpeg header only", data: encodeJPEG(t, neutest.Gradient(64, 64))[:20], wantErr: "corrupt or truncated image header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".jpg")
			writeFile(t, path, tc.data)
			img, err := ReadImage(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("err = %v, want it to name %s and contain %q", err, path, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b != image.Rect(0, 0, tc.w, tc.h) {
				t.Fatalf("bounds %v, want %dx%d", b, tc.w, tc.h)
			}
			if tc.center >= 0 {
				got := int(img.GrayAt(tc.w/2, tc.h/2).Y)
				tol := 0
				if strings.Contains(tc.name, "jpeg") {
					tol = 2
				}
				if got < tc.center-tol || got > tc.center+tol {
					t.Errorf("centre pixel %d, want %d", got, tc.center)
				}
			}
		})
	}
}

func TestReadImageFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadImage(filepath.Join(dir, "missing.jpg")); err == nil || !strings.Contains(err.Error(), "missing.jpg") || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := ReadImage(dir); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Errorf("folder: %v", err)
	}
	p := filepath.Join(dir, "locked.png")
	writeFile(t, p, encodePNG(t, neutest.Gradient(8, 8)))
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	if f, err := os.Open(p); err == nil {
		f.Close()
		t.Skip("running as root: chmod 000 does not stop reading")
	}
	if _, err := ReadImage(p); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("unreadable file: %v", err)
	}
}

func TestReadImageNEU(t *testing.T) {
	img, err := ReadImage(filepath.Join(neutest.Dir(t), "images", "crazing_120.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds() != image.Rect(0, 0, 200, 200) {
		t.Fatalf("bounds %v", img.Bounds())
	}
	var sum, sq float64
	for _, v := range img.Pix {
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	mean := sum / 40000
	if sd := math.Sqrt(sq/40000 - mean*mean); mean < 20 || mean > 235 || sd < 2 {
		t.Errorf("implausible steel image: mean %.1f sd %.1f", mean, sd)
	}
}

func TestScaleBoxes(t *testing.T) {
	boxes := []Box{
		{Class: 1, Rect: image.Rect(0, 0, 200, 200), Difficult: true},
		{Class: 2, Rect: image.Rect(1, 2, 3, 5)},
		{Class: 3, Rect: image.Rect(100, 50, 150, 100)},
	}
	got := ScaleBoxes(boxes, image.Pt(200, 100), 224)
	want := []image.Rectangle{image.Rect(0, 0, 224, 224), image.Rect(1, 4, 4, 12), image.Rect(112, 112, 168, 224)}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range got {
		if got[i].Rect != want[i] || got[i].Class != boxes[i].Class || got[i].Difficult != boxes[i].Difficult {
			t.Errorf("box %d = %+v, want %v", i, got[i], want[i])
		}
	}
	if boxes[1].Rect != image.Rect(1, 2, 3, 5) {
		t.Error("input modified")
	}
	// Shrinking keeps at least one pixel and stays on the grid.
	small := ScaleBoxes([]Box{{Rect: image.Rect(199, 199, 200, 200)}, {Rect: image.Rect(300, 0, 310, 5)}}, image.Pt(200, 200), 7)
	if len(small) != 1 || small[0].Rect != image.Rect(6, 6, 7, 7) {
		t.Errorf("small grid: %v", small)
	}
}
