package resnet

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"
)

// Batch-norm constants, as PyTorch's defaults so the PyTorch twin matches exactly.
const (
	bnEpsilon  = 1e-5
	bnMomentum = 0.1
)

// bnVars are a batch norm's variables: "scale", "offset" (trainable), "mean", "variance" (running
// averages).
type bnVars struct{ scale, offset, mean, variance *model.Variable }

func newBNVars(s *model.Scope, dtype dtypes.DType, c int) bnVars {
	vs := shapes.Make(dtype, c)
	return bnVars{
		scale:    s.WithInitializer(initializer.One).VariableWithShape("scale", vs),
		offset:   s.WithInitializer(initializer.Zero).VariableWithShape("offset", vs),
		mean:     s.WithInitializer(initializer.Zero).VariableWithShape("mean", vs).SetTrainable(false),
		variance: s.WithInitializer(initializer.One).VariableWithShape("variance", vs).SetTrainable(false),
	}
}

// affine returns the per-channel mul and add with y = (x-mean) * scale/sqrt(var+eps) + offset = x*mul + add.
func (v bnVars) affine(g *Graph, mean, variance *Node) (mul, add *Node) {
	mul = Mul(v.scale.NodeValue(g), Reciprocal(Sqrt(AddScalar(variance, bnEpsilon))))
	add = Sub(v.offset.NodeValue(g), Mul(mean, mul))
	return mul, add
}

// batchNorm (training) over the channels (last axis) of the parts of x [B,H,W,C] (variables: bnVars; in
// inference convBN folds the running statistics into the convolution). It is written
// out here rather than norm.BatchNorm because the pure-Go backend lacks BatchNormForTraining, because the
// gradient must flow through the batch statistics (norm.BatchNorm's graph version stops it), and because
// the statistics are over the whole batch, i.e. over all parts together.
//
// The formulation avoids the Go backend's slow paths (ReduceSum and broadcasting element-wise ops walk an
// index iterator per element, ~5 ns, where a same-shape op or a memory copy costs ~1 ns): the statistics
// are one pass, sum(x) and sum(x*x), each a matmul with a row of ones (rowSum), and the affine x*mul+add
// multiplies and adds same-shape rows materialised by copies (rowBroadcast).
func batchNorm(s *model.Scope, x Parts) Parts {
	g := x[0].Graph()
	v := newBNVars(s, x[0].DType(), x[0].Shape().Dimensions[3])
	mean, variance := batchStats(x)
	m := bnMomentum
	v.mean.SetNodeValue(Add(MulScalar(v.mean.NodeValue(g), 1-m), MulScalar(StopGradient(mean), m)))
	v.variance.SetNodeValue(Add(MulScalar(v.variance.NodeValue(g), 1-m), MulScalar(StopGradient(variance), m)))
	mul, add := v.affine(g, mean, variance)
	return channelAffine(x, mul, add)
}

// batchStats returns the per-channel mean and (biased) variance of the parts of x [B,H,W,C] together, in
// one pass: sum(x) and sum(x*x) as rowSums, variance = E[x^2] - mean^2 (clamped at 0 against rounding).
func batchStats(x Parts) (mean, variance *Node) {
	d := x[0].Shape().Dimensions
	c := d[3]
	inv := 1 / float64(x.batch()*d[1]*d[2])
	var s1, s2 *Node
	for _, y := range x {
		f := Reshape(y, -1, c)
		a, b := rowSum(f), rowSum(Square(f))
		if s1 == nil {
			s1, s2 = a, b
		} else {
			s1, s2 = Add(s1, a), Add(s2, b)
		}
	}
	mean = MulScalar(s1, inv)
	variance = Max(Sub(MulScalar(s2, inv), Square(mean)), ScalarZero(mean.Graph(), mean.DType()))
	return mean, variance
}

