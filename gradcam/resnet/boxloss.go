package resnet

import (
	"image"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/neucam/neucam/gradcam/heatmap"
	"github.com/neucam/neucam/gradcam/metrics"
	"github.com/neucam/neucam/neu"
)

// ParamBoxLoss is the store param holding the weight of the box-guided loss (0: plain cross-entropy).
const ParamBoxLoss = "resnet_box_loss"

// The box-guided loss teaches the model to build its decision from the defect: next to the cross-entropy of the
// logits, a per-cell binary cross-entropy between the true class's map W_y.A (the last block's features A times
// the head weights of class y, without the bias: exactly the map Grad-CAM and CAM show for the gap head) and the
// fraction of each cell covered by the class's GT boxes. Cells outside the boxes are pushed below zero (nothing
// after Grad-CAM's ReLU), cells inside above. The head is unchanged, so the class logit is still the mean of the
// class map plus a bias: the map stays the model's own evidence, not a side output (GAIN, Li et al. 2018, "Tell
// me where to look", does the same with attention maps).

// MapSide is the side of the last block's feature map (the class maps): the input side divided by each stride,
// rounded up, as the convolutions do.
func (c Config) MapSide() int {
	s := c.Size
	for _, st := range c.Strides {
		s = (s + st - 1) / st
	}
	return s
}

// BoxTarget is the box-loss target of one image: the fraction of each cell of a side x side grid laid over the
// whole image covered by the union of the boxes of class cls, row-major, and whether the image has such a box
// (images without one take no part in the box loss).
func BoxTarget(s neu.Sample, cls, side int) (target []float32, ok bool) {
	w, h := s.Size.X, s.Size.Y
	var rects []image.Rectangle
	for _, b := range s.Boxes {
		if b.Class == cls {
			rects = append(rects, b.Rect)
		}
	}
	mask, area := metrics.BoxMask(w, h, rects)
	if area == 0 {
		return make([]float32, side*side), false
	}
	pix := make([]float32, w*h)
	for i, in := range mask {
		if in {
			pix[i] = 1
		}
	}
	return heatmap.AreaPool(pix, w, h, side, side), true
}

// boxBCE is the mean over the batch of each image's mean per-cell binary cross-entropy with logits between the
// class maps of its label and its target: maps [B,N,K], targets [B,N], labels [B] int32, weights [B] (1 for images
// that have boxes, else 0; the mean is still over all B images). GoMLX's BinaryCrossentropyLogits with the image's
// weight on each of its cells.
func boxBCE(maps, targets, labels, weights *Node) *Node {
	k := maps.Shape().Dimensions[2]
	z := ReduceSum(Mul(maps, InsertAxes(OneHot(labels, k, maps.DType()), 1)), -1) // [B,N]: the label's map
	perCell := BroadcastToShape(InsertAxes(weights, -1), z.Shape())
	return loss.BinaryCrossentropyLogits([]*Node{targets, perCell}, []*Node{z})
}

// logitsWithBoxLoss is Logits that also adds weight x boxBCE of the class maps to the training loss.
func logitsWithBoxLoss(scope *model.Scope, images, targets, labels, weights *Node, weight float64) *Node {
	logits, _, maps := forward(scope, images, false, true, NumBatchParts(images.Shape().Dimensions[0]))
	train.AddMainLoss(MulScalar(boxBCE(maps, targets, labels, weights), weight))
	return logits
}
