package resnet

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gomlx/compute/shapes"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/support/exceptions"
	"github.com/neucam/neucam/neu"
)

// LayerNames are the feature maps Model returns, from the finest (stem) to the last residual stage.
var LayerNames = []string{"stem", "layer1", "layer2", "layer3", "layer4"}

// Store parameter keys holding the architecture, so a checkpoint knows how to rebuild its model.
const (
	ParamSize    = "resnet_size"
	ParamWidths  = "resnet_widths"
	ParamStrides = "resnet_strides"
	ParamMean    = "resnet_mean"
	ParamStd     = "resnet_std"
	ParamClasses = "resnet_classes" // []string; absent in models saved before it existed: NEU's six classes
	ParamPadding = "resnet_padding"
	ParamHead    = "resnet_head"
	ParamPool    = "resnet_head_param"
)

// Padding modes of the 3x3 convolutions (Config.Padding).
const (
	// PadZeros pads with zeros (PyTorch's default): the image edge becomes a feature the network can use.
	PadZeros = "zeros"
	// PadReflect mirrors the rows/columns next to the edge (PyTorch's padding_mode="reflect"): no artificial
	// edge at the border of the image or of any feature map.
	PadReflect = "reflect"
)

// Heads (Config.Head): how the last feature map becomes the class logits.
const (
	// HeadGAP: global average pooling, then a dense layer (== a 1x1 convolution to one map per class, then
	// average pooling: the class maps are the CAMs).
	HeadGAP = "gap"
	// HeadLSE: a 1x1 convolution to one map per class, then log-sum-exp pooling of each map,
	// (log mean exp(r*m))/r with r = Config.HeadParam: between average (r -> 0) and max pooling.
	HeadLSE = "lse"
	// HeadTopK: a 1x1 convolution to one map per class, then the mean of the largest HeadParam fraction of
	// each map's cells.
	HeadTopK = "topk"
	// HeadMix: a 1x1 convolution to one map per class, then the mean of average pooling and log-sum-exp pooling
	// (r = HeadParam): every cell gets gradient (as with gap) while the strongest cells dominate the score.
	HeadMix = "mix"
)

// Config is the architecture of the network; it is stored as store params (SetConfig) and saved with
// every checkpoint.
type Config struct {
	Size    int     // input side S: images are [B,S,S,1]
	Widths  []int   // channels of layer1..layer4 (the stem uses Widths[0])
	Strides []int   // strides of stem, layer1, .., layer4
	Mean    float64 // input normalisation inside the graph: (x-Mean)/Std
	Std     float64
	// Classes are the class names, in logit order. Empty means NEU-DET's six (neu.Classes): SetConfig then
	// stores none, and ConfigFromStore reads a model without them (any model saved before they were stored) as NEU.
	Classes []string
	// Padding of the 3x3 convolutions: PadZeros or PadReflect. "" reads as PadZeros (models saved before
	// the option existed).
	Padding string
	// Head: HeadGAP, HeadLSE or HeadTopK; "" reads as HeadGAP. HeadParam is LSE's r or top-k's fraction.
	Head      string
	HeadParam float64
}

// legacy are the values of options that did not exist when older checkpoints were saved.
var legacy = Config{Padding: PadZeros, Head: HeadGAP}

func (c Config) padding() string { return cmp.Or(c.Padding, legacy.Padding) }
func (c Config) head() string    { return cmp.Or(c.Head, legacy.Head) }

// validateHead checks the padding and head options.
func (c Config) validateHead() error {
	if c.Padding != "" && c.Padding != PadZeros && c.Padding != PadReflect {
		return fmt.Errorf("resnet config: padding %q is not %q or %q", c.Padding, PadZeros, PadReflect)
	}
	switch c.Head {
	case "", HeadGAP:
	case HeadLSE, HeadMix:
		if c.HeadParam <= 0 {
			return fmt.Errorf("resnet config: lse head needs r > 0, got %g", c.HeadParam)
		}
	case HeadTopK:
		if c.HeadParam <= 0 || c.HeadParam > 1 {
			return fmt.Errorf("resnet config: topk head needs a fraction in (0,1], got %g", c.HeadParam)
		}
	default:
		return fmt.Errorf("resnet config: head %q is not %q, %q, %q or %q", c.Head, HeadGAP, HeadLSE, HeadTopK, HeadMix)
	}
	return nil
}

