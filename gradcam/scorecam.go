package gradcam

import (
	"math"
	"slices"

	"github.com/pkg/errors"
	"gonum.org/v1/gonum/mat"

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

// scoreCAMPGC is pytorch-grad-cam's ScoreCAM: masks upsampled with align_corners=True and normalised as
// (m - min) / (max - min + 1e-8); the weight of channel c for class k is softmax over the channels of the class's
// logit on the masked image, softmax_c(z_k(x * m_c)) (the paper and our default use the class probability).
func (e *Explainer) scoreCAMPGC(in hostInput) ([][][]float32, error) {
	chans := make([][]int, len(in.images))
	var masked [][]float32
	for n := range in.images {
		chans[n] = topChannels(in.channelMeans(n), e.opts.ScoreCAMTopK)
		for _, ch := range chans[n] {
			mask := heatmap.ResizeAlignCorners(in.channel(n, ch), in.w, in.h, in.size, in.size)
			lo, hi := slices.Min(mask), slices.Max(mask)
			img := make([]float32, in.size*in.size)
			for i, v := range in.images[n] {
				img[i] = v * ((mask[i] - lo) / (hi - lo + 1e-8))
			}
			masked = append(masked, img)
		}
	}
	_, logits, err := e.forward(masked, in.size)
	if err != nil {
		return nil, errors.WithMessage(err, "gradcam: ScoreCAM masked forwards")
	}
	maps := make([][][]float32, len(in.images))
	j := 0
	for n := range in.images {
		maps[n] = in.weightedChannels(n, chans[n], softmaxOverRows(logits[j:j+len(chans[n])]))
		j += len(chans[n])
	}
	return maps, nil
}

// softmaxOverRows returns, for each column k of z [R][K], the softmax over the rows: out[r][k] = exp(z[r][k]) /
// sum_r' exp(z[r'][k]).
func softmaxOverRows(z [][]float32) [][]float32 {
	out := make([][]float32, len(z))
	for r := range z {
		out[r] = make([]float32, len(z[r]))
	}
	if len(z) == 0 {
		return out
	}
	for k := range z[0] {
		hi := math.Inf(-1)
		for r := range z {
			hi = max(hi, float64(z[r][k]))
		}
		var sum float64
		for r := range z {
			sum += math.Exp(float64(z[r][k]) - hi)
		}
		for r := range z {
			out[r][k] = float32(math.Exp(float64(z[r][k])-hi) / sum)
		}
	}
	return out
}

// eigenCAMPGC is pytorch-grad-cam's EigenCAM (get_2d_projection): the position-centred activations X [h*w, C] of
// each image projected on the first right singular vector of a full SVD, with the SVD's own sign (LAPACK's
// Householder convention, here gonum's port of it) instead of our rule that the map correlates positively with the
// mean activation. Computed in float64 on the host.
func eigenCAMPGC(_ *Explainer, in hostInput) ([][][]float32, error) {
	hw := in.h * in.w
	maps := make([][][]float32, len(in.images))
	for n := range in.images {
		a := in.act(n)
		x := mat.NewDense(hw, in.c, nil)
		for ch := range in.c {
			var mean float64
			for p := range hw {
				mean += float64(a[p*in.c+ch])
			}
			mean /= float64(hw)
			for p := range hw {
				x.Set(p, ch, float64(a[p*in.c+ch])-mean)
			}
		}
		var svd mat.SVD
		if !svd.Factorize(x, mat.SVDFull) {
			return nil, errors.Errorf("gradcam: eigencam:pgc: SVD of image %d did not converge", n)
		}
		var v mat.Dense
		svd.VTo(&v)
		proj := make([]float32, hw)
		for p := range hw {
			var s float64
			for ch := range in.c {
				s += x.At(p, ch) * v.At(ch, 0)
			}
			proj[p] = float32(s)
		}
		maps[n] = make([][]float32, len(in.classes(n)))
		for t := range maps[n] {
			maps[n][t] = slices.Clone(proj)
		}
	}
	return maps, nil
}
