package gradcam

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/support/exceptions"
	"github.com/pkg/errors"
)

// Method names a CAM method. Each one only says how channel weights (or the map itself) come from the target layer's
// activations A [B,h,w,C] and the gradients G [B,T,h,w,C] of the T target scores (logits, before softmax) with
// respect to A; the engine (engine.go) does everything else: one forward, the gradients, ReLU, fusion, TTA, noise,
// upsampling and normalisation. Formulas follow pytorch-grad-cam (jacobgil), noted per method.
type Method string

const (
	// CAM (Zhou et al. 2016): w_kc = head dense weight W[c,k]; needs Options.HeadWeights (GAP + dense nets).
	CAM Method = "cam"
	// GradCAM (Selvaraju et al. 2017): w_c = mean over positions of G.
	GradCAM Method = "gradcam"
	// GradCAMPlusPlus (Chattopadhay et al. 2018): w_c = sum_ij relu(G) * a_ij,
	// a_ij = G^2 / (2G^2 + sum_ij(A) G^3), 0 where G == 0 or the denominator is 0.
	GradCAMPlusPlus Method = "gradcam++"
	// XGradCAM (Fu et al. 2020): w_c = sum_ij G * A / sum_ij(A), 0 where sum_ij(A) == 0.
	XGradCAM Method = "xgradcam"
	// HiResCAM (Draelos & Carin 2020): map = sum_c G * A, element-wise (no spatial averaging).
	HiResCAM Method = "hirescam"
	// LayerCAM (Jiang et al. 2021): map = sum_c relu(G) * A.
	LayerCAM Method = "layercam"
	// EigenCAM (Muhammad & Yeasin 2020): projection of the position-centred activations on their first principal
	// component; class-independent (the same map for every class). Sign chosen to correlate positively with the
	// channel-mean activation.
	EigenCAM Method = "eigencam"
	// ScoreCAM (Wang et al. 2020): w_kc = softmax(model(x * up(norm(A_c))))[k]: each channel, upsampled to the
	// input size and min-max normalised, masks the input; the masked forward's class probability is the weight.
	// Gradient-free; costs one forward per channel (bounded by Options.ScoreCAMTopK).
	ScoreCAM Method = "scorecam"
	// AblationCAM (Desai & Ramaswamy 2020): w_kc = (z_k - z_k^(c)) / z_k, z_k^(c) the logit with channel c of the
	// target layer set to 0 (pytorch-grad-cam's ablation for a layer whose minimum is 0, as after a ReLU).
	// Gradient-free; one forward per channel (bounded by Options.ScoreCAMTopK), all classes from the same forwards.
	AblationCAM Method = "ablationcam"
	// EigenGradCAM (pytorch-grad-cam): EigenCAM of the element-wise product G * A, per class; sign as EigenCAM's
	// (positive covariance with the channel mean of G * A, i.e. with HiResCAM's map).
	EigenGradCAM Method = "eigengradcam"
	// FinerCAM (Zhang et al. 2025, pytorch-grad-cam's FinerWeightedTarget): Grad-CAM of the score
	// sum_j p_j (z_k - z_j) / (sum_j p_j + 1e-9) over the 3 classes j whose logits are nearest z_k (alpha = 1):
	// what sets class k apart from the classes it is confused with.
	FinerCAM Method = "finercam"
	// FEM (Fuad et al. 2020): w_c = share of positions where A_c > mean(A_c) + 2 std(A_c); map = sum_c w_c A_c.
	// Gradient-free and class-independent.
	FEM Method = "fem"
)

// Methods lists every method, in a stable order.
var Methods = []Method{CAM, GradCAM, GradCAMPlusPlus, XGradCAM, HiResCAM, LayerCAM, EigenCAM, ScoreCAM, AblationCAM,
	EigenGradCAM, FinerCAM, FEM}

// methodSpec is all a method contributes to the engine: channel weights, a spatial map, or (host) maps computed on
// the host from the layer's activations with extra forward passes. Adding a method = one entry in methodSpecs (plus
// its Method constant); the engine never tests which method it runs.
type methodSpec struct {
	needsGrad bool
	// score replaces the class scores [B,K] (from the logits [B,K]) whose gradients the method uses; nil = the
	// logits (or log-probabilities, Options.Score).
	score func(logits *Node) *Node
	// check validates the options for this method (e.g. CAM needs HeadWeights); nil = nothing to check.
	check func(o Options) error
	// weights returns channel weights [B,T,C] from a [B,h,w,C] and g [B,T,h,w,C] (g nil when !needsGrad).
	weights func(c *layerCtx, a, g *Node) *Node
	// spatial returns the map [B,T,h,w] (before ReLU) directly; T is g's (or 1 when g is nil).
	spatial func(c *layerCtx, a, g *Node) *Node
	// host computes the maps [n][T][h*w] (before ReLU) on the host from the activations; the graph then outputs
	// the activations [B,h,w,C] of the layer instead of maps.
	host func(e *Explainer, in hostInput) ([][][]float32, error)
	// pgc, when set, is the variant used with Options.PGC (pytorch-grad-cam's own formula where ours differs).
	pgc *methodSpec
}

