package app

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/gradcam/resnet"
)

// TestRandomizedModel: the sanity-check copy re-initialises exactly the variables under the given scopes
// (weights He-normal, batch-norm scale/variance 1, the rest 0) and leaves the original model untouched.
func TestRandomizedModel(t *testing.T) {
	backend, err := resnet.NewBackend()
	if err != nil {
		t.Fatal(err)
	}
	store := model.NewStore()
	resnet.SetConfig(store, resnet.Config{Size: 16, Widths: []int{4, 4, 8, 8}, Strides: []int{2, 2, 2, 1, 1}, Mean: 0.5, Std: 0.25})
	c, err := resnet.NewClassifier(backend, store)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Predict([][]float32{make([]float32, 16*16)}); err != nil { // creates the variables
		t.Fatal(err)
	}
	m := Model(c)
	before := snapshot(t, m)
	rm, err := explain.RandomizedModel(m, RandomizeScopes, 7)
	if err != nil {
		t.Fatal(err)
	}
	after, orig := snapshot(t, rm), snapshot(t, m)
	changed := 0
	for path, v := range before {
		if !equal(orig[path], v) {
			t.Errorf("original variable %s changed", path)
		}
		top := strings.HasPrefix(path, "/resnet/layer4/") || strings.HasPrefix(path, "/resnet/head/")
		same := equal(after[path], v)
		if !top && !same {
			t.Errorf("%s outside the randomised scopes changed", path)
		}
		if top && strings.HasSuffix(path, "/weights") {
			if same {
				t.Errorf("%s was not re-initialised", path)
			}
			changed++
		}
		if top && (strings.HasSuffix(path, "/scale") || strings.HasSuffix(path, "/variance")) {
			for _, x := range after[path] {
				if x != 1 {
					t.Fatalf("%s = %v after randomisation, want 1", path, after[path])
				}
			}
		}
	}
	if changed < 3 {
		t.Errorf("only %d weight tensors re-initialised", changed)
	}
	// The draws must not depend on the store's variable order (a loaded store's order can change between
	// processes): the same model with its variables re-created in reverse order randomises to the same values.
	rev, err := m.Store.Clone()
	if err != nil {
		t.Fatal(err)
	}
	vars := slices.Collect(rev.IterVariables())
	for _, v := range slices.Backward(vars) {
		path := v.Path()
		value, err := v.MustValue().LocalClone()
		if err != nil {
			t.Fatal(err)
		}
		if err := rev.DeleteVariable(path); err != nil {
			t.Fatal(err)
		}
		if _, err := rev.CreateVariable(path, value); err != nil {
			t.Fatal(err)
		}
	}
	mr := *m
	mr.Store = rev
	rmr, err := explain.RandomizedModel(&mr, RandomizeScopes, 7)
	if err != nil {
		t.Fatal(err)
	}
	for path, v := range snapshot(t, rmr) {
		if !equal(after[path], v) {
			t.Errorf("%s: randomised differently when the store's variables are in another order", path)
		}
	}
	if _, err := explain.RandomizedModel(m, []string{"/nowhere"}, 1); err == nil {
		t.Error("randomising an empty scope: no error")
	}
}

func snapshot(t *testing.T, m *explain.Model) map[string][]float32 {
	t.Helper()
	out := map[string][]float32{}
	for v := range m.Store.IterVariables() {
		val, err := v.Value()
		if err != nil {
			t.Fatal(err)
		}
		if v.DType() != dtypes.Float32 {
			continue // e.g. the RNG state
		}
		flat, err := tensors.CopyFlatData[float32](val)
		if err != nil {
			t.Fatal(err)
		}
		out[v.Path()] = flat
	}
	return out
}

func equal(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(float64(a[i])) && math.IsNaN(float64(b[i]))) {
			return false
		}
	}
	return true
}
