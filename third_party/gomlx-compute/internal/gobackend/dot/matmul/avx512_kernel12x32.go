// neucam's patch to github.com/gomlx/compute v0.1.2 (not upstream code): see FORK.md.

//go:build amd64 && goexperiment.simd

package matmul

import "unsafe"

// Register-blocked micro-kernel of the float32 AVX-512 matmul (avx512_kernel12x32_amd64.s): 12 rows of the
// unpacked lhs times one packed rhs strip of 32 columns, 24 accumulators in registers, written (first
// contracting panel) or added to 12x32 output values in place. Each sum is the same fused multiply-add chain,
// k = 0, 1, ... from +0, as avx512LargeKernelFloat32's, and the panel sums are added to the output as
// avx512ApplyPackedOutputFloat32 adds them, so the results are bit-for-bit the same; it only needs no packed
// lhs, no packed output and fewer instructions per k.
const (
	kernel12Rows = 12
	kernel12Cols = 32
)

//go:noescape
func avx512Kernel12x32Float32(lhs unsafe.Pointer, lhsStrideBytes uintptr, rhs unsafe.Pointer, contractingLen int,
	out unsafe.Pointer, outStrideBytes uintptr, accumulate bool)

// avx512RowsTimesPanelFloat32 multiplies lhs rows [rowStart, rowEnd) (columns [kStart, kStart+kLen) of the
// row-major lhs [*, contractingSize]) by the packed rhs panel (strips of [kLen][32], zero-padded) of width
// panelWidth, and writes (first contracting panel) or adds the result to output at column colStart.
// scratch holds at least 12*kLen floats (for the last rows, copied and zero-padded to 12) and tile 12*32
// (the results of a tile with fewer than 12 rows or 32 columns, then applied to output).
func avx512RowsTimesPanelFloat32(lhs []float32, contractingSize, rowStart, rowEnd, kStart, kLen int,
	packedRHS []float32, panelWidth int, output []float32, outputStride, colStart int, first bool,
	scratch, tile []float32) {
	tilePtr := unsafe.Pointer(unsafe.SliceData(tile))
	for row := rowStart; row < rowEnd; row += kernel12Rows {
		height := min(kernel12Rows, rowEnd-row)
		lhsPtr := unsafe.Pointer(&lhs[row*contractingSize+kStart])
		stride := uintptr(contractingSize) * 4
		if height < kernel12Rows {
			for r := range kernel12Rows {
				dst := scratch[r*kLen : (r+1)*kLen]
				if r < height {
					copy(dst, lhs[(row+r)*contractingSize+kStart:])
				} else {
					clear(dst)
				}
			}
			lhsPtr, stride = unsafe.Pointer(unsafe.SliceData(scratch)), uintptr(kLen)*4
		}
		for col := 0; col < panelWidth; col += kernel12Cols {
			strip := unsafe.Pointer(&packedRHS[col*kLen])
			width := min(kernel12Cols, panelWidth-col)
			if height == kernel12Rows && width == kernel12Cols {
				avx512Kernel12x32Float32(lhsPtr, stride, strip, kLen, unsafe.Pointer(&output[row*outputStride+colStart+col]),
					uintptr(outputStride)*4, !first)
				continue
			}
			avx512Kernel12x32Float32(lhsPtr, stride, strip, kLen, tilePtr, kernel12Cols*4, false)
			avx512ApplyPackedOutputFloat32(tile, output, first, kernel12Cols, row, colStart+col, outputStride,
				height, width)
		}
	}
}
