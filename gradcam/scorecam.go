package gradcam

import (
	"math"
	"slices"

	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// Host-side methods: maps computed from the target layer's activations with extra forward passes of masked
// images (see methodSpec.host).

// scoreCAM computes ScoreCAM maps for the batch's images from their activations: each selected channel, upsampled
// to the input size and min-max normalised, masks the image; the masked forwards' class probabilities are the
// channel weights.
func (e *Explainer) scoreCAM(in hostInput) ([][][]float32, error) {
	chans := make([][]int, len(in.images))
	var masked [][]float32
	for n := range in.images {
		chans[n] = topChannels(in.channelMeans(n), e.opts.ScoreCAMTopK)
		for _, ch := range chans[n] {
			masked = append(masked, in.maskedImage(n, ch))
		}
	}
	probs, err := e.predict(masked, in.size)
	if err != nil {
		return nil, errors.WithMessage(err, "gradcam: ScoreCAM masked forwards")
	}
	maps := make([][][]float32, len(in.images))
	j := 0
	for n := range in.images {
		weights := make([][]float32, len(chans[n]))
		for i := range chans[n] {
			weights[i] = probs[j]
			j++
		}
		maps[n] = in.weightedChannels(n, chans[n], weights)
	}
	return maps, nil
}

// act returns image n's activations [h*w*C] (channels last).
func (in hostInput) act(n int) []float32 {
	hw := in.h * in.w
	return in.acts[n*hw*in.c : (n+1)*hw*in.c]
}

// channelMeans returns the sum over positions of each channel of image n (its order is that of the means).
func (in hostInput) channelMeans(n int) []float64 {
	a := in.act(n)
	means := make([]float64, in.c)
	for p := range in.h * in.w {
		for ch := range in.c {
			means[ch] += float64(a[p*in.c+ch])
		}
	}
	return means
}

// topChannels returns the channel indices by decreasing mean activation (a stable sort: ties keep channel order, so
// the choice is deterministic), the first k of them when 0 < k < C.
func topChannels(means []float64, k int) []int {
	order := make([]int, len(means))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(x, y int) int {
		switch {
		case means[x] > means[y]:
			return -1
		case means[x] < means[y]:
			return 1
		}
		return 0
	})
	if k > 0 && k < len(order) {
		order = order[:k]
	}
	return order
}

// channel returns channel ch of image n as an h*w map.
func (in hostInput) channel(n, ch int) []float32 {
	a := in.act(n)
	m := make([]float32, in.h*in.w)
	for p := range m {
		m[p] = a[p*in.c+ch]
	}
	return m
}

// maskedImage is image n times channel ch upsampled to the input size (half-pixel bilinear) and min-max
// normalised; a constant channel carries no location, its mask is zero.
func (in hostInput) maskedImage(n, ch int) []float32 {
	mask := heatmap.Resize(in.channel(n, ch), in.w, in.h, in.size, in.size)
	lo, hi := slices.Min(mask), slices.Max(mask)
	img := make([]float32, in.size*in.size)
	if hi > lo {
		for i, v := range in.images[n] {
			img[i] = v * (mask[i] - lo) / (hi - lo)
		}
	}
	return img
}

// classes returns the classes explained for image n: all numK, or its target.
func (in hostInput) classes(n int) []int {
	if in.targets != nil {
		return []int{in.targets[n]}
	}
	out := make([]int, in.numK)
	for k := range out {
		out[k] = k
	}
	return out
}

// weightedChannels returns, for each class explained for image n, sum_i weights[i][k] * A[chans[i]] (in float64).
func (in hostInput) weightedChannels(n int, chans []int, weights [][]float32) [][]float32 {
	a := in.act(n)
	hw := in.h * in.w
	classes := in.classes(n)
	out := make([][]float32, len(classes))
	for t, k := range classes {
		acc := make([]float64, hw)
		for i, ch := range chans {
			wgt := float64(weights[i][k])
			for p := range hw {
				acc[p] += wgt * float64(a[p*in.c+ch])
			}
		}
		out[t] = make([]float32, hw)
		for p, v := range acc {
			out[t][p] = float32(v)
		}
	}
	return out
}

// reluHost clamps a host-computed map in place: negative and non-finite values become 0.
func reluHost(m []float32) {
	for p, v := range m {
		if !(v > 0) || math.IsInf(float64(v), 0) {
			m[p] = 0
		}
	}
}
