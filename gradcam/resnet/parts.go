package resnet

import (
	"runtime"

	. "github.com/gomlx/gomlx/core/graph"
)

// Parts is a batch [B,...] split along axis 0 into slices that share no op until they are joined again
// (batch norm's statistics are the only meeting points inside the network). The Go backend's parallel
// op scheduler runs the parts' ops concurrently, so one graph execution uses all cores even where the
// ops themselves are single-threaded (slices, transposes, element-wise ops, reductions). The maths is
// the one of the whole batch: batch norm computes its statistics over all parts together.
type Parts []*Node

// MaxBatchParts caps the number of parts a batch is split into (NumBatchParts).
const MaxBatchParts = 8

// NumBatchParts is the number of parts a batch of b images is split into: one per core usable by this
// process (runtime.GOMAXPROCS), at most MaxBatchParts and at most b.
func NumBatchParts(b int) int {
	return max(1, min(b, runtime.GOMAXPROCS(0), MaxBatchParts))
}

// SplitBatch splits x along axis 0 into n parts whose sizes differ by at most one (n is clipped to
// [1, B]).
func SplitBatch(x *Node, n int) Parts {
	b := x.Shape().Dimensions[0]
	n = max(1, min(n, b))
	if n == 1 {
		return Parts{x}
	}
	p := make(Parts, n)
	start := 0
	for i := range n {
		size := b / n
		if i < b%n {
			size++
		}
		p[i] = SliceAxis(x, 0, AxisRange(start, start+size))
		start += size
	}
	return p
}

// Join concatenates the parts back into one batch.
func (p Parts) Join() *Node {
	if len(p) == 1 {
		return p[0]
	}
	return Concatenate(p, 0)
}

// Map applies f to each part.
func (p Parts) Map(f func(*Node) *Node) Parts {
	out := make(Parts, len(p))
	for i, x := range p {
		out[i] = f(x)
	}
	return out
}

// Zip applies f to the parts of p and q pairwise (same number of parts, same sizes).
func (p Parts) Zip(q Parts, f func(a, b *Node) *Node) Parts {
	out := make(Parts, len(p))
	for i := range p {
		out[i] = f(p[i], q[i])
	}
	return out
}

// batch is the total batch size of the parts.
func (p Parts) batch() int {
	n := 0
	for _, x := range p {
		n += x.Shape().Dimensions[0]
	}
	return n
}
