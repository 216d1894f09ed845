package neu

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strings"
)

// MasksDir is the folder, beside images/ and annotations/ (or inside a plain image folder), holding the exact
// defect masks: masks/NAME.png for the image NAME (see Sample.MaskPath).
const MasksDir = "masks"

// collectMasks lists dir's .png files (not recursive) by base name.
func (b *builder) collectMasks(dir string, set *fileSet) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		b.skip(dir, "cannot be read: "+unwrapPathError(err).Error())
		return
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") {
			continue
		}
		if !strings.EqualFold(filepath.Ext(name), ".png") {
			b.skip(filepath.Join(dir, name), "not a PNG mask")
			continue
		}
		set.masks[strings.TrimSuffix(name, filepath.Ext(name))] = filepath.Join(dir, name)
	}
}

// findMask returns the mask of an image file given on its own: NAME.png in the masks/ folder beside the
// image's folder (images/x.jpg -> masks/x.png) or inside it; "" when there is none.
func findMask(img string) string {
	dir, base := filepath.Split(img)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	for _, parent := range []string{filepath.Dir(filepath.Clean(dir)), dir} {
		if m := findChildFold(parent, MasksDir); m != "" {
			p := filepath.Join(m, stem+".png")
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p
			}
		}
	}
	return ""
}

// checkMask returns path when it is a PNG mask of the image's size, else "" with a warning.
func (b *builder) checkMask(path string, size image.Point) string {
	if path == "" {
		return ""
	}
	f, err := os.Open(path)
	if err != nil {
		b.warn(path, "mask cannot be read, not used: "+unwrapPathError(err).Error())
		return ""
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		b.warn(path, fmt.Sprintf("mask is not a readable image, not used: %v", err))
		return ""
	}
	if cfg.Width != size.X || cfg.Height != size.Y {
		b.warn(path, fmt.Sprintf("mask is %dx%d but the image is %dx%d, not used", cfg.Width, cfg.Height, size.X, size.Y))
		return ""
	}
	return path
}

// ReadMask reads a defect mask (Sample.MaskPath) as a w*h row-major []bool, true on non-zero pixels, scaled
// (nearest pixel) from the mask's own size to w x h when they differ.
func ReadMask(path string, w, h int) ([]bool, error) {
	g, err := ReadImage(path)
	if err != nil {
		return nil, err
	}
	b := g.Bounds()
	out := make([]bool, w*h)
	for y := range h {
		sy := b.Min.Y + min(b.Dy()-1, (2*y+1)*b.Dy()/(2*h))
		row := g.Pix[g.PixOffset(b.Min.X, sy):]
		for x := range w {
			sx := min(b.Dx()-1, (2*x+1)*b.Dx()/(2*w))
			out[y*w+x] = row[sx] != 0
		}
	}
	return out, nil
}
