package resnet

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// elementwiseCase is one output of the graph in TestElementwiseMatchesReference and its host reference.
type elementwiseCase struct {
	name  string
	graph func(x, y, s *Node) *Node
	host  func(x, y, s float32) float32
}

// elementwiseCases: same-shape operands, a scalar on either side, Sign, and operands the op may overwrite
// (the Neg results are owned by the op, which then writes its output into them).
var elementwiseCases = []elementwiseCase{
	{"x+y", func(x, y, _ *Node) *Node { return Add(x, y) }, func(x, y, _ float32) float32 { return x + y }},
	{"x-y", func(x, y, _ *Node) *Node { return Sub(x, y) }, func(x, y, _ float32) float32 { return x - y }},
	{"x*y", func(x, y, _ *Node) *Node { return Mul(x, y) }, func(x, y, _ float32) float32 { return x * y }},
	{"max(x,y)", func(x, y, _ *Node) *Node { return Max(x, y) }, func(x, y, _ float32) float32 { return max(x, y) }},
	{"min(x,y)", func(x, y, _ *Node) *Node { return Min(x, y) }, func(x, y, _ float32) float32 { return min(x, y) }},
	{"x+s", func(x, _, s *Node) *Node { return Add(x, s) }, func(x, _, s float32) float32 { return x + s }},
	{"s+x", func(x, _, s *Node) *Node { return Add(s, x) }, func(x, _, s float32) float32 { return x + s }},
	{"x-s", func(x, _, s *Node) *Node { return Sub(x, s) }, func(x, _, s float32) float32 { return x - s }},
	{"s-x", func(x, _, s *Node) *Node { return Sub(s, x) }, func(x, _, s float32) float32 { return s - x }},
	{"x*s", func(x, _, s *Node) *Node { return Mul(x, s) }, func(x, _, s float32) float32 { return x * s }},
	{"s*x", func(x, _, s *Node) *Node { return Mul(s, x) }, func(x, _, s float32) float32 { return x * s }},
	{"max(x,s)", func(x, _, s *Node) *Node { return Max(x, s) }, func(x, _, s float32) float32 { return max(x, s) }},
	{"max(s,x)", func(x, _, s *Node) *Node { return Max(s, x) }, func(x, _, s float32) float32 { return max(x, s) }},
	{"min(x,s)", func(x, _, s *Node) *Node { return Min(x, s) }, func(x, _, s float32) float32 { return min(x, s) }},
	{"min(s,x)", func(x, _, s *Node) *Node { return Min(s, x) }, func(x, _, s float32) float32 { return min(x, s) }},
	{"sign(x)", func(x, _, _ *Node) *Node { return Sign(x) }, hostSign},
	{"max(-x,y)", func(x, y, _ *Node) *Node { return Max(Neg(x), y) }, func(x, y, _ float32) float32 { return max(-x, y) }},
	{"x-(-y)", func(x, y, _ *Node) *Node { return Sub(x, Neg(y)) }, func(x, y, _ float32) float32 { return x - -y }},
	{"sign(-x)", func(x, _, _ *Node) *Node { return Sign(Neg(x)) }, func(x, _, _ float32) float32 { return hostSign(-x, 0, 0) }},
}

