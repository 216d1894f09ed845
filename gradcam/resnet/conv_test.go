package resnet

import (
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

func randTensor(rng *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(rng.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// TestIm2ColConvMatchesConvolve compares values and gradients (w.r.t. input and kernel) of Im2ColConv
// with the backend's own convolution, for odd/even sizes, kernels 1 and 3, strides 1 and 2.
func TestIm2ColConvMatchesConvolve(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct{ b, h, w, cin, cout, k, stride int }{
		{2, 6, 6, 3, 4, 3, 1},
		{2, 7, 5, 2, 3, 3, 1},
		{2, 8, 8, 3, 5, 3, 2},
		{1, 7, 9, 2, 3, 3, 2},
		{2, 8, 6, 3, 4, 1, 2},
		{2, 5, 5, 3, 4, 1, 1},
		{1, 9, 9, 2, 2, 5, 1},
	}
	for _, c := range cases {
		x := randTensor(rng, c.b, c.h, c.w, c.cin)
		k := randTensor(rng, c.k, c.k, c.cin, c.cout)
		oh, ow := (c.h+c.stride-1)/c.stride, (c.w+c.stride-1)/c.stride
		r := randTensor(rng, c.b, oh, ow, c.cout) // random cotangent, so gradients aren't trivially sums
		pad := (c.k - 1) / 2
		fn := func(useIm2Col bool) func(x, k, r *Node) []*Node {
			return func(x, k, r *Node) []*Node {
				var y *Node
				if useIm2Col {
					y = Im2ColConv(x, k, c.stride)
				} else {
					y = Convolve(x, k).Strides(c.stride).PaddingPerDim([][2]int{{pad, pad}, {pad, pad}}).Done()
				}
				loss := ReduceAllSum(Mul(y, r))
				grads := Gradient(loss, x, k)
				return []*Node{y, grads[0], grads[1]}
			}
		}
		want, err := ExecOnceN(backend, fn(false), x, k, r)
		if err != nil {
			t.Fatalf("Convolve %+v: %v", c, err)
		}
		got, err := ExecOnceN(backend, fn(true), x, k, r)
		if err != nil {
			t.Fatalf("Im2ColConv %+v: %v", c, err)
		}
		for i, name := range []string{"output", "grad x", "grad kernel"} {
			if !got[i].Shape().Equal(want[i].Shape()) {
				t.Fatalf("%+v %s: shape %s, want %s", c, name, got[i].Shape(), want[i].Shape())
			}
			g, w := tensors.MustCopyFlatData[float32](got[i]), tensors.MustCopyFlatData[float32](want[i])
			maxDiff := 0.0
			for j := range g {
				maxDiff = max(maxDiff, math.Abs(float64(g[j]-w[j])))
			}
			if maxDiff > 1e-4 {
				t.Errorf("%+v %s: max abs diff %g vs graph.Convolve", c, name, maxDiff)
			}
		}
	}
}
