package resnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// assertClose fails unless got and want (flattened) differ by at most tol * max(1, max |want|).
func assertClose(t *testing.T, name string, got, want *tensors.Tensor, tol float64) {
	t.Helper()
	g, w := flat32(t, got), flat32(t, want)
	if len(g) != len(w) {
		t.Fatalf("%s: %d values, want %d", name, len(g), len(w))
	}
	scale, maxDiff := 1.0, 0.0
	for i := range w {
		scale = max(scale, math.Abs(float64(w[i])))
		maxDiff = max(maxDiff, math.Abs(float64(g[i]-w[i])))
	}
	if maxDiff > tol*scale || math.IsNaN(maxDiff) {
		t.Errorf("%s: max diff %g (scale %g)", name, maxDiff, scale)
	}
}

// TestRowSumBroadcast: rowSum and rowBroadcast against ReduceSum and BroadcastToDims, values and
// gradients, for row counts that are and are not powers of two, with and without rows grouped for narrow x.
func TestRowSumBroadcast(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, nc := range [][2]int{{1, 3}, {2, 3}, {5, 3}, {8, 3}, {13, 3}, {8, 16}, {13, 16}, {64, 8}} {
		n, c := nc[0], nc[1]
		x, w, v := randTensor(rng, n, c), randTensor(rng, n, c), randTensor(rng, c)
		outs := func(fast bool) []*tensors.Tensor {
			return MustExecOnceN(backend, func(x, w, v *Node) []*Node {
				sum := func(y *Node) *Node { return ReduceSum(y, 0) }
				bcast := func(y *Node) *Node { return BroadcastToDims(Reshape(y, 1, c), n, c) }
				if fast {
					sum = rowSum
					bcast = func(y *Node) *Node { return rowBroadcast(y, n) }
				}
				s, b := sum(x), bcast(v)
				loss := Add(ReduceAllSum(Mul(s, v)), ReduceAllSum(Mul(b, w)))
				return append([]*Node{s, b}, Gradient(loss, x, v)...)
			}, x, w, v)
		}
		want, got := outs(false), outs(true)
		for i, name := range []string{"rowSum", "rowBroadcast", "d/dx", "d/dv"} {
			assertClose(t, fmt.Sprintf("n=%d c=%d %s", n, c, name), got[i], want[i], 1e-5)
		}
	}
}

// refBatchNorm is the textbook two-pass formulation with the backend's ReduceSum and broadcasting ops.
func refBatchNorm(x Parts, scale, offset *Node) Parts {
	d := x[0].Shape().Dimensions
	c := d[3]
	inv := 1 / float64(x.batch()*d[1]*d[2])
	sum := func(p Parts) *Node {
		total := ReduceSum(p[0], 0, 1, 2)
		for _, y := range p[1:] {
			total = Add(total, ReduceSum(y, 0, 1, 2))
		}
		return MulScalar(total, inv)
	}
	mean := sum(x)
	m4 := Reshape(mean, 1, 1, 1, c)
	variance := sum(x.Map(func(y *Node) *Node { return Square(Sub(y, m4)) }))
	mul := Mul(scale, Reciprocal(Sqrt(AddScalar(variance, bnEpsilon))))
	add := Sub(offset, Mul(mean, mul))
	return x.Map(func(y *Node) *Node { return Add(Mul(y, Reshape(mul, 1, 1, 1, c)), Reshape(add, 1, 1, 1, c)) })
}

// TestBatchNormMatchesReference: the one-pass statistics, rowSum/rowBroadcast and their custom gradients
// give the textbook batch norm's outputs and gradients (w.r.t. both parts, scale and offset) to float32
// rounding, on inputs with a mean far from zero.
func TestBatchNormMatchesReference(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(7, 8))
	a, b := randTensor(rng, 2, 5, 5, 4), randTensor(rng, 3, 5, 5, 4)
	wa, wb := randTensor(rng, 2, 5, 5, 4), randTensor(rng, 3, 5, 5, 4)
	scale, offset := randTensor(rng, 4), randTensor(rng, 4)
	outs := func(fast bool) []*tensors.Tensor {
		return MustExecOnceN(backend, func(in []*Node) []*Node {
			x := Parts{AddScalar(in[0], 3), MulScalar(in[1], 2)}
			var y Parts
			if fast {
				mean, variance := batchStats(x)
				mul := Mul(in[4], Reciprocal(Sqrt(AddScalar(variance, bnEpsilon))))
				y = channelAffine(x, mul, Sub(in[5], Mul(mean, mul)))
			} else {
				y = refBatchNorm(x, in[4], in[5])
			}
			loss := Add(ReduceAllSum(Mul(y[0], in[2])), ReduceAllSum(Mul(Square(y[1]), in[3])))
			return append([]*Node{y[0], y[1]}, Gradient(loss, in[0], in[1], in[4], in[5])...)
		}, a, b, wa, wb, scale, offset)
	}
	want, got := outs(false), outs(true)
	for i, name := range []string{"y0", "y1", "d/dx0", "d/dx1", "d/dscale", "d/doffset"} {
		assertClose(t, name, got[i], want[i], 2e-5)
	}
}
