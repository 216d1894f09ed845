package pixel

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
)

// A two-layer net on 8x8 images with closed-form gradients: h = W1^T x (64 -> hidden), logits = W2^T relu(h) + b.
// linear: no ReLU (logits = W2^T W1^T x + b), so every gradient is the constant W1 W2.
const size, hidden, numK = 8, 5, 3

type net struct {
	w1, w2, b  []float32
	linear     bool
	layersReLU bool // activation.Relu (Max(x, ZerosLike(x))) instead of MaxScalar(x, 0)
}

func newNet(seed uint64, linear bool) *net {
	rng := rand.New(rand.NewPCG(seed, 1))
	r := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	return &net{w1: r(size * size * hidden), w2: r(hidden * numK), b: r(numK), linear: linear}
}

func (m *net) store(t *testing.T) *model.Store {
	s := model.NewStore()
	for name, v := range map[string]*tensors.Tensor{
		"w1": tensors.FromFlatDataAndDimensions(m.w1, size*size, hidden),
		"w2": tensors.FromFlatDataAndDimensions(m.w2, hidden, numK),
		"b":  tensors.FromFlatDataAndDimensions(m.b, numK),
	} {
		if _, err := s.RootScope().CreateVariable(name, v); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (m *net) fn(scope *model.Scope, images *Node) (*Node, map[string]*Node) {
	g := images.Graph()
	get := func(name string, dims ...int) *Node {
		return scope.VariableWithShape(name, shapes.Make(dtypes.Float32, dims...)).NodeValue(g)
	}
	x := Reshape(images, images.Shape().Dimensions[0], size*size)
	h := Dot(x, get("w1", size*size, hidden)).Product()
	switch {
	case m.layersReLU:
		h = activation.Relu(h)
	case !m.linear:
		h = MaxScalar(h, 0)
	}
	logits := Add(Dot(h, get("w2", hidden, numK)).Product(), Reshape(get("b", numK), 1, numK))
	return logits, map[string]*Node{"hidden": Reshape(h, -1, 1, 1, hidden)}
}

// hostGrad is d logit_k / d x_j of the net at x; guided: ReLU backward also drops negative incoming gradients.
func (m *net) hostGrad(x []float32, k int, guided bool) []float64 {
	pre := make([]float64, hidden)
	for j := range x {
		for h := range hidden {
			pre[h] += float64(x[j]) * float64(m.w1[j*hidden+h])
		}
	}
	g := make([]float64, len(x))
	for h := range hidden {
		up := float64(m.w2[h*numK+k])
		if !m.linear {
			if pre[h] <= 0 {
				continue
			}
			if guided {
				up = math.Max(up, 0)
			}
		}
		for j := range x {
			g[j] += float64(m.w1[j*hidden+h]) * up
		}
	}
	return g
}

func (m *net) hostLogit(x []float32, k int) float64 {
	z := float64(m.b[k])
	for h := range hidden {
		var pre float64
		for j := range x {
			pre += float64(x[j]) * float64(m.w1[j*hidden+h])
		}
		if !m.linear {
			pre = math.Max(pre, 0)
		}
		z += pre * float64(m.w2[h*numK+k])
	}
	return z
}

func images(n int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, size*size)
		for j := range out[i] {
			out[i][j] = float32(rng.Float64())
		}
	}
	return out
}

