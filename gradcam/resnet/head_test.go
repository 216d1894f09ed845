package resnet

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestPools checks log-sum-exp and top-k pooling (and top-k's gradient: 1/k on the chosen cells) against
// host computations on random class maps [B,N,K].
func TestPools(t *testing.T) {
	backend := testBackend(t)
	const b, n, k = 2, 10, 3
	x := randTensor(rand.New(rand.NewPCG(7, 8)), b, n, k)
	xv := tensors.MustCopyFlatData[float32](x)
	out, err := ExecOnceN(backend, func(x *Node) []*Node {
		top := topKPool(x, 0.3)
		return []*Node{lsePool(x, 2), top, Gradient(ReduceAllSum(top), x)[0]}
	}, x)
	if err != nil {
		t.Fatal(err)
	}
	lse, top, grad := flat32(t, out[0]), flat32(t, out[1]), flat32(t, out[2])
	for bi := range b {
		for ki := range k {
			col := make([]float64, n)
			s := 0.0
			for i := range n {
				col[i] = float64(xv[(bi*n+i)*k+ki])
				s += math.Exp(2 * col[i])
			}
			wantLSE := math.Log(s/n) / 2
			sorted := slices.Clone(col)
			slices.Sort(sorted)
			wantTop := (sorted[n-1] + sorted[n-2] + sorted[n-3]) / 3
			if d := math.Abs(float64(lse[bi*k+ki]) - wantLSE); d > 1e-5 {
				t.Errorf("lse [%d,%d] = %g, want %g", bi, ki, lse[bi*k+ki], wantLSE)
			}
			if d := math.Abs(float64(top[bi*k+ki]) - wantTop); d > 1e-5 {
				t.Errorf("topk [%d,%d] = %g, want %g", bi, ki, top[bi*k+ki], wantTop)
			}
			for i := range n {
				want := 0.0
				if col[i] >= sorted[n-3] {
					want = 1.0 / 3
				}
				if g := float64(grad[(bi*n+i)*k+ki]); math.Abs(g-want) > 1e-6 {
					t.Errorf("topk grad [%d,%d,%d] = %g, want %g", bi, i, ki, g, want)
				}
			}
		}
	}
}
