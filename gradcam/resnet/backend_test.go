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
// once, FORK.md) against a host loop on random shapes, ranges and strides, including rank 0 and strided
// innermost axes.
func TestSliceMatchesReference(t *testing.T) {
	backend, err := NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 300 {
		dims := make([]int, rng.IntN(5))
		for i := range dims {
			dims[i] = 1 + rng.IntN(6)
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
			spec[i], ranges[i] = AxisRange(r[0], r[1]).Stride(r[2]), r
		}
		got := tensors.MustCopyFlatData[float32](MustExecOnce(backend, func(x *Node) *Node {
			if len(spec) == 0 {
				return Slice(x)
			}
			return Slice(x, spec...)
		}, x))
		want := sliceReference(data, x.Shape().Strides(), ranges)
		if !slices.Equal(got, want) {
			t.Fatalf("trial %d: dims %v ranges %v: got %v, want %v", trial, dims, ranges, got, want)
		}
	}
}

// sliceReference is Slice on the host: ranges are (start, limit, stride) per axis of data (row-major strides).
func sliceReference(data []float32, strides []int, ranges [][3]int) []float32 {
	var out []float32
	var rec func(axis, off int)
	rec = func(axis, off int) {
		if axis == len(ranges) {
			out = append(out, data[off])
			return
		}
		for i := ranges[axis][0]; i < ranges[axis][1]; i += ranges[axis][2] {
			rec(axis+1, off+i*strides[axis])
		}
	}
	rec(0, 0)
	return out
}

// TestTransposeMatchesReference checks the backend's Transpose (third_party/gomlx-compute merges axes and moves
// runs or tiles, FORK.md) against a host loop on random shapes (axes of size 1 included) and permutations, for
// 4- and 8-byte elements.
func TestTransposeMatchesReference(t *testing.T) {
	backend, err := NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 300 {
		dims := make([]int, 1+rng.IntN(5))
		for i := range dims {
			dims[i] = 1 + rng.IntN(7)
		}
		if trial%10 == 0 { // large enough for several 16x16 tiles
			dims = []int{1 + rng.IntN(3), 17 + rng.IntN(40), 17 + rng.IntN(40)}
		}
		perm := rng.Perm(len(dims))
		data := make([]float64, shapes.Make(dtypes.Float64, dims...).Size())
		for i := range data {
			data[i] = float64(i)
		}
		x64 := tensors.FromFlatDataAndDimensions(data, dims...)
		want := transposeReference(data, dims, perm)
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

// transposeReference is Transpose on the host: output axis i is input axis perm[i].
func transposeReference(data []float64, dims, perm []int) []float64 {
	strides := shapes.Make(dtypes.Float64, dims...).Strides()
	out := make([]float64, 0, len(data))
	var rec func(axis, off int)
	rec = func(axis, off int) {
		if axis == len(perm) {
			out = append(out, data[off])
			return
		}
		for i := range dims[perm[axis]] {
			rec(axis+1, off+i*strides[perm[axis]])
		}
	}
	rec(0, 0)
	return out
}
