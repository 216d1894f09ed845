package render

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"image"
	"image/png"
	"io"
	"os"
)

// EncodePNG writes img to w as PNG (default compression: steel texture compresses poorly at best speed).
func EncodePNG(w io.Writer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(w, img); err != nil {
		return fmt.Errorf("render: encoding %v PNG: %w", img.Bounds().Size(), err)
	}
	return nil
}

// SavePNG writes img to the file path as PNG.
func SavePNG(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("render: %w", err)
	}
	if err := EncodePNG(f, img); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("render: closing %s: %w", path, err)
	}
	return nil
}

// PNGDataURI returns img as a "data:image/png;base64,..." URI, for <img src=...> in self-contained
// HTML. It fails only for images PNG can't hold (empty or over 2^31 pixels wide/tall).
func PNGDataURI(img image.Image) (string, error) {
	var buf bytes.Buffer
	if err := EncodePNG(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// HTMLFigure returns a <figure> with img embedded as a data-URI PNG (shown at most at its natural
// width and shrunk to fit narrower containers) and the HTML-escaped caption as <figcaption> (omitted
// when empty). The caption is also the image's alt text.
func HTMLFigure(img image.Image, caption string) (string, error) {
	uri, err := PNGDataURI(img)
	if err != nil {
		return "", err
	}
	c := html.EscapeString(caption)
	s := fmt.Sprintf(`<figure style="margin:0 0 12px 0"><img src="%s" alt="%s" width="%d" style="max-width:100%%;height:auto">`,
		uri, c, img.Bounds().Dx())
	if caption != "" {
		s += `<figcaption style="font:13px sans-serif;color:#57606a">` + c + `</figcaption>`
	}
	return s + "</figure>", nil
}