func explainer(t *testing.T, m *net, opts Options) *Explainer {
	backend, err := compute.New()
	if err != nil {
		t.Fatal(err)
	}
	opts.BatchSize = 4
	e, err := NewExplainer(backend, m.store(t), m.fn, opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func closeTo(t *testing.T, what string, got float32, want, tol float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > tol*math.Max(1, math.Abs(want)) {
		t.Fatalf("%s = %g, want %g", what, got, want)
	}
}

// TestGradientMethodsClosedForm: on the linear net the gradient is W1 W2 everywhere, so SmoothGrad is |W1 W2|,
// VarGrad is 0 and IG is x * W1 W2 (positive part); guided backprop of the ReLU net matches the host formula.
func TestGradientMethodsClosedForm(t *testing.T) {
	lin := newNet(1, true)
	imgs := images(3, 5)
	for _, m := range []Method{SmoothGrad, VarGrad, IntegratedGradients} {
		opts := DefaultOptions(m)
		opts.Samples, opts.Steps = 4, 4
		r, err := explainer(t, lin, opts).Explain(imgs, size)
		if err != nil {
			t.Fatal(err)
		}
		for n, x := range imgs {
			for k := range numK {
				g := lin.hostGrad(x, k, false)
				for j := range x {
					want := map[Method]float64{SmoothGrad: math.Abs(g[j]), VarGrad: 0,
						IntegratedGradients: math.Max(float64(x[j])*g[j], 0)}[m]
					closeTo(t, string(m), r.Raw[n][k][j], want, 1e-4)
				}
			}
		}
	}
	for _, layersReLU := range []bool{false, true} {
		relu := newNet(2, false)
		relu.layersReLU = layersReLU
		checkGuided(t, relu, imgs)
	}
}

// checkGuided compares guided backprop with the host formula and makes sure the guided rule changed something.
func checkGuided(t *testing.T, relu *net, imgs [][]float32) {
	r, err := explainer(t, relu, DefaultOptions(GuidedBackprop)).Explain(imgs, size)
	if err != nil {
		t.Fatal(err)
	}
	differs := 0
	for n, x := range imgs {
		for k := range numK {
			g, plain := relu.hostGrad(x, k, true), relu.hostGrad(x, k, false)
			for j := range x {
				closeTo(t, "guided backprop", r.Raw[n][k][j], math.Abs(g[j]), 1e-4)
				if math.Abs(g[j]-plain[j]) > 1e-3 {
					differs++
				}
			}
		}
	}
	if differs == 0 {
		t.Fatal("guided and plain gradients never differ: the test net has no negative W2 on an active unit")
	}
}

// TestIntegratedGradientsCompleteness: the signed attributions of the ReLU net sum to z_k(x) - z_k(0).
func TestIntegratedGradientsCompleteness(t *testing.T) {
	m := newNet(3, false)
	opts := DefaultOptions(IntegratedGradients)
	opts.Steps = 256
	e := explainer(t, m, opts)
	imgs := images(2, 7)
	ig, err := e.signedIG(imgs, size)
	if err != nil {
		t.Fatal(err)
	}
	zero := make([]float32, size*size)
	for n, x := range imgs {
		for k := range numK {
			var sum float64
			for _, v := range ig[n][k] {
				sum += float64(v)
			}
			closeTo(t, "sum IG", float32(sum), m.hostLogit(x, k)-m.hostLogit(zero, k), 1e-2)
		}
	}
}

// TestOcclusion: the map is the mean over covering patches of the probability drop, checked on one pixel per
// region against a direct host computation of the patches' drops.
func TestOcclusion(t *testing.T) {
	m := newNet(4, true)
	opts := DefaultOptions(Occlusion)
	opts.Window, opts.Stride = 4, 2
	e := explainer(t, m, opts)
	imgs := images(1, 9)
	r, err := e.Explain(imgs, size)
	if err != nil {
		t.Fatal(err)
	}
	softmax := func(x []float32) []float64 {
		z := make([]float64, numK)
		var s float64
		for k := range z {
			z[k] = math.Exp(m.hostLogit(x, k))
			s += z[k]
		}
		for k := range z {
			z[k] /= s
		}
		return z
	}
	p := softmax(imgs[0])
	for _, px := range [][2]int{{0, 0}, {3, 3}, {5, 2}, {7, 7}} {
		var sum [numK]float64
		count := 0
		for y0 := 0; y0+4 <= size; y0 += 2 {
			for x0 := 0; x0+4 <= size; x0 += 2 {
				if px[0] < y0 || px[0] >= y0+4 || px[1] < x0 || px[1] >= x0+4 {
					continue
				}
				occ := append([]float32(nil), imgs[0]...)
				for y := y0; y < y0+4; y++ {
					clear(occ[y*size+x0 : y*size+x0+4])
				}
				po := softmax(occ)
				for k := range numK {
					sum[k] += p[k] - po[k]
				}
				count++
			}
		}
		for k := range numK {
			closeTo(t, "occlusion", r.Raw[0][k][px[0]*size+px[1]], math.Max(sum[k]/float64(count), 0), 1e-4)
		}
	}
}
