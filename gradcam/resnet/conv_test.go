package resnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/shapes"
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
		// variant 0: graph.Convolve; 1: Im2ColConv (training); 2: the inference convolution (channels first,
		// transposed in and out here); 3: the inference convolution with a bias (subtracted again).
		fn := func(variant int) func(x, k, r *Node) []*Node {
			return func(x, k, r *Node) []*Node {
				var y *Node
				if variant == 3 {
					bias := AddScalar(Iota(x.Graph(), shapes.Make(x.DType(), c.cout), 0), -1.5)
					y = Sub(convViaCF(x, k, bias, c.stride, PadZeros), Reshape(bias, 1, 1, 1, c.cout))
				} else if variant == 2 {
					y = convViaCF(x, k, nil, c.stride, PadZeros)
				} else if variant == 1 {
					y = im2colConv(x, k, c.stride, PadZeros)
				} else {
					y = Convolve(x, k).Strides(c.stride).PaddingPerDim([][2]int{{pad, pad}, {pad, pad}}).Done()
				}
				loss := ReduceAllSum(Mul(y, r))
				grads := Gradient(loss, x, k)
				return []*Node{y, grads[0], grads[1]}
			}
		}
		want, err := ExecOnceN(backend, fn(0), x, k, r)
		if err != nil {
			t.Fatalf("Convolve %+v: %v", c, err)
		}
		for variant := 1; variant <= 3; variant++ {
			got, err := ExecOnceN(backend, fn(variant), x, k, r)
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
					t.Errorf("%+v variant %d %s: max abs diff %g vs graph.Convolve", c, variant, name, maxDiff)
				}
			}
		}
	}
}

// convViaCF is im2colConvCF on x [B,H,W,Cin] transposed to channels first, its output transposed back.
func convViaCF(x, k, bias *Node, stride int, padding string) *Node {
	return TransposeAllDims(im2colConvCF(TransposeAllDims(x, 3, 0, 1, 2), k, bias, stride, padding), 1, 2, 3, 0)
}

// reflectIndex maps padded index i (0..n+2p-1) to the source index of a reflect-padded axis of length n.
func reflectIndex(i, n, p int) int {
	j := i - p
	if j < 0 {
		j = -j
	}
	if j > n-1 {
		j = 2*(n-1) - j
	}
	return j
}

// TestIm2ColConvReflect checks the reflect-padded convolution (training's and the channels-first inference
// one) against the backend's convolution (no padding) of an input padded on the host, in values and in
// gradients (the padded input's gradient folded back onto the source pixels on the host).
func TestIm2ColConvReflect(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(3, 4))
	cases := []struct{ b, h, w, cin, cout, k, stride int }{
		{2, 6, 6, 3, 4, 3, 1}, {1, 7, 5, 2, 3, 3, 1}, {2, 8, 8, 3, 5, 3, 2}, {1, 7, 9, 2, 3, 3, 2}, {1, 9, 8, 2, 2, 5, 1},
	}
	for _, c := range cases {
		p := (c.k - 1) / 2
		ph, pw := c.h+2*p, c.w+2*p
		x := randTensor(rng, c.b, c.h, c.w, c.cin)
		xv := tensors.MustCopyFlatData[float32](x)
		xp := make([]float32, c.b*ph*pw*c.cin)
		src := make([]int, len(xp)) // padded flat index -> source flat index
		for b := range c.b {
			for i := range ph {
				for j := range pw {
					for ch := range c.cin {
						d := ((b*ph+i)*pw+j)*c.cin + ch
						src[d] = ((b*c.h+reflectIndex(i, c.h, p))*c.w+reflectIndex(j, c.w, p))*c.cin + ch
						xp[d] = xv[src[d]]
					}
				}
			}
		}
		k := randTensor(rng, c.k, c.k, c.cin, c.cout)
		oh, ow := (c.h+c.stride-1)/c.stride, (c.w+c.stride-1)/c.stride
		r := randTensor(rng, c.b, oh, ow, c.cout)
		got, err := ExecOnceN(backend, func(x, k, r *Node) []*Node {
			y := Im2ColConvPad(x, k, c.stride, PadReflect)
			y2 := convViaCF(x, k, nil, c.stride, PadReflect)
			return []*Node{y, Gradient(ReduceAllSum(Mul(y, r)), x)[0], y2, Gradient(ReduceAllSum(Mul(y2, r)), x)[0]}
		}, x, k, r)
		if err != nil {
			t.Fatalf("%+v: %v", c, err)
		}
		want, err := ExecOnceN(backend, func(x, k, r *Node) []*Node {
			y := Convolve(x, k).Strides(c.stride).NoPadding().Done()
			y = Slice(y, AxisRange(), AxisRange(0, oh), AxisRange(0, ow))
			return []*Node{y, Gradient(ReduceAllSum(Mul(y, r)), x)[0]}
		}, tensors.FromFlatDataAndDimensions(xp, c.b, ph, pw, c.cin), k, r)
		if err != nil {
			t.Fatalf("%+v reference: %v", c, err)
		}
		gx := make([]float32, len(xv))
		for d, v := range tensors.MustCopyFlatData[float32](want[1]) {
			gx[src[d]] += v
		}
		for i, pair := range [][2][]float32{
			{tensors.MustCopyFlatData[float32](got[0]), tensors.MustCopyFlatData[float32](want[0])},
			{tensors.MustCopyFlatData[float32](got[1]), gx},
			{tensors.MustCopyFlatData[float32](got[2]), tensors.MustCopyFlatData[float32](want[0])},
			{tensors.MustCopyFlatData[float32](got[3]), gx},
		} {
			maxDiff := 0.0
			for j := range pair[0] {
				maxDiff = max(maxDiff, math.Abs(float64(pair[0][j]-pair[1][j])))
			}
			if len(pair[0]) != len(pair[1]) || maxDiff > 1e-4 {
				t.Errorf("%+v %s: max abs diff %g (len %d vs %d)", c, []string{"output", "grad x", "CF output", "CF grad x"}[i], maxDiff, len(pair[0]), len(pair[1]))
			}
		}
	}
}