// ClassNames returns c.Classes, or NEU-DET's six classes when it is empty.
func (c Config) ClassNames() []string {
	if len(c.Classes) == 0 {
		return slices.Clone(neu.Classes)
	}
	return c.Classes
}

// NumClasses is the number of logits: len(ClassNames()).
func (c Config) NumClasses() int { return len(c.ClassNames()) }

// DefaultConfig: 128x128 input; feature maps stem 64x64, layer1 32x32, layer2..layer4 16x16.
// layer3 and layer4 keep stride 8 so CAMs are 16x16 instead of 8x8; the early downsampling keeps the
// memory-bound high-resolution layers cheap (a stride-1 layer1 at 64x64 halved training speed).
func DefaultConfig() Config {
	return Config{Size: 128, Widths: []int{16, 32, 64, 128}, Strides: []int{2, 2, 2, 1, 1}, Mean: 0.5, Std: 0.25}
}

// Validate checks the config is buildable.
func (c Config) Validate() error {
	if c.Size < 8 {
		return fmt.Errorf("resnet config: size %d too small", c.Size)
	}
	if err := c.validateHead(); err != nil {
		return err
	}
	if len(c.Widths) != 4 || len(c.Strides) != 5 {
		return fmt.Errorf("resnet config: need 4 widths and 5 strides, got %v and %v", c.Widths, c.Strides)
	}
	for _, w := range c.Widths {
		if w < 1 {
			return fmt.Errorf("resnet config: bad width in %v", c.Widths)
		}
	}
	for _, s := range c.Strides {
		if s != 1 && s != 2 {
			return fmt.Errorf("resnet config: strides must be 1 or 2, got %v", c.Strides)
		}
	}
	if c.Std <= 0 {
		return fmt.Errorf("resnet config: std must be > 0, got %g", c.Std)
	}
	return validateClasses(c.Classes)
}

// validateClasses accepts no classes (NEU's) or at least two distinct non-blank names.
func validateClasses(classes []string) error {
	if len(classes) == 0 {
		return nil
	}
	if len(classes) < 2 {
		return fmt.Errorf("resnet config: need at least 2 classes, got %q", classes)
	}
	seen := map[string]bool{}
	for _, c := range classes {
		if strings.TrimSpace(c) == "" || seen[c] {
			return fmt.Errorf("resnet config: class names must be distinct and not blank, got %q", classes)
		}
		seen[c] = true
	}
	return nil
}

// SetConfig stores the config as root params of store.
func SetConfig(store *model.Store, c Config) {
	root := store.RootScope()
	root.SetParam(ParamSize, c.Size)
	root.SetParam(ParamWidths, slices.Clone(c.Widths))
	root.SetParam(ParamStrides, slices.Clone(c.Strides))
	root.SetParam(ParamMean, c.Mean)
	root.SetParam(ParamStd, c.Std)
	if len(c.Classes) > 0 {
		root.SetParam(ParamClasses, slices.Clone(c.Classes))
	}
	root.SetParam(ParamPadding, c.padding())
	root.SetParam(ParamHead, c.head())
	root.SetParam(ParamPool, c.HeadParam)
}

