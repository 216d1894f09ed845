package resnet

import (
	"fmt"
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
	}
}

// Model is the NEU ResNet. scope is the store's root scope (variables live under "resnet/...").
// images: [B,S,S,1] float32 in [0,1]. Returns logits [B,K] (K = the config's NumClasses) and the post-ReLU feature maps
// "stem", "layer1".."layer4", each [B,h,w,C]. The head is GAP + dense, so CAM applies to "layer4".
// Batch norm uses batch statistics when the graph is a training graph, running averages otherwise.
func Model(scope *model.Scope, images *Node) (logits *Node, features map[string]*Node) {
	cfg := ConfigFromStore(scope.Store())
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	if images.Rank() != 4 || images.Shape().Dimensions[3] != 1 {
		exceptions.Panicf("resnet.Model: images must be [B,S,S,1], got %s", images.Shape())
	}
	s := scope.In("resnet")
	x := MulScalar(AddScalar(images, -cfg.Mean), 1/cfg.Std)
	features = make(map[string]*Node, len(LayerNames))

	stem := s.In("stem")
	x = activation.Relu(batchNorm(stem.In("bn"), Conv2D(stem.In("conv"), x, cfg.Widths[0], 3, cfg.Strides[0])))
	features["stem"] = x
	for i, w := range cfg.Widths {
		name := LayerNames[i+1]
		x = basicBlock(s.In("%s", name), x, w, cfg.Strides[i+1])
		features[name] = x
	}

	numClasses := cfg.NumClasses()
	head := s.In("head")
	pooled := ReduceMean(x, 1, 2) // GAP: [B,C]
	c := pooled.Shape().Dimensions[1]
	wv := head.WithInitializer(initializer.XavierUniformFn(head)).
		VariableWithShape("weights", shapes.Make(x.DType(), c, numClasses))
	bv := head.WithInitializer(initializer.Zero).VariableWithShape("biases", shapes.Make(x.DType(), numClasses))
	g := x.Graph()
	logits = Add(Dot(pooled, wv.NodeValue(g)).Product(), Reshape(bv.NodeValue(g), 1, numClasses))
	return logits, features
}

// basicBlock: relu(bn2(conv3x3(relu(bn1(conv3x3(x, stride))))) + shortcut), the shortcut being a
// 1x1 conv + BN when the shape changes.
func basicBlock(s *model.Scope, x *Node, width, stride int) *Node {
	y := activation.Relu(batchNorm(s.In("bn1"), Conv2D(s.In("conv1"), x, width, 3, stride)))
	y = batchNorm(s.In("bn2"), Conv2D(s.In("conv2"), y, width, 3, 1))
	shortcut := x
	if stride != 1 || x.Shape().Dimensions[3] != width {
		shortcut = batchNorm(s.In("down_bn"), Conv2D(s.In("down_conv"), x, width, 1, stride))
	}
	return activation.Relu(Add(y, shortcut))
}

// Batch-norm constants, as PyTorch's defaults so the PyTorch twin matches exactly.
const (
	bnEpsilon  = 1e-5
	bnMomentum = 0.1
)

// batchNorm over the channels (last axis) of x [B,H,W,C]. Variables: "scale", "offset" (trainable),
// "mean", "variance" (running averages). It is written out here rather than norm.BatchNorm because
// the pure-Go backend lacks BatchNormForTraining and because the gradient must flow through the batch
// statistics (norm.BatchNorm's graph version stops it).
func batchNorm(s *model.Scope, x *Node) *Node {
	g := x.Graph()
	c := x.Shape().Dimensions[x.Rank()-1]
	vs := shapes.Make(x.DType(), c)
	scale := s.WithInitializer(initializer.One).VariableWithShape("scale", vs)
	offset := s.WithInitializer(initializer.Zero).VariableWithShape("offset", vs)
	meanVar := s.WithInitializer(initializer.Zero).VariableWithShape("mean", vs).SetTrainable(false)
	varVar := s.WithInitializer(initializer.One).VariableWithShape("variance", vs).SetTrainable(false)

	var mean, variance *Node
	if s.IsTraining(g) {
		axes := []int{0, 1, 2}
		mean = ReduceMean(x, axes...)
		variance = ReduceMean(Square(Sub(x, Reshape(mean, 1, 1, 1, c))), axes...)
		m := bnMomentum
		meanVar.SetNodeValue(Add(MulScalar(meanVar.NodeValue(g), 1-m), MulScalar(StopGradient(mean), m)))
		varVar.SetNodeValue(Add(MulScalar(varVar.NodeValue(g), 1-m), MulScalar(StopGradient(variance), m)))
	} else {
		mean = meanVar.NodeValue(g)
		variance = varVar.NodeValue(g)
	}
	// y = (x-mean) * scale/sqrt(var+eps) + offset, folded into one multiply-add per element.
	mul := Mul(scale.NodeValue(g), Reciprocal(Sqrt(AddScalar(variance, bnEpsilon))))
	add := Sub(offset.NodeValue(g), Mul(mean, mul))
	return Add(Mul(x, Reshape(mul, 1, 1, 1, c)), Reshape(add, 1, 1, 1, c))
}