// hostSign is the generic backend's Sign: -1 below zero, +1 above, +0 for 0, -0 and NaN.
func hostSign(x, _, _ float32) float32 {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// elementwiseSpecials are mixed into the operands: NaNs of both signs and two payloads, zeros, infinities,
// the extremes and a subnormal.
var elementwiseSpecials = []float32{
	math.Float32frombits(0x7fc00000), math.Float32frombits(0xffc00000), math.Float32frombits(0x7fc0abcd),
	0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 1, -1,
	math.MaxFloat32, -math.MaxFloat32, math.SmallestNonzeroFloat32,
}

func elementwiseValue(rng *rand.Rand) float32 {
	if rng.IntN(3) == 0 {
		return elementwiseSpecials[rng.IntN(len(elementwiseSpecials))]
	}
	return float32(rng.NormFloat64())
}

// TestElementwiseMatchesReference checks the backend's float32 Add, Sub, Mul, Max, Min and Sign
// (third_party/gomlx-compute runs them in AVX-512 lanes where the CPU has it, FORK.md) bit for bit against the
// same Go expressions on the host, on random shapes (lengths that leave tails of 1-15 elements, rank 0
// included) with NaNs, signed zeros and infinities in both operands and in the scalar.
func TestElementwiseMatchesReference(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 120 {
		dims := randomDims(rng, 0, 4, 23)
		n := shapes.Make(dtypes.Float32, dims...).Size()
		xs, ys := make([]float32, n), make([]float32, n)
		for i := range xs {
			xs[i], ys[i] = elementwiseValue(rng), elementwiseValue(rng)
		}
		s := elementwiseValue(rng)
		got := MustExecOnceN(backend, func(in []*Node) []*Node {
			out := make([]*Node, len(elementwiseCases))
			for i, c := range elementwiseCases {
				out[i] = c.graph(in[0], in[1], in[2])
			}
			return out
		}, tensors.FromFlatDataAndDimensions(xs, dims...), tensors.FromFlatDataAndDimensions(ys, dims...), s)
		for k, c := range elementwiseCases {
			flat := tensors.MustCopyFlatData[float32](got[k])
			for i := range xs {
				if want := c.host(xs[i], ys[i], s); math.Float32bits(flat[i]) != math.Float32bits(want) {
					t.Fatalf("trial %d, dims %v, %s at %d: x=%#x y=%#x s=%#x: got %#x, want %#x", trial, dims, c.name,
						i, math.Float32bits(xs[i]), math.Float32bits(ys[i]), math.Float32bits(s),
						math.Float32bits(flat[i]), math.Float32bits(want))
				}
			}
		}
	}
}

// broadcastCases: one operand broadcast on outer axes (y has size 1 on some of them), on either side. When both
// operands of Add or Mul are NaNs, which one comes out follows the operand order the compiler picked for the
// instruction, which differs between a host closure and the backend's loops: the generic broadcast loop returns
// lhs's NaN (this test passes on the generic executors too, GOMLX_SIMD_AVX512=false), hence lhsNaN.
var broadcastCases = []elementwiseCase{
	{"x+y", func(x, y, _ *Node) *Node { return Add(x, y) }, func(x, y, _ float32) float32 { return lhsNaN(x, y, x+y) }},
	{"y+x", func(x, y, _ *Node) *Node { return Add(y, x) }, func(x, y, _ float32) float32 { return lhsNaN(y, x, y+x) }},
	{"x-y", func(x, y, _ *Node) *Node { return Sub(x, y) }, func(x, y, _ float32) float32 { return x - y }},
	{"y-x", func(x, y, _ *Node) *Node { return Sub(y, x) }, func(x, y, _ float32) float32 { return y - x }},
	{"x*y", func(x, y, _ *Node) *Node { return Mul(x, y) }, func(x, y, _ float32) float32 { return lhsNaN(x, y, x*y) }},
	{"y*x", func(x, y, _ *Node) *Node { return Mul(y, x) }, func(x, y, _ float32) float32 { return lhsNaN(y, x, y*x) }},
	{"max(x,y)", func(x, y, _ *Node) *Node { return Max(x, y) }, func(x, y, _ float32) float32 { return max(x, y) }},
	{"min(y,x)", func(x, y, _ *Node) *Node { return Min(y, x) }, func(x, y, _ float32) float32 { return min(y, x) }},
	{"max(-x,y)", func(x, y, _ *Node) *Node { return Max(Neg(x), y) }, func(x, y, _ float32) float32 { return max(-x, y) }},
}

// lhsNaN is lhs when both lhs and rhs are NaNs (quiet ones, as in elementwiseSpecials), else result.
func lhsNaN(lhs, rhs, result float32) float32 {
	if lhs != lhs && rhs != rhs {
		return lhs
	}
	return result
}

// TestBroadcastMatchesReference checks the backend's float32 binary ops with an operand broadcast on outer axes
// (third_party/gomlx-compute runs them row by row in AVX-512 lanes when the innermost axis is not broadcast,
// FORK.md) bit for bit against the Go expressions on the host, with the special values of
// TestElementwiseMatchesReference.
func TestBroadcastMatchesReference(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 100 {
		dims := randomDims(rng, 2, 3, 4)
		dims[len(dims)-1] = 1 + rng.IntN(40)
		yDims := slices.Clone(dims)
		for i := range len(dims) - 1 {
			if rng.IntN(2) == 0 {
				yDims[i] = 1
			}
		}
		xShape, yShape := shapes.Make(dtypes.Float32, dims...), shapes.Make(dtypes.Float32, yDims...)
		xs, ys := make([]float32, xShape.Size()), make([]float32, yShape.Size())
		for i := range xs {
			xs[i] = elementwiseValue(rng)
		}
		for i := range ys {
			ys[i] = elementwiseValue(rng)
		}
		got := MustExecOnceN(backend, func(in []*Node) []*Node {
			out := make([]*Node, len(broadcastCases))
			for i, c := range broadcastCases {
				out[i] = c.graph(in[0], in[1], nil)
			}
			return out
		}, tensors.FromFlatDataAndDimensions(xs, dims...), tensors.FromFlatDataAndDimensions(ys, yDims...))
		xStrides, yStrides := xShape.Strides(), yShape.Strides()
		for k, c := range broadcastCases {
			flat := tensors.MustCopyFlatData[float32](got[k])
			for i := range xs {
				j := 0 // y's element at x's position i
				for a := range dims {
					if yDims[a] > 1 {
						j += i / xStrides[a] % dims[a] * yStrides[a]
					}
				}
				if want := c.host(xs[i], ys[j], 0); math.Float32bits(flat[i]) != math.Float32bits(want) {
					t.Fatalf("trial %d, dims %v, y dims %v, %s at %d: x=%#x y=%#x: got %#x, want %#x", trial, dims, yDims,
						c.name, i, math.Float32bits(xs[i]), math.Float32bits(ys[j]), math.Float32bits(flat[i]),
						math.Float32bits(want))
				}
			}
		}
	}
}

// TestPadMatchesReference checks the backend's Pad (third_party/gomlx-compute zeroes the output with one clear,
// FORK.md) against a host loop on random shapes, edge and interior padding, with a zero and a non-zero fill.
// Each zero-fill Pad runs right after a graph that returned a NaN-filled buffer of the same size to the
// backend's pool, so that a fill that misses elements leaves NaNs behind.
func TestPadMatchesReference(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(7, 8))
	for trial := range 100 {
		dims := make([]int, 1+rng.IntN(4))
		cfg := make([]PadAxis, len(dims))
		for i := range dims {
			dims[i] = 1 + rng.IntN(6)
			if rng.IntN(3) > 0 {
				cfg[i] = PadAxis{Start: rng.IntN(3), End: rng.IntN(3), Interior: rng.IntN(2)}
			}
		}
		data := make([]float32, shapes.Make(dtypes.Float32, dims...).Size())
		for i := range data {
			data[i] = float32(i + 1)
		}
		x := tensors.FromFlatDataAndDimensions(data, dims...)
		for _, fill := range []float32{0, 2.5} {
			MustExecOnce(backend, func(x *Node) *Node {
				nan := Scalar(x.Graph(), dtypes.Float32, math.NaN())
				return ReduceAllSum(Add(Pad(x, nan, cfg...), nan))
			}, x).FinalizeAll()
			got := tensors.MustCopyFlatData[float32](MustExecOnce(backend, func(x *Node) *Node {
				return Pad(x, Scalar(x.Graph(), dtypes.Float32, fill), cfg...)
			}, x))
			if want := hostPad(data, dims, cfg, fill); !slices.Equal(got, want) {
				t.Fatalf("trial %d, fill %v: dims %v pad %v: got %v, want %v", trial, fill, dims, cfg, got, want)
			}
		}
	}
}

