package gradcam

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
	"github.com/gomlx/gomlx/ml/model"
)

// A tiny random CNN with the resnet.Model signature, for tests and benchmarks (never the real NEU ResNet):
//
//	images [B,S,S,1] -> conv3x3(1->c1) "stem" [S,S,c1] -> conv3x3 stride 2 (c1->c2) "layer1" [S/2,S/2,c2]
//	-> conv3x3 (c2->c3) "layer2" [S/2,S/2,c3] -> GAP -> dense c3->K "head" (logits)
//
// Convs pad 1 on each side (PyTorch's padding=1), so bench/cam's PyTorch twin matches exactly.
// symmetric: kernels invariant under the 8 symmetries of the square and the stride-2 conv replaced by a 2x2 mean
// pool + 3x3 conv, so every feature map is equivariant to flips and quarter turns (for TTA tests).
type tinyConfig struct {
	c1, c2, c3, classes int
	softplus            bool // smooth activations (finite-difference tests), else ReLU
	symmetric           bool
	zeroHead            bool // logits = 0 * dense + bias: every gradient is exactly zero
	f64                 bool // float64 weights and activations (precise finite differences)
}

func (cfg tinyConfig) dtype() dtypes.DType {
	if cfg.f64 {
		return dtypes.Float64
	}
	return dtypes.Float32
}

var defaultTiny = tinyConfig{c1: 6, c2: 8, c3: 10, classes: 6}

func (cfg tinyConfig) act(x *Node) *Node {
	if cfg.softplus {
		// log(1+exp(x)), written out so it is smooth and differentiable on every backend.
		return Log1p(Exp(x))
	}
	return MaxScalar(x, 0)
}

func conv3x3(scope *model.Scope, x *Node, in, out, stride int) *Node {
	w := scope.VariableWithShape("weights", shapes.Make(x.DType(), 3, 3, in, out)).NodeValue(x.Graph())
	b := scope.VariableWithShape("bias", shapes.Make(x.DType(), out)).NodeValue(x.Graph())
	y := Convolve(x, w).StridePerAxis(stride, stride).PaddingPerDim([][2]int{{1, 1}, {1, 1}}).Done()
	return Add(y, Reshape(b, 1, 1, 1, out))
}

// stem computes the first feature map.
func (cfg tinyConfig) stem(scope *model.Scope, images *Node) *Node {
	return cfg.act(conv3x3(scope.In("conv1"), ConvertDType(images, cfg.dtype()), 1, cfg.c1, 1))
}

// fromStem computes everything after the stem: the head as a function of the "stem" feature map.
func (cfg tinyConfig) fromStem(scope *model.Scope, stem *Node) (logits *Node, feats map[string]*Node) {
	var l1 *Node
	if cfg.symmetric {
		l1 = cfg.act(conv3x3(scope.In("conv2"), MeanPool(stem).Window(2).Strides(2).Done(), cfg.c1, cfg.c2, 1))
	} else {
		l1 = cfg.act(conv3x3(scope.In("conv2"), stem, cfg.c1, cfg.c2, 2))
	}
	l2 := cfg.act(conv3x3(scope.In("conv3"), l1, cfg.c2, cfg.c3, 1))
	gap := ReduceMean(l2, 1, 2)
	hs := scope.In("head")
	w := hs.VariableWithShape("weights", shapes.Make(cfg.dtype(), cfg.c3, cfg.classes)).NodeValue(stem.Graph())
	b := hs.VariableWithShape("bias", shapes.Make(cfg.dtype(), cfg.classes)).NodeValue(stem.Graph())
	logits = Dot(gap, w).Product()
	if cfg.zeroHead {
		logits = MulScalar(logits, 0)
	}
	logits = Add(logits, Reshape(b, 1, cfg.classes))
	return logits, map[string]*Node{"layer1": l1, "layer2": l2}
}

func (cfg tinyConfig) model(scope *model.Scope, images *Node) (*Node, map[string]*Node) {
	s := cfg.stem(scope, images)
	logits, feats := cfg.fromStem(scope, s)
	feats["stem"] = s
	return logits, feats
}

