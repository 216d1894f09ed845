package gradcam

import (
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pkg/errors"
)

// ablationCAM computes AblationCAM maps for the batch's images: for each (image, channel) one forward with that
// channel of the target layer zeroed (the model re-run from the layer, see rebuild), and one without; the weight of
// channel c for class k is (z_k - z_k^(c)) / z_k (0 where z_k = 0). All classes come from the same forwards.
func (e *Explainer) ablationCAM(in hostInput) ([][][]float32, error) {
	type job struct{ n, ch int } // ch -1: the unablated forward
	chans := make([][]int, len(in.images))
	var jobs []job
	for n := range in.images {
		chans[n] = topChannels(in.channelMeans(n), e.opts.ScoreCAMTopK)
		jobs = append(jobs, job{n, -1})
		for _, ch := range chans[n] {
			jobs = append(jobs, job{n, ch})
		}
	}
	images := make([][]float32, len(jobs))
	ablate := make([]int32, len(jobs))
	for j, jb := range jobs {
		images[j], ablate[j] = in.images[jb.n], int32(jb.ch)
	}
	logits, err := e.ablatedLogits(in.layer, images, ablate, in.size)
	if err != nil {
		return nil, err
	}
	maps := make([][][]float32, len(in.images))
	j := 0
	for n := range in.images {
		z := logits[j]
		j++
		weights := make([][]float32, len(chans[n]))
		for i := range chans[n] {
			weights[i] = make([]float32, len(z))
			for k, zk := range z {
				if zk != 0 {
					weights[i][k] = (zk - logits[j][k]) / zk
				}
			}
			j++
		}
		maps[n] = in.weightedChannels(n, chans[n], weights)
	}
	return maps, nil
}

// ablatedLogits runs the model on images with channel ablate[i] (-1: none) of the layer zeroed, in padded batches.
func (e *Explainer) ablatedLogits(layer string, images [][]float32, ablate []int32, size int) ([][]float32, error) {
	ex, err := e.ablationExecutor(layer)
	if err != nil {
		return nil, err
	}
	bs := e.opts.BatchSize
	var logits [][]float32
	for start := 0; start < len(images); start += bs {
		end := min(start+bs, len(images))
		ch := make([]int32, bs)
		for i := range ch {
			ch[i] = -1
		}
		copy(ch, ablate[start:end])
		outs, err := ex.Call(batchTensor(images[start:end], size, bs), tensors.FromFlatDataAndDimensions(ch, bs))
		if err != nil {
			return nil, errors.WithMessage(err, "gradcam: AblationCAM forwards")
		}
		flat, err := tensors.CopyFlatData[float32](outs[0])
		finalize(outs)
		if err != nil {
			return nil, errors.WithMessage(err, "gradcam: reading ablated logits")
		}
		k := len(flat) / bs
		for n := range end - start {
			logits = append(logits, sanitizeProbs(flat[n*k:(n+1)*k]))
		}
	}
	return logits, nil
}

// ablationExecutor is the graph images [B,S,S,1], channel [B] int32 -> logits [B,K] with that channel of the layer
// zeroed (compiled once per layer).
func (e *Explainer) ablationExecutor(layer string) (*model.Exec, error) {
	if ex := e.ablationExecs[layer]; ex != nil {
		return ex, nil
	}
	ex, err := model.NewExec(e.backend, e.store, func(scope *model.Scope, images, ch *graph.Node) *graph.Node {
		logits, feats := e.fn(scope, images)
		f := e.targetLayers(feats)[slices.Index(e.opts.Layers, layer)]
		return asF32(ablateChannel(f, ch, logits))
	})
	if err != nil {
		return nil, errors.WithMessage(err, "gradcam: creating the AblationCAM executor")
	}
	if e.ablationExecs == nil {
		e.ablationExecs = map[string]*model.Exec{}
	}
	e.ablationExecs[layer] = ex
	return ex, nil
}