// ConfigFromStore reads the architecture from store params; missing values take DefaultConfig's, and a
// model without a class list gets NEU's six classes.
func ConfigFromStore(store *model.Store) Config {
	d := DefaultConfig()
	return Config{
		Size:    model.GetRootParamOr(store, ParamSize, d.Size),
		Widths:  model.GetRootParamOr(store, ParamWidths, d.Widths),
		Strides: model.GetRootParamOr(store, ParamStrides, d.Strides),
		Mean:    model.GetRootParamOr(store, ParamMean, d.Mean),
		Std:     model.GetRootParamOr(store, ParamStd, d.Std),
		Classes: slices.Clone(model.GetRootParamOr(store, ParamClasses, neu.Classes)),
		// Absent in checkpoints saved before these options: the architecture they were trained with.
		Padding:   model.GetRootParamOr(store, ParamPadding, legacy.Padding),
		Head:      model.GetRootParamOr(store, ParamHead, legacy.Head),
		HeadParam: model.GetRootParamOr(store, ParamPool, legacy.HeadParam),
	}
}

// Model is the NEU ResNet. scope is the store's root scope (variables live under "resnet/...").
// images: [B,S,S,1] float32 in [0,1]. Returns logits [B,K] (K = the config's NumClasses) and the post-ReLU feature maps
// "stem", "layer1".."layer4", each [B,h,w,C]. The head is GAP + dense, so CAM applies to "layer4".
// Batch norm uses batch statistics when the graph is a training graph, running averages otherwise (folded
// into the convolutions). Inside, a training graph's activations are [B,H,W,C], an inference graph's channels
// first, [C,B,H,W] (see actLayout), each returned feature map transposed to [B,h,w,C] and back (the network
// goes on from it, so gradients with respect to it and rebuilds from it see the whole network).
// The batch runs as NumBatchParts parallel parts (see Parts), joined at each returned feature map so
// that gradients with respect to the features see the whole batch; use Logits when the features are
// not needed.
func Model(scope *model.Scope, images *Node) (logits *Node, features map[string]*Node) {
	logits, features, _ = forward(scope, images, true, false, NumBatchParts(images.Shape().Dimensions[0]))
	return logits, features
}

// Logits is Model without the feature maps: the parts stay apart from the input to the logits (for
// training and plain prediction).
func Logits(scope *model.Scope, images *Node) *Node {
	logits, _, _ := forward(scope, images, false, false, NumBatchParts(images.Shape().Dimensions[0]))
	return logits
}

// forward builds the network on nParts parts of the batch; withMaps also returns the class maps without bias
// (classMaps) [B, h*w, K].
func forward(scope *model.Scope, images *Node, withFeatures, withMaps bool, nParts int) (logits *Node, features map[string]*Node, maps *Node) {
	cfg := ConfigFromStore(scope.Store())
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if images.Rank() != 4 || images.Shape().Dimensions[3] != 1 {
		exceptions.Panicf("resnet.Model: images must be [B,S,S,1], got %s", images.Shape())
	}
	s := scope.In("resnet")
	l := actLayout(s, images.Graph())
	x := SplitBatch(MulScalar(AddScalar(images, -cfg.Mean), 1/cfg.Std), nParts)
	if l == cbhw { // [b,S,S,1] is [1,b,S,S]
		x = x.Map(func(y *Node) *Node { return Reshape(y, append([]int{1}, y.Shape().Dimensions[:3]...)...) })
	}
	features = make(map[string]*Node, len(LayerNames))
	keep := func(name string, x Parts) Parts {
		if !withFeatures {
			return x
		}
		joined := toNHWC(x, l).Join()
		features[name] = joined
		// The network goes on from the returned map, so gradients with respect to it see the whole network.
		return fromNHWC(SplitBatch(joined, len(x)), l)
	}

	pad := cfg.padding()
	x = keep("stem", relu(convBN(s.In("stem"), "conv", "bn", x, cfg.Widths[0], 3, cfg.Strides[0], pad)))
	for i, w := range cfg.Widths {
		name := LayerNames[i+1]
		x = keep(name, basicBlock(s.In("%s", name), x, w, cfg.Strides[i+1], pad))
	}
	head := s.In("head")
	if withMaps {
		maps = x.Map(func(y *Node) *Node { return classMaps(head, y, cfg, l) }).Join()
	}
	return x.Map(func(y *Node) *Node { return classHead(head, y, cfg, l) }).Join(), features, maps
}

