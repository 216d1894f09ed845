package explain

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/pkg/errors"

	"github.com/neucam/neucam/gradcam"
)

// Model is what explaining needs of a trained image classifier: a backend, its variables, the graph function with
// named feature maps, its input size and class names.
type Model struct {
	Backend     compute.Backend
	Store       *model.Store
	Fn          gradcam.ModelFn
	Size        int      // input side S; images are S*S gray in [0,1]
	Classes     []string // class names, in logit order
	Layers      []string // default target layers for CAM methods, e.g. {"layer4"}
	HeadWeights gradcam.HeadWeightsFn
}

// RandomizedModel returns a copy of m whose variables under scopes (e.g. "/resnet/layer4", "/resnet/head") are
// re-initialised: weights He-normal from a seeded RNG, batch-norm scale/variance 1, offsets/means/biases 0. The
// original model is untouched.
func RandomizedModel(m *Model, scopes []string, seed int64) (*Model, error) {
	if len(scopes) == 0 {
		return nil, errors.New("sanity check: no scopes to randomise")
	}
	store, err := m.Store.Clone()
	if err != nil {
		return nil, errors.WithMessage(err, "sanity check: cloning the model")
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x5a417))
	changed := 0
	// In path order: a loaded store's variable order can differ from one process to the next, and the draws
	// must land on the same variables every time for the sanity check to be reproducible.
	vars := slices.SortedFunc(store.IterVariables(), func(a, b *model.Variable) int { return strings.Compare(a.Path(), b.Path()) })
	for _, v := range vars {
		inScope := false
		for _, s := range scopes {
			if v.Path() == s || strings.HasPrefix(v.Path(), strings.TrimSuffix(s, "/")+"/") {
				inScope = true
			}
		}
		if !inScope {
			continue
		}
		t, err := randomLike(v.Shape(), v.Name(), rng)
		if err != nil {
			return nil, errors.WithMessagef(err, "sanity check: variable %s", v.Path())
		}
		if err := v.SetValue(t); err != nil {
			return nil, errors.WithMessagef(err, "sanity check: variable %s", v.Path())
		}
		changed++
	}
	if changed == 0 {
		return nil, errors.Errorf("sanity check: no variable under %v", scopes)
	}
	rm := *m
	rm.Store = store
	return &rm, nil
}

func randomLike(s shapes.Shape, name string, rng *rand.Rand) (*tensors.Tensor, error) {
	n := s.Size()
	data := make([]float32, n)
	switch {
	case s.Rank() >= 2:
		fanIn := n / s.Dimensions[s.Rank()-1]
		std := math.Sqrt(2 / float64(max(fanIn, 1)))
		for i := range data {
			data[i] = float32(rng.NormFloat64() * std)
		}
	case name == "scale" || name == "variance":
		for i := range data {
			data[i] = 1
		}
	}
	if s.DType != dtypes.Float32 {
		return nil, fmt.Errorf("dtype %s not supported", s.DType)
	}
	return tensors.FromFlatDataAndDimensions(data, s.Dimensions...), nil
}
