// neucam's patch to github.com/gomlx/compute v0.1.2 (not upstream code): see FORK.md.

//go:build amd64 && goexperiment.simd

package matmul

import (
	"math"
	"math/rand/v2"
	"simd/archsimd"
	"testing"

	"github.com/gomlx/compute/internal/gobackend/dot"
)

// upstreamMatrixSliceFloat32 is avx512LargeMatrixSliceFloat32 as compute v0.1.2 has it: lhs packed in panels,
// the 4x32 kernel, the packed output applied to the output.
func upstreamMatrixSliceFloat32(layout dot.Layout, lhsMatrix, rhsMatrix, outputMatrix []float32,
	rhsCrossSize, contractingSize, rowStart, rowEnd, colStart, colEnd int, params CacheParams) {
	packedLHS := make([]float32, params.LHSPanelCrossSize*params.PanelContractingSize)
	packedRHS := make([]float32, params.PanelContractingSize*params.RHSPanelCrossSize)
	packedOutput := make([]float32, params.LHSPanelCrossSize*params.RHSPanelCrossSize)
	for rhsPanelColIdx := colStart; rhsPanelColIdx < colEnd; rhsPanelColIdx += params.RHSPanelCrossSize {
		rhsPanelWidth := min(params.RHSPanelCrossSize, colEnd-rhsPanelColIdx)
		for kIdx := 0; kIdx < contractingSize; kIdx += params.PanelContractingSize {
			kWidth := min(params.PanelContractingSize, contractingSize-kIdx)
			if layout == dot.LayoutNonTransposed {
				avx512PackRHSNonTransposed(rhsMatrix, packedRHS, kIdx, rhsPanelColIdx, rhsCrossSize, kWidth, rhsPanelWidth, params.RHSL1KernelCols)
			} else {
				unsafePackLHS(rhsMatrix, packedRHS, rhsPanelColIdx, kIdx, contractingSize, rhsPanelWidth, kWidth, params.RHSL1KernelCols)
			}
			for row := rowStart; row < rowEnd; row += params.LHSPanelCrossSize {
				height := min(params.LHSPanelCrossSize, rowEnd-row)
				avx512PackLHSKernelRows4(lhsMatrix, packedLHS, row, kIdx, contractingSize, height, kWidth, params.LHSL1KernelRows)
				avx512LargeKernelFloat32(packedLHS, packedRHS, packedOutput, params.LHSPanelCrossSize,
					params.RHSPanelCrossSize, kWidth, height, rhsPanelWidth)
				avx512ApplyPackedOutputFloat32(packedOutput, outputMatrix, kIdx == 0, params.RHSPanelCrossSize,
					row, rhsPanelColIdx, rhsCrossSize, height, rhsPanelWidth)
			}
		}
	}
}

// TestKernel12x32MatchesUpstream: the patched large matmul gives bit-for-bit upstream's results, on shapes with
// row, column and contracting tails, several contracting and column panels, sub-ranges of rows and columns (as
// the parallel work items use), both layouts, and values that include zeros, negative zeros and infinities.
func TestKernel12x32MatchesUpstream(t *testing.T) {
	if !archsimd.X86.AVX512() {
		t.Skip("no AVX-512")
	}
	rng := rand.New(rand.NewPCG(1, 2))
	params := AVX512ParamsFloat32
	shapes := [][3]int{{1, 1, 1}, {12, 32, 128}, {13, 33, 129}, {25, 16, 300}, {100, 600, 257}, {7, 1100, 5},
		{48, 64, 128}, {2048 / 16, 128, 256}, {37, 95, 1000}}
	for _, s := range shapes {
		m, n, k := s[0], s[1], s[2]
		for _, layout := range []dot.Layout{dot.LayoutNonTransposed, dot.LayoutTransposed} {
			lhs, rhs := randomFloats(rng, m*k), randomFloats(rng, k*n)
			rowStart, colStart := rng.IntN(m), rng.IntN(n)
			rowEnd, colEnd := rowStart+1+rng.IntN(m-rowStart), colStart+1+rng.IntN(n-colStart)
			for _, r := range [][4]int{{0, m, 0, n}, {rowStart, rowEnd, colStart, colEnd}} {
				want, got := randomFloats(rng, m*n), make([]float32, m*n)
				copy(got, want)
				upstreamMatrixSliceFloat32(layout, lhs, rhs, want, n, k, r[0], r[1], r[2], r[3], params)
				avx512LargeMatrixSliceFloat32(layout, lhs, rhs, got, m, n, k, r[0], r[1], r[2], r[3], params,
					make([]float32, params.LHSPanelCrossSize*params.PanelContractingSize),
					make([]float32, params.PanelContractingSize*params.RHSPanelCrossSize),
					make([]float32, params.LHSPanelCrossSize*params.RHSPanelCrossSize))
				for i := range want {
					if math.Float32bits(want[i]) != math.Float32bits(got[i]) && !(want[i] != want[i] && got[i] != got[i]) {
						t.Fatalf("m=%d n=%d k=%d layout=%v range=%v: element %d (row %d, col %d) = %g, upstream %g",
							m, n, k, layout, r, i, i/n, i%n, got[i], want[i])
					}
				}
			}
		}
	}
}

// randomFloats are uniform in [-1, 1), with a few exact zeros, negative zeros and, rarely, infinities.
func randomFloats(rng *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		switch rng.IntN(200) {
		case 0:
			out[i] = 0
		case 1:
			out[i] = float32(math.Copysign(0, -1))
		case 2:
			if rng.IntN(20) == 0 {
				out[i] = float32(math.Inf(1))
			}
		default:
			out[i] = 2*rng.Float32() - 1
		}
	}
	return out
}