// actLayout is the layout of the activations: nhwc [B,H,W,C] in training graphs (the training convolution,
// batch norm and their gradients are written for it), channels first (cbhw, [C,B,H,W]) in inference, where
// each convolution is kernel^T . cols with the output already in the next layer's layout (im2colConvCF).
func actLayout(s *model.Scope, g *Graph) layout {
	if s.IsTraining(g) {
		return nhwc
	}
	return cbhw
}

// toNHWC returns the parts in layout l as [b,h,w,C] (channels first: a transpose each).
func toNHWC(x Parts, l layout) Parts {
	if l == nhwc {
		return x
	}
	return x.Map(func(y *Node) *Node {
		d := y.Shape().Dimensions
		return Reshape(transpose2D(y, d[0]), d[1], d[2], d[3], d[0])
	})
}

// fromNHWC returns the [b,h,w,C] parts in layout l.
func fromNHWC(x Parts, l layout) Parts {
	if l == nhwc {
		return x
	}
	return x.Map(func(y *Node) *Node {
		d := y.Shape().Dimensions
		return Reshape(transpose2D(y, d[0]*d[1]*d[2]), d[3], d[0], d[1], d[2])
	})
}

// transpose2D returns x, read as a matrix of rows rows, transposed ([cols, rows]). Upstream compute's Go
// backend steps an index iterator over the axes per element: as a matrix it has only two (the patched copy in
// third_party merges the axes itself and tiles the matrix; this reshape keeps library users on upstream fast).
func transpose2D(x *Node, rows int) *Node {
	return Transpose(Reshape(x, rows, -1), 0, 1)
}

func relu(p Parts) Parts { return p.Map(activation.Relu) }

// classHead turns the last feature map x (layout l) into logits [B,K] with the variables "weights" [C,K] and
// "biases" [K] (the same for every head, so CAM's W.A is each head's class map).
func classHead(head *model.Scope, x *Node, cfg Config, l layout) *Node {
	wv, bv := headVars(head, x, cfg, l)
	if cfg.head() == HeadGAP && l == nhwc {
		return Add(Dot(ReduceMean(x, 1, 2), wv).Product(), bv)
	}
	// Class maps first: [B, h*w, K] = x . W + b, then pooled over the h*w cells (channels first, also with
	// gap: the mean of the K maps costs less than the mean of the C channels).
	if cfg.head() == HeadGAP {
		return Add(ReduceMean(classMaps(head, x, cfg, l), 1), bv)
	}
	maps := Add(classMaps(head, x, cfg, l), InsertAxes(bv, 1))
	switch cfg.head() {
	case HeadLSE:
		return lsePool(maps, cfg.HeadParam)
	case HeadMix:
		return MulScalar(Add(ReduceMean(maps, 1), lsePool(maps, cfg.HeadParam)), 0.5)
	}
	return topKPool(maps, cfg.HeadParam)
}

// headVars are the head's variables as nodes: "weights" [C,K] and "biases" as [1,K].
func headVars(head *model.Scope, x *Node, cfg Config, l layout) (weights, biases *Node) {
	c, k, g := x.Shape().Dimensions[l.c], cfg.NumClasses(), x.Graph()
	weights = head.WithInitializer(initializer.XavierUniformFn(head)).
		VariableWithShape("weights", shapes.Make(x.DType(), c, k)).NodeValue(g)
	biases = Reshape(head.WithInitializer(initializer.Zero).
		VariableWithShape("biases", shapes.Make(x.DType(), k)).NodeValue(g), 1, k)
	return weights, biases
}

// classMaps are the class maps without bias, x . W: [B, h*w, K] for the last feature map x (layout l). With the
// gap head, CAM and Grad-CAM of class k are ReLU of map k (up to the constant 1/(h*w)).
func classMaps(head *model.Scope, x *Node, cfg Config, l layout) *Node {
	dims := x.Shape().Dimensions
	b, h, w, c, k := dims[l.batch], dims[l.h], dims[l.w], dims[l.c], cfg.NumClasses()
	wv, _ := headVars(head, x, cfg, l)
	if l == nhwc {
		return Reshape(Dot(Reshape(x, b*h*w, c), wv).Product(), b, h*w, k)
	}
	maps := DotGeneral(Transpose(wv, 0, 1), []int{1}, nil, Reshape(x, c, b*h*w), []int{0}, nil) // [K, B*h*w]
	return Reshape(transpose2D(maps, k), b, h*w, k)
}