// BenchmarkConv compares Im2ColConv with the backend's own convolution (graph.Convolve) on a layer1-sized
// 3x3 convolution of a batch of 16, forward and both gradients (a training step's work for one conv).
func BenchmarkConv(b *testing.B) {
	backend := testBackend(b)
	rng := rand.New(rand.NewPCG(1, 2))
	x, k := randTensor(rng, 16, 32, 32, 32), randTensor(rng, 3, 3, 32, 32)
	for _, useIm2Col := range []bool{true, false} {
		name := map[bool]string{true: "im2col", false: "backend"}[useIm2Col]
		b.Run(name, func(b *testing.B) {
			exec := MustNewExec(backend, func(x, k *Node) []*Node {
				var y *Node
				if useIm2Col {
					y = Im2ColConv(x, k, 1)
				} else {
					y = Convolve(x, k).Strides(1).PaddingPerDim([][2]int{{1, 1}, {1, 1}}).Done()
				}
				return Gradient(ReduceAllSum(Mul(y, y)), x, k)
			})
			exec.MustExec(x, k) // compile
			b.ResetTimer()
			for range b.N {
				for _, t := range exec.MustExec(x, k) {
					t.MustFinalizeAll()
				}
			}
		})
	}
}

// TestCol2imMatchesConvolveGradient: col2im (the input gradient the training convolution uses for large
// layers) against the gradient of graph.Convolve, for strides 1 and 2, odd/even sizes and kernels 3 and 5;
// and the training convolution on a layer large enough to take that path, against graph.Convolve.
func TestCol2imMatchesConvolveGradient(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range []struct{ b, h, w, cin, cout, k, stride int }{
		{2, 6, 6, 3, 4, 3, 1}, {2, 7, 5, 2, 3, 3, 2}, {1, 8, 8, 3, 2, 3, 2}, {1, 9, 7, 2, 2, 5, 1}, {4, 16, 16, 64, 64, 3, 1}, // large enough for col2im inside im2colConv
	} {
		x, k := randTensor(rng, c.b, c.h, c.w, c.cin), randTensor(rng, c.k, c.k, c.cin, c.cout)
		oh, ow := (c.h+c.stride-1)/c.stride, (c.w+c.stride-1)/c.stride
		v := randTensor(rng, c.b, oh, ow, c.cout)
		pad := (c.k - 1) / 2
		outs := MustExecOnceN(backend, func(x, k, v *Node) []*Node {
			y := Convolve(x, k).Strides(c.stride).PaddingPerDim([][2]int{{pad, pad}, {pad, pad}}).Done()
			want := Gradient(ReduceAllSum(Mul(y, v)), x, k)
			y2 := im2colConv(x, k, c.stride, PadZeros)
			got := Gradient(ReduceAllSum(Mul(y2, v)), x, k)
			return []*Node{col2im(v, k, x.Shape().Dimensions, c.stride), want[0], y2, y, got[0], got[1], want[1]}
		}, x, k, v)
		name := fmt.Sprintf("%+v", c)
		assertClose(t, name+" col2im", outs[0], outs[1], 1e-5)
		assertClose(t, name+" conv", outs[2], outs[3], 1e-5)
		assertClose(t, name+" conv d/dx", outs[4], outs[1], 1e-5)
		assertClose(t, name+" conv d/dkernel", outs[5], outs[6], 1e-5)
	}
}
