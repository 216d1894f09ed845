package pixel

import (
	"math"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pkg/errors"
)

// forward returns the probabilities and logits [N][K] of the images (forward only, padded batches).
func (e *Explainer) forward(images [][]float32, size int) (probs, logits [][]float32, err error) {
	if e.fwdExec == nil {
		ex, err := model.NewExec(e.backend, e.store, func(scope *model.Scope, x *Node) []*Node {
			z, _ := e.fn(scope, x)
			z = ConvertDType(z, x.DType())
			return []*Node{Softmax(z, -1), z}
		})
		if err != nil {
			return nil, nil, errors.WithMessage(err, "pixel: creating the forward executor")
		}
		e.fwdExec = ex
	}
	bs := e.opts.BatchSize
	for start := 0; start < len(images); start += bs {
		end := min(start+bs, len(images))
		outs, err := e.fwdExec.Call(batch(images[start:end], size, bs))
		if err != nil {
			return nil, nil, errors.WithMessage(err, "pixel: forward pass")
		}
		p, errP := tensors.CopyFlatData[float32](outs[0])
		z, errZ := tensors.CopyFlatData[float32](outs[1])
		k := outs[0].Shape().Dimensions[1]
		for _, t := range outs {
			_ = t.FinalizeAll()
		}
		if errP != nil || errZ != nil {
			return nil, nil, errors.New("pixel: reading the forward pass's outputs")
		}
		for n := range end - start {
			probs = append(probs, finiteCopy(p[n*k:(n+1)*k]))
			logits = append(logits, finiteCopy(z[n*k:(n+1)*k]))
		}
	}
	return probs, logits, nil
}

// occlusion: per pixel, the mean over the patches covering it of the drop in each class's probability when the
// patch is set to 0 (Captum's Occlusion with baseline 0 and the model's probabilities as output).
func (e *Explainer) occlusion(images [][]float32, size int) ([][][]float32, [][]float32, error) {
	probs, _, err := e.forward(images, size)
	if err != nil {
		return nil, nil, err
	}
	win, stride := min(e.opts.Window, size), e.opts.Stride
	var corners [][2]int // top-left (y, x) of each patch
	for y := 0; y+win <= size; y += stride {
		for x := 0; x+win <= size; x += stride {
			corners = append(corners, [2]int{y, x})
		}
	}
	maps := make([][][]float32, len(images))
	for n, img := range images {
		occluded := make([][]float32, len(corners))
		for i, c := range corners {
			occluded[i] = append([]float32(nil), img...)
			for y := c[0]; y < c[0]+win; y++ {
				clear(occluded[i][y*size+c[1] : y*size+c[1]+win])
			}
		}
		po, _, err := e.forward(occluded, size)
		if err != nil {
			return nil, nil, err
		}
		maps[n] = occlusionMap(probs[n], po, corners, win, size)
	}
	return maps, probs, nil
}

// occlusionMap averages, per class, the probability drops of the patches over the pixels they cover; pixels no
// patch covers stay 0. Negative means (occluding raised the class) are clamped to 0.
func occlusionMap(p []float32, po [][]float32, corners [][2]int, win, size int) [][]float32 {
	count := make([]float64, size*size)
	for _, c := range corners {
		for y := c[0]; y < c[0]+win; y++ {
			for x := c[1]; x < c[1]+win; x++ {
				count[y*size+x]++
			}
		}
	}
	out := make([][]float32, len(p))
	for k := range p {
		acc := make([]float64, size*size)
		for i, c := range corners {
			d := float64(p[k]) - float64(po[i][k])
			for y := c[0]; y < c[0]+win; y++ {
				for x := c[1]; x < c[1]+win; x++ {
					acc[y*size+x] += d
				}
			}
		}
		out[k] = make([]float32, size*size)
		for j, a := range acc {
			if count[j] > 0 {
				out[k][j] = float32(math.Max(a/count[j], 0))
			}
		}
	}
	return out
}