// channelAffine returns x*mul + add per channel (mul, add [C]) for each part [B,H,W,C], with the
// per-channel rows materialised by rowBroadcast (shared by parts of the same size) and same-shape ops.
func channelAffine(x Parts, mul, add *Node) Parts {
	c := x[0].Shape().Dimensions[3]
	rows := map[int][2]*Node{}
	out := make(Parts, len(x))
	for i, y := range x {
		f := Reshape(y, -1, c)
		n := f.Shape().Dimensions[0]
		b, ok := rows[n]
		if !ok {
			b = [2]*Node{rowBroadcast(mul, n), rowBroadcast(add, n)}
			rows[n] = b
		}
		out[i] = Reshape(Add(Mul(f, b[0]), b[1]), y.Shape().Dimensions...)
	}
	return out
}

// withGradient returns f(x) with the gradient with respect to x computed as grad(v), v being the gradient
// with respect to f(x) (see withGradients).
func withGradient(x *Node, f func(x *Node) *Node, grad func(v *Node) *Node) *Node {
	return withGradients([]*Node{x}, func(xs []*Node) *Node { return f(xs[0]) },
		func(v *Node) []*Node { return []*Node{grad(v)} })
}

// withGradients returns f(xs) with the gradients with respect to xs computed as grad(v), v being the
// gradient with respect to f(xs). Autodiff still builds the VJPs of f's own ops, but nothing uses them, so
// the backend never runs them (dead-code elimination). f(xs) must reach the rest of the graph only through
// the returned node. The reverse pass visits nodes from the newest to the oldest, so the returned identity
// (newer) records v before the identities on xs (older) need it. grad may use nodes of the graph besides
// v; those are not remapped when gradcam.Rebuild clones the computation, so such a grad is for training
// graphs only.
func withGradients(xs []*Node, f func(xs []*Node) *Node, grad func(v *Node) []*Node) *Node {
	var captured *Node
	var grads []*Node
	wrapped := make([]*Node, len(xs))
	for i, x := range xs {
		wrapped[i] = IdentityWithCustomGradient(x, func(_, _ *Node) *Node {
			if grads == nil {
				if captured == nil {
					exceptions.Panicf("withGradients: the gradient reached an input without passing through f")
				}
				grads = grad(captured)
			}
			return grads[i]
		})
	}
	return IdentityWithCustomGradient(f(wrapped), func(_, v *Node) *Node {
		captured, grads = v, nil
		return v
	})
}

// rowSum sums x [N,C] over its rows -> [C], as the matmul ones[1,N] . x; its gradient is rowBroadcast.
// With fewer than 32 channels, r = 32/C consecutive rows are multiplied as one ([N/r, 32]) and the r partial
// sums added after: the backend's small matmul with at most 16 output columns is scalar code.
func rowSum(x *Node) *Node {
	d := x.Shape().Dimensions
	n, c := d[0], d[1]
	r := 1
	if c < 32 && 32%c == 0 && n%(32/c) == 0 {
		r = 32 / c
	}
	return withGradient(x, func(x *Node) *Node {
		ones := Ones(x.Graph(), shapes.Make(x.DType(), 1, n/r))
		sums := DotGeneral(ones, []int{1}, nil, Reshape(x, n/r, r*c), []int{0}, nil) // [1, r*C]
		return ReduceSum(Reshape(sums, r, c), 0)
	}, func(v *Node) *Node { return rowBroadcast(v, n) })
}

// rowBroadcast repeats v [C] as the n rows of [n,C], by doubling Concatenates (memory copies); its
// gradient is rowSum.
func rowBroadcast(v *Node, n int) *Node {
	c := v.Shape().Dimensions[0]
	return withGradient(v, func(v *Node) *Node {
		r := Reshape(v, 1, c)
		var rest []*Node // the powers of two making up n, besides the largest
		for k := 1; k <= n; k *= 2 {
			if n&k != 0 {
				rest = append(rest, r)
			}
			if 2*k <= n {
				r = Concatenate([]*Node{r, r}, 0)
			}
		}
		if len(rest) == 1 {
			return rest[0]
		}
		return Concatenate(rest, 0)
	}, func(g *Node) *Node { return rowSum(g) })
}
