package pixel

import (
	"math"
	"math/rand/v2"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam"
)

// gradExecutor is the graph images [B,S,S,1] -> probabilities [B,K], gradients of every logit w.r.t. the image
// [B,K,S,S] (guided: through GuidedReLUs).
func (e *Explainer) gradExecutor(guided bool) (*model.Exec, error) {
	if ex := e.gradExecs[guided]; ex != nil {
		return ex, nil
	}
	ex, err := model.NewExec(e.backend, e.store, func(scope *model.Scope, images *Node) []*Node {
		logits, _ := e.fn(scope, images)
		if guided {
			logits = gradcam.GuidedReLUs(images, logits)
		}
		logits = ConvertDType(logits, images.DType())
		dims := images.Shape().Dimensions
		var gs []*Node
		for k := range logits.Shape().Dimensions[1] {
			g := Gradient(ReduceAllSum(SliceAxis(logits, 1, AxisElem(k))), images)[0]
			gs = append(gs, Reshape(g, dims[0], dims[1], dims[2])) // gray images: [B,S,S,1] -> [B,S,S]
		}
		return []*Node{Softmax(logits, -1), Stack(gs, 1)}
	})
	if err != nil {
		return nil, errors.WithMessage(err, "pixel: creating the gradient executor")
	}
	if e.gradExecs == nil {
		e.gradExecs = map[bool]*model.Exec{}
	}
	e.gradExecs[guided] = ex
	return ex, nil
}

// gradients returns the probabilities [N][K] and the logits' input gradients [N][K][S*S] of the images.
func (e *Explainer) gradients(images [][]float32, size int, guided bool) ([][]float32, [][][]float32, error) {
	probs := make([][]float32, len(images))
	grads := make([][][]float32, len(images))
	err := e.eachGradient(len(images), func(i int) []float32 { return images[i] }, size, guided,
		func(i int, p []float32, g [][]float32) { probs[i], grads[i] = p, g })
	return probs, grads, err
}

// eachGradient runs the gradient graph on n inputs (input(i) builds the i-th, so a long list of noisy or scaled
// copies never sits in memory) in full padded batches and hands each one's probabilities and per-class input
// gradients [K][S*S] to use (non-finite values read as 0).
func (e *Explainer) eachGradient(n int, input func(i int) []float32, size int, guided bool, use func(i int, probs []float32, g [][]float32)) error {
	ex, err := e.gradExecutor(guided)
	if err != nil {
		return err
	}
	bs, ss := e.opts.BatchSize, size*size
	for start := 0; start < n; start += bs {
		end := min(start+bs, n)
		rows := make([][]float32, end-start)
		for i := range rows {
			rows[i] = input(start + i)
		}
		outs, err := ex.Call(batch(rows, size, bs))
		if err != nil {
			return errors.WithMessage(err, "pixel: gradient pass")
		}
		p, errP := tensors.CopyFlatData[float32](outs[0])
		g, errG := tensors.CopyFlatData[float32](outs[1])
		numK := outs[0].Shape().Dimensions[1]
		for _, t := range outs {
			_ = t.FinalizeAll()
		}
		if errP != nil || errG != nil {
			return errors.New("pixel: reading the gradient pass's outputs")
		}
		for r := range rows {
			perK := make([][]float32, numK)
			for k := range numK {
				perK[k] = finiteCopy(g[(r*numK+k)*ss : (r*numK+k+1)*ss])
			}
			use(start+r, finiteCopy(p[r*numK:(r+1)*numK]), perK)
		}
	}
	return nil
}

// noiseTunnel is SmoothGrad (mean |g|) or VarGrad (variance of g) over Options.Samples noisy copies; the copies of
// all images share the batches.
func (e *Explainer) noiseTunnel(images [][]float32, size int) ([][][]float32, [][]float32, error) {
	probs, _, err := e.forward(images, size)
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(e.opts.Seed, 0x5eed))
	n, s := len(images), float64(e.opts.Samples)
	noisy := func(i int) []float32 { // row i: sample i/n of image i%n; rows are built in order, so the draws are fixed
		img := images[i%n]
		out := make([]float32, len(img))
		for j, v := range img {
			out[j] = v + float32(rng.NormFloat64()*e.opts.NoiseStd)
		}
		return out
	}
	sum, sumSq, sumAbs := zeros(n, len(probs[0]), size*size), zeros(n, len(probs[0]), size*size), zeros(n, len(probs[0]), size*size)
	err = e.eachGradient(n*e.opts.Samples, noisy, size, false, func(i int, _ []float32, g [][]float32) {
		for k, gk := range g {
			for j, v := range gk {
				x := float64(v)
				sum[i%n][k][j] += x
				sumSq[i%n][k][j] += x * x
				sumAbs[i%n][k][j] += math.Abs(x)
			}
		}
	})
	if err != nil {
		return nil, nil, err
	}
	out := mapEach(sumAbs, func(n, k, j int) float64 { return sumAbs[n][k][j] / s })
	if e.opts.Method == VarGrad {
		out = mapEach(sum, func(n, k, j int) float64 {
			m := sum[n][k][j] / s
			return math.Max(sumSq[n][k][j]/s-m*m, 0)
		})
	}
	return out, probs, nil
}

