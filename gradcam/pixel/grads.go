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

// gradients returns the probabilities [N][K] and the logits' input gradients [N][K][S*S] of the images (padded
// batches; non-finite values read as 0).
func (e *Explainer) gradients(images [][]float32, size int, guided bool) ([][]float32, [][][]float32, error) {
	ex, err := e.gradExecutor(guided)
	if err != nil {
		return nil, nil, err
	}
	bs := e.opts.BatchSize
	var probs [][]float32
	var grads [][][]float32
	for start := 0; start < len(images); start += bs {
		end := min(start+bs, len(images))
		outs, err := ex.Call(batch(images[start:end], size, bs))
		if err != nil {
			return nil, nil, errors.WithMessage(err, "pixel: gradient pass")
		}
		p, errP := tensors.CopyFlatData[float32](outs[0])
		g, errG := tensors.CopyFlatData[float32](outs[1])
		numK := outs[0].Shape().Dimensions[1]
		for _, t := range outs {
			_ = t.FinalizeAll()
		}
		if errP != nil || errG != nil {
			return nil, nil, errors.New("pixel: reading the gradient pass's outputs")
		}
		ss := size * size
		for n := range end - start {
			probs = append(probs, finiteCopy(p[n*numK:(n+1)*numK]))
			perK := make([][]float32, numK)
			for k := range numK {
				perK[k] = finiteCopy(g[(n*numK+k)*ss : (n*numK+k+1)*ss])
			}
			grads = append(grads, perK)
		}
	}
	return probs, grads, nil
}

// noiseTunnel is SmoothGrad (mean |g|) or VarGrad (variance of g) over Options.Samples noisy copies.
func (e *Explainer) noiseTunnel(images [][]float32, size int) ([][][]float32, [][]float32, error) {
	probs, _, err := e.forward(images, size)
	if err != nil {
		return nil, nil, err
	}
	rng := rand.New(rand.NewPCG(e.opts.Seed, 0x5eed))
	s := float64(e.opts.Samples)
	var sum, sumSq, sumAbs [][][]float64
	for range e.opts.Samples {
		noisy := make([][]float32, len(images))
		for n, img := range images {
			noisy[n] = make([]float32, len(img))
			for j, v := range img {
				noisy[n][j] = v + float32(rng.NormFloat64()*e.opts.NoiseStd)
			}
		}
		_, g, err := e.gradients(noisy, size, false)
		if err != nil {
			return nil, nil, err
		}
		sum = accumulate(sum, g, func(v float64) float64 { return v })
		sumSq = accumulate(sumSq, g, func(v float64) float64 { return v * v })
		sumAbs = accumulate(sumAbs, g, math.Abs)
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

// signedIG is x * the trapezoid-rule mean of the gradients along the straight path from 0 to x: [N][K][S*S].
func (e *Explainer) signedIG(images [][]float32, size int) ([][][]float32, error) {
	steps := e.opts.Steps
	var acc [][][]float64
	for i := range steps + 1 {
		a := float64(i) / float64(steps)
		w := 1 / float64(steps)
		if i == 0 || i == steps {
			w /= 2
		}
		scaled := make([][]float32, len(images))
		for n, img := range images {
			scaled[n] = make([]float32, len(img))
			for j, v := range img {
				scaled[n][j] = float32(a * float64(v))
			}
		}
		_, g, err := e.gradients(scaled, size, false)
		if err != nil {
			return nil, err
		}
		acc = accumulate(acc, g, func(v float64) float64 { return w * v })
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

// accumulate adds f(g) to acc (allocated on first use) element-wise.
func accumulate(acc [][][]float64, g [][][]float32, f func(float64) float64) [][][]float64 {
	if acc == nil {
		acc = make([][][]float64, len(g))
		for n := range g {
			acc[n] = make([][]float64, len(g[n]))
			for k := range g[n] {
				acc[n][k] = make([]float64, len(g[n][k]))
			}
		}
	}
	for n := range g {
		for k := range g[n] {
			for j, v := range g[n][k] {
				acc[n][k][j] += f(float64(v))
			}
		}
	}
	return acc
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