// hostPad is the reference for Pad: output element by element, each either the fill or the operand element
// whose position (start + i*(interior+1) on every axis) it is.
func hostPad(data []float32, dims []int, cfg []PadAxis, fill float32) []float32 {
	out := []float32{fill}
	outDims := []int{}
	for a := len(dims) - 1; a >= 0; a-- { // build from the innermost axis outwards
		c, d := cfg[a], dims[a]
		od := c.Start + d + (d-1)*c.Interior + c.End
		next := make([]float32, 0, od*len(out))
		for range od {
			next = append(next, out...)
		}
		out, outDims = next, append([]int{od}, outDims...)
	}
	strides := shapes.Make(dtypes.Float32, outDims...).Strides()
	for i, v := range data {
		off, rem := 0, i
		for a := len(dims) - 1; a >= 0; a-- {
			off += (cfg[a].Start + rem%dims[a]*(cfg[a].Interior+1)) * strides[a]
			rem /= dims[a]
		}
		out[off] = v
	}
	return out
}

// TestConcatenateMatchesReference checks the backend's Concatenate (third_party/gomlx-compute writes the output
// in order, FORK.md) against a host loop on random shapes, axes and numbers of operands, for 4- and 8-byte
// elements.
func TestConcatenateMatchesReference(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(9, 10))
	for trial := range 200 {
		dims := randomDims(rng, 1, 4, 5)
		axis := rng.IntN(len(dims))
		operands, next := make([]*tensors.Tensor, 1+rng.IntN(4)), 0.0
		datas, sizes := make([][]float64, len(operands)), make([]int, len(operands))
		for i := range operands {
			d := slices.Clone(dims)
			d[axis] = 1 + rng.IntN(4)
			datas[i], sizes[i] = make([]float64, shapes.Make(dtypes.Float64, d...).Size()), d[axis]
			for j := range datas[i] {
				next++
				datas[i][j] = next
			}
			operands[i] = tensors.FromFlatDataAndDimensions(datas[i], d...)
		}
		var want []float64 // outer index, then operand, then that operand's block
		outer, inner := shapes.Make(dtypes.Float64, dims[:axis]...).Size(), shapes.Make(dtypes.Float64, dims[axis+1:]...).Size()
		for o := range outer {
			for i, data := range datas {
				want = append(want, data[o*sizes[i]*inner:(o+1)*sizes[i]*inner]...)
			}
		}
		for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
			got := tensors.MustCopyFlatData[float64](MustExecOnce(backend, func(xs []*Node) *Node {
				for i := range xs {
					xs[i] = ConvertDType(xs[i], dt)
				}
				return ConvertDType(Concatenate(xs, axis), dtypes.Float64)
			}, anySlice(operands)...))
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d, %s: dims %v axis %d sizes %v: got %v, want %v", trial, dt, dims, axis, sizes, got, want)
			}
		}
	}
}