// lsePool: (log mean_i exp(r*m_i))/r over axis 1 of maps [B,N,K], stabilised by the (gradient-free) max.
func lsePool(maps *Node, r float64) *Node {
	n := maps.Shape().Dimensions[1]
	rm := MulScalar(maps, r)
	top := StopGradient(ReduceAndKeep(rm, ReduceMax, 1))
	lse := Add(Log(ReduceSum(Exp(Sub(rm, top)), 1)), Squeeze(top, 1))
	return MulScalar(AddScalar(lse, -math.Log(float64(n))), 1/r)
}

// topKPool: the mean of the k = round(frac*N) largest values along axis 1 of maps [B,N,K]; the cells are
// chosen without gradient, the mean is differentiated through the chosen values.
func topKPool(maps *Node, frac float64) *Node {
	n := maps.Shape().Dimensions[1]
	k := max(1, min(n, int(math.Round(frac*float64(n)))))
	mask := ConvertDType(TopKMask(StopGradient(maps), k, 1), maps.DType())
	return MulScalar(ReduceSum(Mul(maps, mask), 1), 1/float64(k))
}

// basicBlock: relu(bn2(conv3x3(relu(bn1(conv3x3(x, stride))))) + shortcut), the shortcut being a
// 1x1 conv + BN when the shape changes.
func basicBlock(s *model.Scope, x Parts, width, stride int, pad string) Parts {
	y := relu(convBN(s, "conv1", "bn1", x, width, 3, stride, pad))
	y = convBN(s, "conv2", "bn2", y, width, 3, 1, pad)
	shortcut := x
	if stride != 1 || x[0].Shape().Dimensions[actLayout(s, x[0].Graph()).c] != width {
		shortcut = convBN(s, "down_conv", "down_bn", x, width, 1, stride, pad)
	}
	return relu(y.Zip(shortcut, Add))
}

// convBN is batch norm (scope s.In(bn)) of the convolution (scope s.In(conv)) of each part of x: in training
// im2colConv and batchNorm ([B,H,W,C]). In inference (channels first, [C,B,H,W]) the batch norm is folded
// into the kernel: conv(x, W*m) + a, with m = scale/sqrt(var+eps) and a = offset - mean*m per output
// channel, the bias a inside the conv's matmul (im2colConvCF): no pass over the output at all.
func convBN(s *model.Scope, conv, bn string, x Parts, width, k, stride int, pad string) Parts {
	g := x[0].Graph()
	l := actLayout(s, g)
	w := convKernel(s.In("%s", conv), x[0], x[0].Shape().Dimensions[l.c], width, k)
	if l == nhwc {
		return batchNorm(s.In("%s", bn), x.Map(func(y *Node) *Node { return im2colConv(y, w, stride, pad) }))
	}
	v := newBNVars(s.In("%s", bn), w.DType(), width)
	mul, add := v.affine(g, v.mean.NodeValue(g), v.variance.NodeValue(g))
	if !foldBatchNorm { // the textbook order, to compare: convolution, then x*mul + add per channel
		perChannel := func(v *Node) *Node { return Reshape(v, width, 1, 1, 1) }
		return x.Map(func(y *Node) *Node {
			return Add(Mul(im2colConvCF(y, w, nil, stride, pad), perChannel(mul)), perChannel(add))
		})
	}
	folded := Mul(w, Reshape(mul, 1, 1, 1, width))
	return x.Map(func(y *Node) *Node { return im2colConvCF(y, folded, add, stride, pad) })
}

// foldBatchNorm: convBN folds batch norm into the kernel in inference (false only in tests, to compare).
var foldBatchNorm = true