// layerCtx is what a graph-side method may use besides the activations and gradients of one target layer.
type layerCtx struct {
	scope      *model.Scope
	opts       *Options
	layer      string
	numClasses int
	onehot     *Node // [B,K] one-hot of the target class per image; nil when all classes are explained
}

// hostInput is one batch of a host-side method's input: the (transformed) images, the activations acts [n,h,w,C]
// (flat), the number of classes and the target class per image (nil: all classes).
type hostInput struct {
	layer         string
	images        [][]float32
	size          int
	acts          []float32
	h, w, c, numK int
	targets       []int
}

var methodSpecs = map[Method]methodSpec{
	CAM: {check: needHeadWeights, weights: camWeights},
	GradCAM: {needsGrad: true, weights: func(_ *layerCtx, a, g *Node) *Node {
		return ReduceMean(g, 2, 3)
	}},
	GradCAMPlusPlus: {needsGrad: true, weights: gradCAMPlusPlusWeights,
		pgc: &methodSpec{needsGrad: true, weights: gradCAMPlusPlusWeightsPGC}},
	XGradCAM: {needsGrad: true, weights: func(_ *layerCtx, a, g *Node) *Node {
		sumA := ExpandAxes(ReduceSum(a, 1, 2), 1, 2, 3)
		return ReduceSum(safeDiv(Mul(g, ExpandAxes(a, 1)), sumA), 2, 3)
	}},
	HiResCAM: {needsGrad: true, spatial: func(_ *layerCtx, a, g *Node) *Node {
		return ReduceSum(Mul(g, ExpandAxes(a, 1)), -1)
	}},
	LayerCAM: {needsGrad: true, spatial: func(_ *layerCtx, a, g *Node) *Node {
		return ReduceSum(Mul(relu(g), ExpandAxes(a, 1)), -1)
	}},
	EigenCAM: {spatial: func(_ *layerCtx, a, _ *Node) *Node {
		return ExpandAxes(eigenProjection(a), 1)
	}, pgc: &methodSpec{host: eigenCAMPGC}},
	ScoreCAM:    {host: (*Explainer).scoreCAM, pgc: &methodSpec{host: (*Explainer).scoreCAMPGC}},
	AblationCAM: {host: (*Explainer).ablationCAM},
	EigenGradCAM: {needsGrad: true, spatial: func(_ *layerCtx, a, g *Node) *Node {
		dims := g.Shape().Dimensions // [B,T,h,w,C]
		ga := Reshape(Mul(g, ExpandAxes(a, 1)), dims[0]*dims[1], dims[2], dims[3], dims[4])
		return Reshape(eigenProjection(ga), dims[0], dims[1], dims[2], dims[3])
	}},
	FinerCAM: {needsGrad: true, score: finerScores, weights: func(_ *layerCtx, a, g *Node) *Node {
		return ReduceMean(g, 2, 3)
	}},
	FEM: {spatial: func(_ *layerCtx, a, _ *Node) *Node {
		mean := ReduceAndKeep(a, ReduceMean, 1, 2)
		std := Sqrt(ReduceAndKeep(Square(Sub(a, mean)), ReduceMean, 1, 2)) // population std, as np.std
		th := Add(mean, MulScalar(std, 2))
		w := ReduceMean(ConvertDType(GreaterThan(a, th), a.DType()), 1, 2) // [B,C]
		return weightedMap(a, ExpandAxes(w, 1))                            // [B,1,h,w]
	}},
}

// finerComparisons is how many nearest classes FinerCAM contrasts with (pytorch-grad-cam's comparison_categories
// [1,2,3]); fewer when the model has fewer classes.
const finerComparisons = 3

