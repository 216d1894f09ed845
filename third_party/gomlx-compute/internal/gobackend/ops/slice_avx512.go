//go:build amd64 && goexperiment.simd

package ops

// Not upstream: part of neucam's patch of compute v0.1.2 (third_party/gomlx-compute/FORK.md).

import (
	"simd/archsimd"

	"github.com/gomlx/compute/support/envutil"
)

func init() {
	if envutil.MustReadBool(envutil.SIMD_AVX512_Env, true) && archsimd.X86.AVX512() {
		sliceStride2RowFloat32 = sliceStride2RowAVX512
	}
}

// evenLanes32 picks lanes 0, 2, ..., 30 of two concatenated 16-lane registers.
var evenLanes32 = func() (idx [16]uint32) {
	for i := range idx {
		idx[i] = uint32(2 * i)
	}
	return idx
}()

// sliceStride2RowAVX512 copies row[j] = src[2*j]: 16 outputs from two 16-lane loads and one two-register
// permute; the end of the row (where a second load would read past src) with the scalar loop.
func sliceStride2RowAVX512(row, src []float32) {
	even := archsimd.LoadUint32x16(&evenLanes32)
	j := 0
	for ; j+16 <= len(row) && 2*j+32 <= len(src); j += 16 {
		a := archsimd.LoadFloat32x16((*[16]float32)(src[2*j : 2*j+16]))
		b := archsimd.LoadFloat32x16((*[16]float32)(src[2*j+16 : 2*j+32]))
		a.ConcatPermute(b, even).Store((*[16]float32)(row[j : j+16]))
	}
	archsimd.ClearAVXUpperBits() // before the scalar tail (clearUpperNote in elementwise_avx512.go)
	for ; j < len(row); j++ {
		row[j] = src[2*j]
	}
}
