package gradcam

import (
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Rebuild returns out recomputed with node from replaced by to: every node created after from that depends on it
// is cloned (Node.CloneWithInputs) onto the new inputs, in creation (topological) order, so any GoMLX model can be
// re-run from one of its own intermediate values without the model's cooperation. edit, when not nil, may replace
// each clone (guided backprop swaps the gradient of ReLU-like nodes, see GuidedReLUs). With to == from, the whole
// computation from `from` to out is cloned. A graph-building error when out does not depend on from.
func Rebuild(from, to, out *Node, edit func(old, clone *Node) *Node) *Node {
	nodes := from.Graph().Nodes()
	nodes = nodes[:len(nodes):len(nodes)] // a snapshot: cloning appends to the graph's list
	mapped := map[*Node]*Node{from: to}
	started := false
	for _, n := range nodes {
		if n == from {
			started = true
			continue
		}
		if !started {
			continue
		}
		inputs := n.Inputs()
		newInputs := make([]*Node, len(inputs))
		changed := false
		for i, in := range inputs {
			newInputs[i] = in
			if m, ok := mapped[in]; ok {
				newInputs[i], changed = m, true
			}
		}
		if !changed {
			continue
		}
		clone := n.CloneWithInputs(newInputs...)
		if clone == nil {
			exceptions.Panicf("gradcam: cannot re-run node %s of the model (no CloneWithInputs)", n.Type())
		}
		if edit != nil {
			clone = edit(n, clone)
		}
		mapped[n] = clone
	}
	res, ok := mapped[out]
	if !ok {
		exceptions.Panicf("gradcam: the logits do not depend on the replaced value (a feature map must feed the logits)")
	}
	return res
}

// ablateChannel returns the logits [B,K] recomputed with channel ch[b] (int32 [B]; -1 = none) of the feature map
// f [B,h,w,C] set to 0 in image b.
func ablateChannel(f, ch, logits *Node) *Node {
	c := f.Shape().Dimensions[3]
	mask := OneMinus(OneHot(ch, c, f.DType())) // [B,C]
	return Rebuild(f, Mul(f, Reshape(mask, f.Shape().Dimensions[0], 1, 1, c)), logits, nil)
}

// GuidedReLUs returns the logits recomputed from images with guided backpropagation's ReLU (Springenberg et al.):
// every ReLU-like node of the model (Max of a value and a constant, e.g. activation.Relu or MaxScalar(x, 0)) keeps
// its forward value, and its backward passes only positive incoming gradients, at positions where its input won.
func GuidedReLUs(images, logits *Node) *Node {
	return Rebuild(images, images, logits, func(old, clone *Node) *Node {
		if old.Type() != NodeTypeMax {
			return clone
		}
		in := old.Inputs()
		if len(in) != 2 || !(in[0].IsConstantExpression() || in[1].IsConstantExpression()) {
			return clone
		}
		return IdentityWithCustomGradient(clone, func(_, v *Node) *Node { return MaxScalar(v, 0) })
	})
}