// finerScores are FinerCAM's scores [B,K]: for main class k, sum_j p_j (z_k - z_j) / (sum_j p_j + 1e-9) over the
// finerComparisons classes j != k whose logits are nearest z_k (ties broken by class index). The choice of classes
// carries no gradient; p_j = softmax(z)_j does.
func finerScores(logits *Node) *Node {
	numK := logits.Shape().Dimensions[1]
	b := logits.Shape().Dimensions[0]
	zk := ExpandAxes(logits, 2)            // [B,K,1]: main class k
	zj := ExpandAxes(logits, 1)            // [B,1,K]: other class j
	dist := StopGradient(Abs(Sub(zk, zj))) // [B,K,K]
	dj := ExpandAxes(dist, 3)              // [B,K,J,1]
	dj2 := ExpandAxes(dist, 2)             // [B,K,1,J']
	idx := Iota(logits.Graph(), shapes.Make(dtypes.Int32, numK, numK), 0)
	lowerIdx := LessThan(Transpose(idx, 0, 1), idx) // [J,J']: j' < j
	before := Or(LessThan(dj2, dj), And(Equal(dj2, dj), BroadcastToDims(ExpandAxes(lowerIdx, 0, 1), b, numK, numK, numK)))
	rank := ReduceSum(ConvertDType(before, logits.DType()), 3) // [B,K,J]: 0 for the main class itself
	n := float64(min(finerComparisons, numK-1))
	sel := And(GreaterOrEqual(rank, OnesLike(rank)), LessOrEqual(rank, AddScalar(ZerosLike(rank), n)))
	p := ExpandAxes(Softmax(logits, -1), 1) // [B,1,J]
	wp := Where(sel, BroadcastToShape(p, sel.Shape()), ZerosLike(rank))
	num := ReduceSum(Mul(wp, Sub(zk, zj)), 2)
	return Div(num, AddScalar(ReduceSum(wp, 2), 1e-9))
}

// gradCAMPlusPlusWeights: w_c = sum_ij relu(G) a_ij with a_ij = G^2 / (2G^2 + sum_ij(A) G^3); 0 where G == 0 or the
// denominator is 0.
func gradCAMPlusPlusWeights(_ *layerCtx, a, g *Node) *Node {
	g2, den := gradCAMPlusPlusTerms(a, g)
	return ReduceSum(Mul(relu(g), safeDiv(g2, den)), 2, 3)
}

// gradCAMPlusPlusWeightsPGC is pytorch-grad-cam's variant: a_ij = G^2 / (2G^2 + sum_ij(A) G^3 + 1e-6), 0 where
// G == 0. The eps matters where G^2 is of the order of 1e-6 or below (a deep layer's gradients often are).
func gradCAMPlusPlusWeightsPGC(_ *layerCtx, a, g *Node) *Node {
	g2, den := gradCAMPlusPlusTerms(a, g)
	aij := safeDiv(g2, AddScalar(den, 1e-6))
	aij = Where(NotEqual(g, ZerosLike(g)), aij, ZerosLike(aij))
	return ReduceSum(Mul(relu(g), aij), 2, 3)
}

// gradCAMPlusPlusTerms returns G^2 and the alpha denominator 2G^2 + sum_ij(A) G^3.
func gradCAMPlusPlusTerms(a, g *Node) (g2, den *Node) {
	g2 = Square(g)
	sumA := ExpandAxes(ReduceSum(a, 1, 2), 1, 2, 3) // [B,1,1,1,C]
	return g2, Add(MulScalar(g2, 2), Mul(sumA, Mul(g2, g)))
}

// needHeadWeights is CAM's check: the dense head's weights must be given.
func needHeadWeights(o Options) error {
	if o.HeadWeights == nil {
		return errors.Errorf("method %q needs Options.HeadWeights (the dense head's [C,K] weights)", o.Method)
	}
	return nil
}

// camWeights are CAM's channel weights [B,T,C]: the dense head's W[c,k] for each explained class k.
func camWeights(c *layerCtx, a, _ *Node) *Node {
	dims := a.Shape().Dimensions
	w := asF32(c.opts.HeadWeights(c.scope, a.Graph())) // [C,K]
	if w.Rank() != 2 || w.Shape().Dimensions[0] != dims[3] || w.Shape().Dimensions[1] != c.numClasses {
		exceptions.Panicf("gradcam: CAM head weights have shape %s, want [%d, %d] (layer %q channels x classes)",
			w.Shape(), dims[3], c.numClasses, c.layer)
	}
	if c.onehot != nil {
		return ExpandAxes(Einsum("bk,ck->bc", c.onehot, w), 1)
	}
	return BroadcastToDims(ExpandAxes(Transpose(w, 0, 1), 0), dims[0], c.numClasses, dims[3])
}

// safeDiv is num/den with 0 wherever den == 0 (the Where also keeps the unused branch's Inf/NaN out of gradients).
func safeDiv(num, den *Node) *Node {
	zero := ScalarZero(den.Graph(), den.DType())
	nonZero := NotEqual(den, zero)
	safeDen := Where(nonZero, den, OnesLike(den))
	return Where(BroadcastToShape(nonZero, num.Shape()), Div(num, safeDen), ZerosLike(num))
}

