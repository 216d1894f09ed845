package metrics

import (
	"fmt"
	"math"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// FrameTest is the border-shortcut check: the mean drop of the true class's probability when a frame along the
// image border is replaced by the image's mean grey, next to the drop when a centred square of the same area is
// replaced instead. A model that relies on its defects loses more from the centre; a frame drop above the centre
// drop means the border carries evidence the defects don't explain (zero padding makes the image edge a feature).
type FrameTest struct {
	Band        int         `json:"band"`        // frame width in input pixels
	FrameDrop   ClassValues `json:"frame_drop"`  // mean p(true) - p(true | frame masked), per class and mean
	CentreDrop  ClassValues `json:"centre_drop"` // the same with the centred square masked
	FrameAcc    float64     `json:"frame_acc"`   // accuracy with the frame masked
	CentreAcc   float64     `json:"centre_acc"`  // accuracy with the centre masked
	Neutral     bool        `json:"neutral"`     // every class: frame drop <= centre drop + FrameTolerance
	Images      int         `json:"images"`
	NeutralRule string      `json:"neutral_rule"` // what Neutral means, for the reader of the JSON
}

// FrameTolerance is the slack of the neutrality rule: drops within 0.05 of probability are noise here (both are
// ~0 for classes whose defects are thin or sparse, like scratches and inclusions).
const FrameTolerance = 0.05

// DefaultFrameBand is the frame width as a fraction of the side (12 px at 128 px: 34% of the image's area).
const DefaultFrameBand = 12.0 / 128

// RunFrameTest masks a frame of band pixels (<= 0: DefaultFrameBand of the side) and, separately, a centred square
// of the same area in each size*size image, and compares the true class's probability (labels[i] in
// 0..len(classes)-1; others are skipped) before and after. Predictor calls are batched by batch images.
func RunFrameTest(pred heatmap.Predictor, images [][]float32, size int, labels []int, classes []string, band, batch int) (*FrameTest, error) {
	if len(images) != len(labels) {
		return nil, fmt.Errorf("metrics.RunFrameTest: %d images, %d labels", len(images), len(labels))
	}
	if band <= 0 {
		band = int(math.Round(DefaultFrameBand * float64(size)))
	}
	if 2*band >= size {
		return nil, fmt.Errorf("metrics.RunFrameTest: band %d too wide for size %d", band, size)
	}
	frame, centre := frameMasks(size, band)
	k := len(classes)
	sums := [3][]float64{make([]float64, k), make([]float64, k), make([]float64, k)} // p0-pf, p0-pc, count
	hits := [2]int{}
	n := 0
	for lo := 0; lo < len(images); lo += max(batch, 1) {
		hi := min(lo+max(batch, 1), len(images))
		var in [][]float32
		var idx []int
		for i := lo; i < hi; i++ {
			if labels[i] < 0 || labels[i] >= k || len(images[i]) != size*size {
				continue
			}
			in = append(in, images[i], masked(images[i], frame), masked(images[i], centre))
			idx = append(idx, i)
		}
		if len(in) == 0 {
			continue
		}
		probs, err := pred(in)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			c := labels[i]
			p0, pf, pc := probs[3*j], probs[3*j+1], probs[3*j+2]
			sums[0][c] += float64(p0[c] - pf[c])
			sums[1][c] += float64(p0[c] - pc[c])
			sums[2][c]++
			hits[0] += b2i(heatmap.ArgMax(pf) == c)
			hits[1] += b2i(heatmap.ArgMax(pc) == c)
			n++
		}
	}
	return frameResult(sums, hits, n, band, classes), nil
}

func frameResult(sums [3][]float64, hits [2]int, n, band int, classes []string) *FrameTest {
	t := &FrameTest{Band: band, Images: n, NeutralRule: "every class: frame_drop <= centre_drop + 0.05",
		FrameDrop:  ClassValues{Names: classes, Values: make([]float64, len(classes))},
		CentreDrop: ClassValues{Names: classes, Values: make([]float64, len(classes))}}
	tf, tc := 0.0, 0.0
	for c := range classes {
		t.FrameDrop.Values[c], t.CentreDrop.Values[c] = math.NaN(), math.NaN()
		if sums[2][c] > 0 {
			t.FrameDrop.Values[c], t.CentreDrop.Values[c] = sums[0][c]/sums[2][c], sums[1][c]/sums[2][c]
		}
		tf, tc = tf+sums[0][c], tc+sums[1][c]
	}
	t.FrameDrop.Mean, t.CentreDrop.Mean = math.NaN(), math.NaN()
	if n > 0 {
		t.FrameDrop.Mean, t.CentreDrop.Mean = tf/float64(n), tc/float64(n)
		t.FrameAcc, t.CentreAcc = float64(hits[0])/float64(n), float64(hits[1])/float64(n)
		t.Neutral = true
		for c := range classes {
			if t.FrameDrop.Values[c] > t.CentreDrop.Values[c]+FrameTolerance {
				t.Neutral = false
			}
		}
	}
	return t
}

// frameMasks: the pixels of a band-wide frame, and of a centred square of (about) the same area.
func frameMasks(size, band int) (frame, centre []bool) {
	inner := size - 2*band
	side := int(math.Round(math.Sqrt(float64(size*size - inner*inner))))
	lo := (size - side) / 2
	frame, centre = make([]bool, size*size), make([]bool, size*size)
	for y := range size {
		for x := range size {
			frame[y*size+x] = x < band || y < band || x >= size-band || y >= size-band
			centre[y*size+x] = x >= lo && x < lo+side && y >= lo && y < lo+side
		}
	}
	return frame, centre
}

// masked returns a copy of img with the masked pixels set to the image's mean.
func masked(img []float32, mask []bool) []float32 {
	mean := 0.0
	for _, v := range img {
		mean += float64(v)
	}
	mean /= float64(len(img))
	out := make([]float32, len(img))
	for i, v := range img {
		out[i] = v
		if mask[i] {
			out[i] = float32(mean)
		}
	}
	return out
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