// integratedGradients is the positive part of signedIG.
func (e *Explainer) integratedGradients(images [][]float32, size int) ([][][]float32, [][]float32, error) {
	probs, _, err := e.forward(images, size)
	if err != nil {
		return nil, nil, err
	}
	ig, err := e.signedIG(images, size)
	if err != nil {
		return nil, nil, err
	}
	for _, perK := range ig {
		for _, m := range perK {
			for j, v := range m {
				m[j] = max(v, 0)
			}
		}
	}
	return ig, probs, nil
}

// signedIG is x * the trapezoid-rule mean of the gradients along the straight path from 0 to x: [N][K][S*S]. The
// Steps+1 scaled copies of all images share the batches.
func (e *Explainer) signedIG(images [][]float32, size int) ([][][]float32, error) {
	n, steps := len(images), e.opts.Steps
	if n == 0 {
		return nil, nil
	}
	scaled := func(i int) []float32 { // row i: alpha (i/n)/steps times image i%n
		a := float64(i/n) / float64(steps)
		out := make([]float32, size*size)
		for j, v := range images[i%n] {
			out[j] = float32(a * float64(v))
		}
		return out
	}
	var acc [][][]float64
	err := e.eachGradient(n*(steps+1), scaled, size, false, func(i int, p []float32, g [][]float32) {
		if acc == nil {
			acc = zeros(n, len(p), size*size)
		}
		w := 1 / float64(steps)
		if step := i / n; step == 0 || step == steps {
			w /= 2
		}
		for k, gk := range g {
			for j, v := range gk {
				acc[i%n][k][j] += w * float64(v)
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return mapEach(acc, func(n, k, j int) float64 { return acc[n][k][j] * float64(images[n][j]) }), nil
}

// guided is |guided backprop|, times the Grad-CAM maps cam [N][K][S*S] when given (Guided Grad-CAM).
func (e *Explainer) guided(images [][]float32, size int, cam [][][]float32) ([][][]float32, [][]float32, error) {
	probs, g, err := e.gradients(images, size, true)
	if err != nil {
		return nil, nil, err
	}
	for n := range g {
		for k := range g[n] {
			for j, v := range g[n][k] {
				v = float32(math.Abs(float64(v)))
				if cam != nil {
					v *= cam[n][k][j]
				}
				g[n][k][j] = v
			}
		}
	}
	return g, probs, nil
}

// zeros returns an all-zero [n][k][m] accumulator.
func zeros(n, k, m int) [][][]float64 {
	out := make([][][]float64, n)
	for i := range out {
		out[i] = make([][]float64, k)
		for c := range out[i] {
			out[i][c] = make([]float64, m)
		}
	}
	return out
}

// mapEach returns f(n,k,j) for every element of the shape of like, as float32.
func mapEach(like [][][]float64, f func(n, k, j int) float64) [][][]float32 {
	out := make([][][]float32, len(like))
	for n := range like {
		out[n] = make([][]float32, len(like[n]))
		for k := range like[n] {
			out[n][k] = make([]float32, len(like[n][k]))
			for j := range like[n][k] {
				out[n][k][j] = float32(f(n, k, j))
			}
		}
	}
	return out
}

// batch packs images into a zero-padded [bs,S,S,1] tensor.
func batch(images [][]float32, size, bs int) *tensors.Tensor {
	flat := make([]float32, bs*size*size)
	for n, img := range images {
		copy(flat[n*size*size:], img)
	}
	return tensors.FromFlatDataAndDimensions(flat, bs, size, size, 1)
}

// finiteCopy copies v with NaN/Inf read as 0.
func finiteCopy(v []float32) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		if !math.IsNaN(float64(x)) && !math.IsInf(float64(x), 0) {
			out[i] = x
		}
	}
	return out
}
