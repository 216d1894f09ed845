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
		transposeRect(d, s, rows, cols, 0, fullRows, fullCols, cols)
		transposeRect(d, s, rows, cols, fullRows, rows, 0, cols)
	}
}

// transposeTile16 writes d[c][r] = s[r][c] for the 16x16 tile at row r0, column c0 (s: [rows, cols]).
func transposeTile16(d, s []uint32, rows, cols, r0, c0 int, idx *[4][2]archsimd.Uint32x16) {
	var v [16]archsimd.Uint32x16
	for i := range v {
		o := (r0+i)*cols + c0
		v[i] = archsimd.LoadUint32x16((*[16]uint32)(s[o : o+16]))
	}
	for j := range 4 {
		step := 1 << j
		for i := range 16 {
			if i&step == 0 {
				a, b := v[i], v[i+step]
				v[i], v[i+step] = a.ConcatPermute(b, idx[j][0]), a.ConcatPermute(b, idx[j][1])
			}
		}
	}
	for c := range v {
		o := (c0+c)*rows + r0
		v[c].Store((*[16]uint32)(d[o : o+16]))
	}
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
