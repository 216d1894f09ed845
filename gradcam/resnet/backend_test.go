package resnet

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestShortReason: the XLA fallback prints one short line, not the ~400-character download error.
func TestShortReason(t *testing.T) {
	long := `backend "xla" failed to auto-install default plugins: failed to auto-install "cpu": failed to fetch release data from "https://api.github.com/x": Get "https://api.github.com/x": dial tcp: lookup api.github.com on 10.255.255.53:53: no such host`
	if got := shortReason(long); got != "no such host" {
		t.Errorf("shortReason = %q", got)
	}
	if got := shortReason("x: " + string(make([]byte, 100))); len(got) > 60 {
		t.Errorf("shortReason kept %d characters", len(got))
	}
}

// TestSliceMatchesReference checks the backend's Slice (third_party/gomlx-compute copies contiguous runs at
// once and strided innermost axes row by row, FORK.md) against a host loop on random shapes, ranges and
// strides, including rank 0, strided innermost axes and long rows with stride 2.
func TestSliceMatchesReference(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		dims := randomDims(rng, 0, 5, 6)
		long := trial%5 == 0 // long strided rows (the AVX-512 stride-2 row copy, FORK.md)
		if long {
			dims = []int{1 + rng.IntN(3), 1 + rng.IntN(4), 20 + rng.IntN(80)}
		}
		data := make([]float32, shapes.Make(dtypes.Float32, dims...).Size())
		for i := range data {
			data[i] = float32(i)
		}
		x := tensors.FromFlatDataAndDimensions(data, dims...)
		spec, ranges := make([]SliceAxisSpec, len(dims)), make([][3]int, len(dims))
		for i, d := range dims {
			start := rng.IntN(d)
			r := [3]int{start, start + 1 + rng.IntN(d-start), 1}
			if rng.IntN(4) == 0 {
				r[2] = 1 + rng.IntN(3)
			}
			if long && i == len(dims)-1 {
				r = [3]int{start % 3, d, 2}
			}
			spec[i], ranges[i] = AxisRange(r[0], r[1]).Stride(r[2]), r
		}
		got := tensors.MustCopyFlatData[float32](MustExecOnce(backend, func(x *Node) *Node {
			if len(spec) == 0 {
				return Slice(x)
			}
			return Slice(x, spec...)
		}, x))
		axes, idx := make([]int, len(ranges)), make([][]int, len(ranges))
		for i, r := range ranges {
			axes[i] = i
			for j := r[0]; j < r[1]; j += r[2] {
				idx[i] = append(idx[i], j)
			}
		}
		want := hostGather(data, x.Shape().Strides(), axes, idx)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: dims %v ranges %v: got %v, want %v", trial, dims, ranges, got, want)
		}
	}
}

// hostGather is the host reference for Slice and Transpose: data's elements (row-major strides) in the order
// of nested loops, loop k running over the indices idx[k] of axis axes[k], outermost first.
func hostGather[T any](data []T, strides, axes []int, idx [][]int) []T {
	var out []T
	var rec func(k, off int)
	rec = func(k, off int) {
		if k == len(axes) {
			out = append(out, data[off])
			return
		}
		for _, i := range idx[k] {
			rec(k+1, off+i*strides[axes[k]])
		}
	}
	rec(0, 0)
	return out
}

// TestTransposeMatchesReference checks the backend's Transpose (third_party/gomlx-compute merges axes and moves
// runs or tiles, FORK.md) against a host loop on random shapes (axes of size 1 included) and permutations, for
// 4- and 8-byte elements.
func TestTransposeMatchesReference(t *testing.T) {
	backend := testBackend(t)
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		dims := randomDims(rng, 1, 5, 7)
		if trial%10 == 0 { // large enough for several 16x16 tiles
			dims = []int{1 + rng.IntN(3), 17 + rng.IntN(40), 17 + rng.IntN(40)}
		}
		perm := rng.Perm(len(dims))
		data := make([]float64, shapes.Make(dtypes.Float64, dims...).Size())
		for i := range data {
			data[i] = float64(i)
		}
		x64 := tensors.FromFlatDataAndDimensions(data, dims...)
		idx := make([][]int, len(perm))
		for k, a := range perm {
			idx[k] = make([]int, dims[a])
			for i := range idx[k] {
				idx[k][i] = i
			}
		}
		want := hostGather(data, shapes.Make(dtypes.Float64, dims...).Strides(), perm, idx)
		for _, dt := range []dtypes.DType{dtypes.Float32, dtypes.Float64} {
			got := tensors.MustCopyFlatData[float64](MustExecOnce(backend, func(x *Node) *Node {
				return ConvertDType(TransposeAllDims(ConvertDType(x, dt), perm...), dtypes.Float64)
			}, x64))
			if !slices.Equal(got, want) {
				t.Fatalf("trial %d, %s: dims %v perm %v: got %v, want %v", trial, dt, dims, perm, got, want)
			}
		}
	}
}