// weightedMap is sum_c w[b,t,c] * a[b,h,w,c] -> [B,T,h,w].
func weightedMap(a, w *Node) *Node {
	return Einsum("bhwc,btc->bthw", a, w)
}

// eigenSquarings is how many times the Gram matrix is squared: the first principal direction then dominates the
// second by (l2/l1)^(2^k), about 1e-9 even for a 0.995 eigenvalue ratio.
const eigenSquarings = 12

// eigenProjection returns, per image, the projection [B,h,w] of the position-centred activations X (rows:
// positions, columns: channels) on their first right singular vector v1, i.e. X v1 = s1 u1 (what pytorch-grad-cam's
// get_2d_projection computes with an SVD). It works on the smaller Gram matrix (X X^T or X^T X), whose top
// eigenvector it finds by repeated squaring with Frobenius normalisation, so it is exact up to float32 rounding and
// costs O(n^3 * 12) with n = min(h*w, C). Sign: positive covariance with the channel-mean activation map.
func eigenProjection(a *Node) *Node {
	dims := a.Shape().Dimensions
	b, h, w, c := dims[0], dims[1], dims[2], dims[3]
	g := a.Graph()
	x := Reshape(a, b, h*w, c)
	x = Sub(x, ReduceAndKeep(x, ReduceMean, 1)) // centre each channel over positions
	var gram *Node
	usePositions := h*w <= c
	if usePositions {
		gram = Einsum("bpc,bqc->bpq", x, x) // X X^T [B,hw,hw]
	} else {
		gram = Einsum("bpc,bpd->bcd", x, x) // X^T X [B,C,C]
	}
	n := gram.Shape().Dimensions[1]
	p := normalizeFrobenius(gram)
	for range eigenSquarings {
		p = normalizeFrobenius(Einsum("bij,bjk->bik", p, p))
	}
	// p ~ v v^T: its column with the largest diagonal entry is v_i * v, a non-zero multiple of v.
	diag := ReduceSum(Mul(p, BroadcastToShape(Reshape(eyeF32(g, n), 1, n, n), p.Shape())), 2) // [B,n]
	pick := OneHot(ArgMax(diag, 1), n, p.DType())                                             // [B,n]
	v := Einsum("bij,bj->bi", p, pick)
	v = Div(v, Sqrt(AddScalar(ReduceAndKeep(Square(v), ReduceSum, 1), 1e-30)))
	var proj *Node // [B,hw]
	if usePositions {
		// v = u1; X v1 = X X^T u1 / s1 = gram u1 / sqrt(u1^T gram u1).
		gu := Einsum("bij,bj->bi", gram, v)
		s := Sqrt(relu(ReduceAndKeep(Mul(gu, v), ReduceSum, 1)))
		proj = safeDiv(gu, BroadcastToShape(s, gu.Shape()))
	} else {
		proj = Einsum("bpc,bc->bp", x, v)
	}
	// Sign: SVD's sign is arbitrary; pick the one that correlates positively with the mean activation.
	meanMap := ReduceMean(Reshape(a, b, h*w, c), 2)
	meanMap = Sub(meanMap, ReduceAndKeep(meanMap, ReduceMean, 1))
	cov := ReduceAndKeep(Mul(proj, meanMap), ReduceSum, 1)
	sign := Where(LessThan(cov, ZerosLike(cov)), MulScalar(OnesLike(cov), -1), OnesLike(cov))
	proj = Mul(proj, sign)
	return Reshape(proj, b, h, w)
}

func normalizeFrobenius(m *Node) *Node {
	norm := Sqrt(ReduceAndKeep(Square(m), ReduceSum, 1, 2))
	return safeDiv(m, BroadcastToShape(norm, m.Shape()))
}

func eyeF32(g *Graph, n int) *Node {
	flat := make([]float32, n*n)
	for i := range n {
		flat[i*n+i] = 1
	}
	return Reshape(Const(g, flat), n, n)
}

// sanitize replaces NaN/Inf by 0 so a bad activation or gradient can't poison a whole map.
func sanitize(x *Node) *Node {
	return Where(IsFinite(x), x, ZerosLike(x))
}

// asF32 converts to float32 (features of half-precision models) so all CAM arithmetic is float32.
func asF32(x *Node) *Node {
	if x.DType() != dtypes.Float32 {
		return ConvertDType(x, dtypes.Float32)
	}
	return x
}

// mustRank4 panics (graph-building error) with a clear message when a feature map is not [B,h,w,C].
func mustRank4(name string, x *Node) {
	if x.Rank() != 4 {
		exceptions.Panicf("gradcam: feature %q has shape %s, want [batch, h, w, channels]", name, x.Shape())
	}
}

func relu(x *Node) *Node { return MaxScalar(x, 0) }
