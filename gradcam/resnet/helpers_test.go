package resnet

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
)

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := NewBackend()
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	return b
}

func flat32(t testing.TB, x *tensors.Tensor) []float32 {
	t.Helper()
	v, err := tensors.CopyFlatData[float32](x)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// randomDims draws a shape of minRank + rng.IntN(extraRanks) axes, each of 1 to maxSide.
func randomDims(rng *rand.Rand, minRank, extraRanks, maxSide int) []int {
	dims := make([]int, minRank+rng.IntN(extraRanks))
	for i := range dims {
		dims[i] = 1 + rng.IntN(maxSide)
	}
	return dims
}
