//go:build amd64 && goexperiment.simd

package ops

// Not upstream: part of neucam's patch of compute v0.1.2 (third_party/gomlx-compute/FORK.md).
//
// Matrix transposes of 4-byte elements in 16x16 tiles held in AVX-512 registers: 16 row loads, 4 rounds of 16
// two-register permutes, 16 column stores, instead of 256 scalar moves. Only bits are moved.

import (
	"simd/archsimd"

	"github.com/gomlx/compute/support/envutil"
)

func init() {
	if envutil.MustReadBool(envutil.SIMD_AVX512_Env, true) && archsimd.X86.AVX512() {
		transposeTiles32 = transposeTiles32AVX512
	}
}

// transposeRoundIndices[j] are the ConcatPermute indices of round j (lo, hi): for the register pair (a, b) =
// (row i, row i+2^j) with bit j of i clear, they swap bit j of the register index with bit j of the lane index:
// lo takes the lanes with bit j clear of a and b (interleaved by 2^j), hi the lanes with bit j set.
var transposeRoundIndices = func() (idx [4][2][16]uint32) {
	for j := range 4 {
		s := uint32(1) << j
		for c := range uint32(16) {
			if c&s == 0 {
				idx[j][0][c], idx[j][1][c] = c, c+s
			} else {
				idx[j][0][c], idx[j][1][c] = 16+c-s, 16+c
			}
		}
	}
	return idx
}()

// transposeTiles32AVX512 is transposeTiles for 4-byte elements: full 16x16 tiles in registers, the edges of
// the matrices (rows or columns beyond the last multiple of 16) with the scalar loop.
func transposeTiles32AVX512(dst, src []uint32, batch, rows, cols int) {
	var idx [4][2]archsimd.Uint32x16
	for j := range 4 {
		idx[j][0] = archsimd.LoadUint32x16(&transposeRoundIndices[j][0])
		idx[j][1] = archsimd.LoadUint32x16(&transposeRoundIndices[j][1])
	}
	fullRows, fullCols := rows&^15, cols&^15
	for b := range batch {
		s, d := src[b*rows*cols:(b+1)*rows*cols], dst[b*rows*cols:(b+1)*rows*cols]
		for r0 := 0; r0 < fullRows; r0 += 16 {
			for c0 := 0; c0 < fullCols; c0 += 16 {
				transposeTile16(d, s, rows, cols, r0, c0, &idx)
			}
		}
		archsimd.ClearAVXUpperBits() // before the scalar edges (clearUpperNote in elementwise_avx512.go)
		transposeRect(d, s, rows, cols, 0, fullRows, fullCols, cols)
		transposeRect(d, s, rows, cols, fullRows, rows, 0, cols)
	}
}

// transposeTile16 writes d[c][r] = s[r][c] for the 16x16 tile at row r0, column c0 (s: [rows, cols]). The 16
// rows are 16 variables (an array would live on the stack) and the rounds are written out.
func transposeTile16(d, s []uint32, rows, cols, r0, c0 int, idx *[4][2]archsimd.Uint32x16) {
	load := func(r int) archsimd.Uint32x16 {
		return archsimd.LoadUint32x16((*[16]uint32)(s[r*cols+c0 : r*cols+c0+16]))
	}
	store := func(c int, v archsimd.Uint32x16) {
		o := (c0+c)*rows + r0
		v.Store((*[16]uint32)(d[o : o+16]))
	}
	lo0, hi0, lo1, hi1 := idx[0][0], idx[0][1], idx[1][0], idx[1][1]
	lo2, hi2, lo3, hi3 := idx[2][0], idx[2][1], idx[3][0], idx[3][1]
	v0 := load(r0 + 0)
	v1 := load(r0 + 1)
	v2 := load(r0 + 2)
	v3 := load(r0 + 3)
	v4 := load(r0 + 4)
	v5 := load(r0 + 5)
	v6 := load(r0 + 6)
	v7 := load(r0 + 7)
	v8 := load(r0 + 8)
	v9 := load(r0 + 9)
	v10 := load(r0 + 10)
	v11 := load(r0 + 11)
	v12 := load(r0 + 12)
	v13 := load(r0 + 13)
	v14 := load(r0 + 14)
	v15 := load(r0 + 15)
	// round 0: rows i and i+1
	v0, v1 = permutePair(v0, v1, lo0, hi0)
	v2, v3 = permutePair(v2, v3, lo0, hi0)
	v4, v5 = permutePair(v4, v5, lo0, hi0)
	v6, v7 = permutePair(v6, v7, lo0, hi0)
	v8, v9 = permutePair(v8, v9, lo0, hi0)
	v10, v11 = permutePair(v10, v11, lo0, hi0)
	v12, v13 = permutePair(v12, v13, lo0, hi0)
	v14, v15 = permutePair(v14, v15, lo0, hi0)
	// round 1: rows i and i+2
	v0, v2 = permutePair(v0, v2, lo1, hi1)
	v1, v3 = permutePair(v1, v3, lo1, hi1)
	v4, v6 = permutePair(v4, v6, lo1, hi1)
	v5, v7 = permutePair(v5, v7, lo1, hi1)
	v8, v10 = permutePair(v8, v10, lo1, hi1)
	v9, v11 = permutePair(v9, v11, lo1, hi1)
	v12, v14 = permutePair(v12, v14, lo1, hi1)
	v13, v15 = permutePair(v13, v15, lo1, hi1)
	// round 2: rows i and i+4
	v0, v4 = permutePair(v0, v4, lo2, hi2)
	v1, v5 = permutePair(v1, v5, lo2, hi2)
	v2, v6 = permutePair(v2, v6, lo2, hi2)
	v3, v7 = permutePair(v3, v7, lo2, hi2)
	v8, v12 = permutePair(v8, v12, lo2, hi2)
	v9, v13 = permutePair(v9, v13, lo2, hi2)
	v10, v14 = permutePair(v10, v14, lo2, hi2)
	v11, v15 = permutePair(v11, v15, lo2, hi2)
	// round 3: rows i and i+8
	v0, v8 = permutePair(v0, v8, lo3, hi3)
	v1, v9 = permutePair(v1, v9, lo3, hi3)
	v2, v10 = permutePair(v2, v10, lo3, hi3)
	v3, v11 = permutePair(v3, v11, lo3, hi3)
	v4, v12 = permutePair(v4, v12, lo3, hi3)
	v5, v13 = permutePair(v5, v13, lo3, hi3)
	v6, v14 = permutePair(v6, v14, lo3, hi3)
	v7, v15 = permutePair(v7, v15, lo3, hi3)
	store(0, v0)
	store(1, v1)
	store(2, v2)
	store(3, v3)
	store(4, v4)
	store(5, v5)
	store(6, v6)
	store(7, v7)
	store(8, v8)
	store(9, v9)
	store(10, v10)
	store(11, v11)
	store(12, v12)
	store(13, v13)
	store(14, v14)
	store(15, v15)
}

// permutePair is one round of transposeTile16 on the rows a and b.
func permutePair(a, b, lo, hi archsimd.Uint32x16) (archsimd.Uint32x16, archsimd.Uint32x16) {
	return a.ConcatPermute(b, lo), a.ConcatPermute(b, hi)
}

// transposeRect writes d[c][r] = s[r][c] for rows [r0, r1) and columns [c0, c1) of s [rows, cols].
func transposeRect(d, s []uint32, rows, cols, r0, r1, c0, c1 int) {
	for r := r0; r < r1; r++ {
		row := s[r*cols : r*cols+c1]
		for c := c0; c < c1; c++ {
			d[c*rows+r] = row[c]
		}
	}
}
