package resnet

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
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
		return []*Node{lsePool(x, 2), top, Gradient(ReduceAllSum(top), x)[0], ReduceMean(x, 1)}
	}, x)
	if err != nil {
		t.Fatal(err)
	}
	lse, top, grad, avg := flat32(t, out[0]), flat32(t, out[1]), flat32(t, out[2]), flat32(t, out[3])
	for bi := range b {
		for ki := range k {
			col := make([]float64, n)
			s := 0.0
			for i := range n {
				col[i] = float64(xv[(bi*n+i)*k+ki])
				s += math.Exp(2 * col[i])
			}
			wantLSE := math.Log(s/n) / 2
			if d := math.Abs(float64(avg[bi*k+ki]) - mean(col)); d > 1e-5 {
				t.Errorf("mean [%d,%d] = %g, want %g", bi, ki, avg[bi*k+ki], mean(col))
			}
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

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// TestHeadsLogits checks every head's logits against the class maps W.A+b pooled on the host, on a tiny model.
func TestHeadsLogits(t *testing.T) {
	backend := testBackend(t)
	for _, head := range []struct {
		name  string
		param float64
		pool  func(col []float64) float64
	}{
		{HeadGAP, 0, mean},
		{HeadLSE, 3, func(c []float64) float64 { return lseHost(c, 3) }},
		{HeadMix, 3, func(c []float64) float64 { return (mean(c) + lseHost(c, 3)) / 2 }},
		{HeadTopK, 0.25, func(c []float64) float64 {
			s := slices.Clone(c)
			slices.Sort(s)
			k := int(math.Round(0.25 * float64(len(s))))
			return mean(s[len(s)-k:])
		}},
	} {
		cfg := tinyConfig()
		cfg.Padding, cfg.Head, cfg.HeadParam = PadReflect, head.name, head.param
		store := model.NewStore()
		SetConfig(store, cfg)
		exec, err := model.NewExec(backend, store, func(scope *model.Scope, images *Node) []*Node {
			logits, feats := Model(scope, images)
			g := images.Graph()
			w := scope.Store().GetVariable("/resnet/head/weights").NodeValue(g)
			b := scope.Store().GetVariable("/resnet/head/biases").NodeValue(g)
			return []*Node{logits, feats["layer4"], w, b}
		})
		if err != nil {
			t.Fatal(err)
		}
		x, _ := randomBatch(rand.New(rand.NewPCG(1, 1)), 2, cfg.Size)
		out, err := exec.Call(x)
		if err != nil {
			t.Fatalf("%s: %v", head.name, err)
		}
		logits, a, w, b := flat32(t, out[0]), flat32(t, out[1]), flat32(t, out[2]), flat32(t, out[3])
		d := out[1].Shape().Dimensions
		cells, c, k := d[1]*d[2], d[3], len(b)
		for bi := range d[0] {
			for ki := range k {
				col := make([]float64, cells)
				for i := range cells {
					v := float64(b[ki])
					for ci := range c {
						v += float64(a[(bi*cells+i)*c+ci]) * float64(w[ci*k+ki])
					}
					col[i] = v
				}
				if got, want := float64(logits[bi*k+ki]), head.pool(col); math.Abs(got-want) > 1e-4*max(1, math.Abs(want)) {
					t.Errorf("%s: logit [%d,%d] = %g, want %g", head.name, bi, ki, got, want)
				}
			}
		}
	}
}

func lseHost(c []float64, r float64) float64 {
	s := 0.0
	for _, v := range c {
		s += math.Exp(r * v)
	}
	return math.Log(s/float64(len(c))) / r
}