func anySlice[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestConcatenateOfSlicesMatchesReference: a Concatenate whose operands are all Slices of one tensor (im2col's
// views; the patched backend reads them from the tensor without materialising them) equals slicing then
// concatenating on the host, for random ranks, axes, starts, limits and strides (float32 and float64).
func TestConcatenateOfSlicesMatchesReference(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(11, 12))
	for trial := range 300 {
		dims := randomDims(rng, 1, 4, 7)
		axis := rng.IntN(len(dims))
		extent := make([]int, len(dims)) // common extent of the operands on the other axes
		for d := range dims {
			extent[d] = 1 + rng.IntN(dims[d])
		}
		specs := make([][]SliceAxisSpec, 2+rng.IntN(4))
		starts, steps, sizes := make([][]int, len(specs)), make([][]int, len(specs)), make([][]int, len(specs))
		for i := range specs {
			starts[i], steps[i], sizes[i] = make([]int, len(dims)), make([]int, len(dims)), slices.Clone(extent)
			for d := range dims {
				step := 1 + rng.IntN(3)
				if d == axis {
					sizes[i][d] = 1 + rng.IntN(dims[d])
				}
				if 1+(sizes[i][d]-1)*step > dims[d] {
					step = 1
				}
				start := rng.IntN(dims[d] - (sizes[i][d]-1)*step)
				starts[i][d], steps[i][d] = start, step
				specs[i] = append(specs[i], AxisRange(start, start+(sizes[i][d]-1)*step+1).Stride(step))
			}
		}
		src := make([]float64, shapes.Make(dtypes.Float64, dims...).Size())
		for j := range src {
			src[j] = float64(j + 1)
		}
		var want []float64 // outer index (axes before axis), then operand, then its block
		outer := shapes.Make(dtypes.Float64, extent[:axis]...).Size()
		for o := range outer {
			for i := range specs {
				idx := make([]int, len(dims))
				rem := o
				for d := axis - 1; d >= 0; d-- {
					idx[d], rem = rem%extent[d], rem/extent[d]
				}
				var walk func(d int)
				walk = func(d int) {
					if d == len(dims) {
						flat := 0
						for k := range dims {
							flat = flat*dims[k] + starts[i][k] + idx[k]*steps[i][k]
						}
						want = append(want, src[flat])
						return
					}
					for idx[d] = 0; idx[d] < sizes[i][d]; idx[d]++ {
						walk(d + 1)
					}
				}
				walk(axis)
			}
		}
		for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
			got := tensors.MustCopyFlatData[float64](MustExecOnce(backend, func(x *Node) *Node {
				x = ConvertDType(x, dt)
				views := make([]*Node, len(specs))
				for i, spec := range specs {
					views[i] = Slice(x, spec...)
				}
				return ConvertDType(Concatenate(views, axis), dtypes.Float64)
			}, tensors.FromFlatDataAndDimensions(src, dims...)))
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d, %s: dims %v axis %d starts %v steps %v sizes %v:\ngot  %v\nwant %v",
					trial, dt, dims, axis, starts, steps, sizes, got, want)
			}
		}
	}
}
