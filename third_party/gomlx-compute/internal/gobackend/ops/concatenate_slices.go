// neucam's patch to github.com/gomlx/compute v0.1.2 (not upstream code): see FORK.md.

package ops

import (
	"slices"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// concatSlices is the data of a Concatenate node whose operands were all Slices of one source tensor (im2col's
// shifted views): the node reads its input, the source, through each operand's slice, so the views are never
// materialised (the Slice nodes then have no user and are not executed). Same values in the same order as
// slicing then concatenating: only copies, and fewer of them.
type concatSlices struct {
	axis   int
	slices []*sliceNode
}

// EqualNodeData implements gobackend.NodeDataComparable (node de-duplication).
func (c *concatSlices) EqualNodeData(other gobackend.NodeDataComparable) bool {
	o := other.(*concatSlices)
	return c.axis == o.axis && slices.EqualFunc(c.slices, o.slices, func(a, b *sliceNode) bool { return a.EqualNodeData(b) })
}

// fuseConcatenateOfSlices returns the fused node when every operand is a Slice of the same source and all
// shapes are static, or nil.
func fuseConcatenateOfSlices(f *gobackend.Function, axis int, operands []*gobackend.Node, outputShape shapes.Shape) *gobackend.Node {
	if len(operands) < 2 || outputShape.IsDynamic() {
		return nil
	}
	source := operands[0].Inputs
	if operands[0].OpType != compute.OpTypeSlice || len(source) != 1 || source[0].Shape.IsDynamic() {
		return nil
	}
	data := &concatSlices{axis: axis, slices: make([]*sliceNode, len(operands))}
	for i, op := range operands {
		s, ok := op.Data.(*sliceNode)
		if op.OpType != compute.OpTypeSlice || !ok || len(op.Inputs) != 1 || op.Inputs[0] != source[0] || op.Shape.IsDynamic() {
			return nil
		}
		data.slices[i] = s
	}
	node, _ := f.GetOrCreateNode(compute.OpTypeConcatenate, outputShape, []*gobackend.Node{source[0]}, data)
	return node
}

// execConcatenateSlices writes the output in order: for each index of the axes before the concatenation axis,
// each operand's block (its extent on that axis and all the inner axes), read from the source through the
// operand's slice.
func execConcatenateSlices(backend *gobackend.Backend, node *gobackend.Node, source *gobackend.Buffer, c *concatSlices) (*gobackend.Buffer, error) {
	output, err := backend.GetBuffer(node.Shape)
	if err != nil {
		return nil, err
	}
	out, err := output.MutableBytes()
	if err != nil {
		return nil, err
	}
	src, err := source.MutableBytes()
	if err != nil {
		return nil, err
	}
	elem := node.Shape.DType.Size()
	srcDims := source.RawShape.Dimensions
	rank := len(srcDims)
	srcStride := make([]int, rank) // bytes
	srcStride[rank-1] = elem
	for d := rank - 2; d >= 0; d-- {
		srcStride[d] = srcStride[d+1] * srcDims[d+1]
	}
	// Per operand: the byte offset of its first element, the byte step of each axis, and its block's dimensions.
	type view struct {
		base        int
		steps, dims []int
	}
	views := make([]view, len(c.slices))
	for i, s := range c.slices {
		v := view{steps: make([]int, rank), dims: make([]int, rank)}
		for d := range rank {
			v.base += s.starts[d] * srcStride[d]
			v.steps[d] = s.strides[d] * srcStride[d]
			v.dims[d] = (s.limits[d] - s.starts[d] + s.strides[d] - 1) / s.strides[d]
		}
		views[i] = v
	}
	outer := node.Shape.Dimensions[:c.axis]
	idx := make([]int, len(outer))
	pos := 0
	for {
		for _, v := range views {
			offset := v.base
			for d, i := range idx {
				offset += i * v.steps[d]
			}
			pos = copyStridedBlock(out, pos, src, offset, v.dims[c.axis:], v.steps[c.axis:], elem)
		}
		// Next outer index (odometer); done after the last.
		d := len(idx) - 1
		for ; d >= 0; d-- {
			if idx[d]++; idx[d] < outer[d] {
				break
			}
			idx[d] = 0
		}
		if d < 0 {
			return output, nil
		}
	}
}

// copyStridedBlock appends to out at pos the block of dims (row-major) read from src at offset with the byte
// steps of each axis (at least one); it returns the new pos. A unit-step innermost axis is copied as one run.
func copyStridedBlock(out []byte, pos int, src []byte, offset int, dims, steps []int, elem int) int {
	if len(dims) == 1 {
		if steps[0] == elem {
			run := dims[0] * elem
			return pos + copy(out[pos:pos+run], src[offset:offset+run])
		}
		if elem == 4 {
			for i := range dims[0] {
				copy(out[pos+4*i:pos+4*i+4], src[offset+i*steps[0]:offset+i*steps[0]+4])
			}
			return pos + 4*dims[0]
		}
		for range dims[0] {
			pos += copy(out[pos:pos+elem], src[offset:offset+elem])
			offset += steps[0]
		}
		return pos
	}
	for i := range dims[0] {
		pos = copyStridedBlock(out, pos, src, offset+i*steps[0], dims[1:], steps[1:], elem)
	}
	return pos
}
