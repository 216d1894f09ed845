package ops

import (
	"unsafe"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"

	"github.com/gomlx/compute/internal/gobackend"
)

// Fast paths of Transpose (neucam's patch, FORK.md): the axes that stay next to each other and in order are
// merged first; a permutation that keeps the innermost axis in place is then a sequence of contiguous runs, and
// one that swaps the two innermost (merged) axes, possibly under leading batch axes, is a batch of matrix
// transposes done in square tiles. Everything else goes through the element iterator.

// transposeByBlocks transposes operand into output if the permutation has one of the shapes above, for elements
// of elemSize bytes; it returns false (and does nothing) otherwise.
func transposeByBlocks(operand, output *gobackend.Buffer, permutations []int, elemSize int) bool {
	dims, perm := mergeTransposeAxes(operand.RawShape.Dimensions, permutations)
	src, err := operand.MutableBytes()
	if err != nil {
		return false
	}
	dst, err := output.MutableBytes()
	if err != nil || len(src) != len(dst) {
		return false
	}
	rank := len(dims)
	switch {
	case rank == 1:
		copy(dst, src)
		return true
	case perm[rank-1] == rank-1:
		transposeRuns(dst, src, dims, perm, dims[rank-1]*elemSize)
		return true
	case (rank == 2 || (rank == 3 && perm[0] == 0)) && perm[rank-1] == rank-2 && perm[rank-2] == rank-1:
		batch := 1
		if rank == 3 {
			batch = dims[0]
		}
		rows, cols := dims[rank-2], dims[rank-1]
		switch elemSize {
		case 4:
			transposeTiles32(bytesAs[uint32](dst), bytesAs[uint32](src), batch, rows, cols)
		case 8:
			transposeTiles(bytesAs[uint64](dst), bytesAs[uint64](src), batch, rows, cols)
		case 2:
			transposeTiles(bytesAs[uint16](dst), bytesAs[uint16](src), batch, rows, cols)
		case 1:
			transposeTiles(dst, src, batch, rows, cols)
		default:
			return false
		}
		return true
	}
	return false
}

// transposeRuns moves the runs of run bytes (the innermost axis, which stays innermost) of src [dims...] to
// their places in dst, in operand order, with the element iterator over the outer axes.
func transposeRuns(dst, src []byte, dims, perm []int, run int) {
	rank := len(dims)
	it := NewTransposeIterator(shapes.Make(dtypes.Uint8, dims[:rank-1]...), perm[:rank-1])
	for i := 0; i < len(src); i += run {
		o := it.Next() * run
		copy(dst[o:o+run], src[i:i+run])
	}
}

// mergeTransposeAxes merges operand axes i, i+1 that are also consecutive, in the same order, in the output
// (and drops axes of size 1), returning the merged dimensions and the permutation on them.
func mergeTransposeAxes(dims, perm []int) (mDims, mPerm []int) {
	// Output order of operand axes, skipping size-1 axes.
	var order []int
	for _, a := range perm {
		if dims[a] != 1 {
			order = append(order, a)
		}
	}
	if len(order) == 0 {
		return []int{1}, []int{0}
	}
	// Group runs of consecutive operand axes in output order.
	type group struct{ first, size int }
	var groups []group
	for i, a := range order {
		if i > 0 && a == order[i-1]+1 {
			groups[len(groups)-1].size *= dims[a]
			continue
		}
		groups = append(groups, group{first: a, size: dims[a]})
	}
	// Merged operand axes are the groups sorted by their first operand axis.
	n := len(groups)
	rank := make([]int, n) // rank[g] = position of group g in operand order
	for g := range groups {
		for h := range groups {
			if groups[h].first < groups[g].first {
				rank[g]++
			}
		}
	}
	mDims, mPerm = make([]int, n), make([]int, n)
	for g, gr := range groups {
		mDims[rank[g]] = gr.size
		mPerm[g] = rank[g]
	}
	return mDims, mPerm
}

// transposeTiles32 is transposeTiles for 4-byte elements; transpose_avx512.go replaces it where AVX-512 is there.
var transposeTiles32 = transposeTiles[uint32]

// transposeTiles writes dst[b][c][r] = src[b][r][c] for src [batch, rows, cols], in 16x16 tiles.
func transposeTiles[T any](dst, src []T, batch, rows, cols int) {
	const tile = 16
	for b := range batch {
		s, d := src[b*rows*cols:(b+1)*rows*cols], dst[b*rows*cols:(b+1)*rows*cols]
		for r0 := 0; r0 < rows; r0 += tile {
			r1 := min(r0+tile, rows)
			for c0 := 0; c0 < cols; c0 += tile {
				c1 := min(c0+tile, cols)
				for r := r0; r < r1; r++ {
					row := s[r*cols : r*cols+c1]
					for c := c0; c < c1; c++ {
						d[c*rows+r] = row[c]
					}
				}
			}
		}
	}
}

// bytesAs views b as a slice of T (len(b) must be a multiple of T's size).
func bytesAs[T any](b []byte) []T {
	var zero T
	n := len(b) / int(unsafe.Sizeof(zero))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}