// newTinyStore fills a store with seeded random weights (He-like scale, small random biases).
func newTinyStore(t testing.TB, cfg tinyConfig, seed uint64) *model.Store {
	store := model.NewStore()
	rng := rand.New(rand.NewPCG(seed, 1))
	root := store.RootScope()
	convs := []struct {
		name    string
		in, out int
	}{{"conv1", 1, cfg.c1}, {"conv2", cfg.c1, cfg.c2}, {"conv3", cfg.c2, cfg.c3}}
	for _, c := range convs {
		std := math.Sqrt(2 / float64(9*c.in))
		w := make([]float32, 9*c.in*c.out)
		if cfg.symmetric {
			// [ky,kx,in,out]: corner, edge and centre values shared by the dihedral orbits of the 3x3 grid.
			for io := range c.in * c.out {
				corner, edge, centre := rng.NormFloat64()*std, rng.NormFloat64()*std, rng.NormFloat64()*std
				for ky := range 3 {
					for kx := range 3 {
						v := centre
						switch {
						case ky != 1 && kx != 1:
							v = corner
						case ky != 1 || kx != 1:
							v = edge
						}
						w[(ky*3+kx)*c.in*c.out+io] = float32(v)
					}
				}
			}
		} else {
			for i := range w {
				w[i] = float32(rng.NormFloat64() * std)
			}
		}
		mustCreate(t, root.At("%s", c.name), "weights", cfg.tensor(w, 3, 3, c.in, c.out))
		mustCreate(t, root.At("%s", c.name), "bias", cfg.tensor(randSlice(rng, c.out, 0.1), c.out))
	}
	mustCreate(t, root.At("head"), "weights", cfg.tensor(randSlice(rng, cfg.c3*cfg.classes, 1), cfg.c3, cfg.classes))
	mustCreate(t, root.At("head"), "bias", cfg.tensor(randSlice(rng, cfg.classes, 0.1), cfg.classes))
	return store
}

func (cfg tinyConfig) tensor(v []float32, dims ...int) *tensors.Tensor {
	if !cfg.f64 {
		return tensors.FromFlatDataAndDimensions(v, dims...)
	}
	v64 := make([]float64, len(v))
	for i, x := range v {
		v64[i] = float64(x)
	}
	return tensors.FromFlatDataAndDimensions(v64, dims...)
}

func mustCreate(t testing.TB, scope *model.Scope, name string, v *tensors.Tensor) {
	if _, err := scope.CreateVariable(name, v); err != nil {
		t.Fatalf("creating variable %s/%s: %v", scope.Scope(), name, err)
	}
}

func randSlice(rng *rand.Rand, n int, std float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64() * std)
	}
	return s
}

// randImages returns n smooth-ish random images in [0,1] (blobs, so maps have structure).
func randImages(n, size int, seed uint64) [][]float32 {
	rng := rand.New(rand.NewPCG(seed, 2))
	imgs := make([][]float32, n)
	for i := range imgs {
		img := make([]float32, size*size)
		for range 3 {
			cx, cy := rng.Float64()*float64(size), rng.Float64()*float64(size)
			r := 1.5 + rng.Float64()*float64(size)/4
			amp := rng.Float64()
			for y := range size {
				for x := range size {
					d2 := (float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy)
					img[y*size+x] += float32(amp * math.Exp(-d2/(2*r*r)))
				}
			}
		}
		for j := range img {
			img[j] = float32(math.Min(1, float64(img[j])+0.1*rng.Float64()))
		}
		imgs[i] = img
	}
	return imgs
}

func testBackend(t testing.TB) compute.Backend {
	b, err := compute.New()
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	return b
}

// features runs the model and returns one feature map, flat [N,h,w,C], with its dims.
func features(t testing.TB, backend compute.Backend, store *model.Store, fn ModelFn, images [][]float32, size int, layer string) ([]float32, []int) {
	t.Helper()
	// Logits are returned too (and dropped): the Go backend fails at run time on graphs with unused parameters.
	outs, err := model.CallOnceN(backend, store, func(scope *model.Scope, x *Node) []*Node {
		logits, f := fn(scope, x)
		return []*Node{ConvertDType(f[layer], dtypes.Float32), logits}
	}, batchTensor(images, size, len(images)))
	if err != nil {
		t.Fatalf("features %q: %v", layer, err)
	}
	out := outs[0]
	return tensors.MustCopyFlatData[float32](out), out.Shape().Dimensions
}

// variable reads a store variable as a flat slice.
func variable(t testing.TB, store *model.Store, path string) []float32 {
	t.Helper()
	v := store.GetVariable(path)
	if v == nil {
		t.Fatalf("no variable %q", path)
	}
	val, err := v.Value()
	if err != nil {
		t.Fatal(err)
	}
	if val.DType() == dtypes.Float64 {
		v64 := tensors.MustCopyFlatData[float64](val)
		out := make([]float32, len(v64))
		for i, x := range v64 {
			out[i] = float32(x)
		}
		return out
	}
	return tensors.MustCopyFlatData[float32](val)
}
