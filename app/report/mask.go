package report

import (
	"image"

	"github.com/neucam/neucam/gradcam/metrics"
	"github.com/neucam/neucam/neu"
	"github.com/pkg/errors"
)

// scoreMasks scores every method and the baselines against the image's exact defect mask (s.MaskPath, e.g. a
// `neucam synth` dataset), read onto the scoring grid (size): for each class with boxes, the mask pixels inside
// that class's boxes; the true class's scores also go to the image's own line (ImageMetrics.Mask, after score has
// filled in the box scores). Images without a mask are left alone.
func (r *Results) scoreMasks(s neu.Sample, ir *ImageResult, names []string, full [][][]float32, size image.Point) error {
	if s.MaskPath == "" {
		return nil
	}
	mask, err := neu.ReadMask(s.MaskPath, size.X, size.Y)
	if err != nil {
		return errors.WithMessagef(err, "%s: mask", s.ImagePath)
	}
	for c := range r.Classes {
		boxes := boxesOf(s, c)
		if len(boxes) == 0 {
			continue
		}
		inBoxes, _ := metrics.BoxMask(size.X, size.Y, boxes)
		classMask := make([]bool, len(mask))
		for i := range mask {
			classMask[i] = mask[i] && inBoxes[i]
		}
		if err := r.suite.AddMaskBaselines(c, size.X, size.Y, classMask); err != nil {
			return errors.WithMessagef(err, "%s: mask baselines", s.ImagePath)
		}
		for mi, name := range names {
			ms, ok, err := r.suite.AddMask(name, c, full[mi][c], size.X, size.Y, classMask)
			if err != nil {
				return errors.WithMessagef(err, "%s: method %s", s.ImagePath, name)
			}
			if im, has := ir.Metrics[name]; ok && has && c == s.Label {
				im.Mask = &ms
				ir.Metrics[name] = im
			}
		}
	}
	return nil
}
