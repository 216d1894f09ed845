package neu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/neucam/neucam/internal/neutest"
)

func names(s []Sample) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = x.ImagePath
	}
	return out
}

func checkSplit(t *testing.T, all, train, val, test []Sample) {
	t.Helper()
	if len(train)+len(val)+len(test) != len(all) {
		t.Fatalf("%d+%d+%d != %d", len(train), len(val), len(test), len(all))
	}
	where := map[string]string{}
	paths := map[string]bool{}
	for name, set := range map[string][]Sample{"train": train, "val": val, "test": test} {
		for _, s := range set {
			if paths[s.ImagePath] {
				t.Fatalf("%s appears twice", s.ImagePath)
			}
			paths[s.ImagePath] = true
			if w, ok := where[s.Group]; ok && w != name {
				t.Fatalf("group %s straddles %s and %s", s.Group, w, name)
			}
			where[s.Group] = name
		}
	}
}

func syntheticSamples() []Sample {
	var out []Sample
	for c := -1; c < len(Classes); c++ {
		n := 40 + 10*c
		for i := 0; i < n; i++ {
			g := fmt.Sprintf("g%d_%d", c, i)
			if i%7 == 3 { // some duplicate pairs
				g = fmt.Sprintf("g%d_%d", c, i-1)
			}
			out = append(out, Sample{Name: fmt.Sprintf("c%d_%d", c, i), ImagePath: fmt.Sprintf("/x/c%d_%d.jpg", c, i), Label: c, Group: g})
		}
	}
	return out
}

func TestSplitSynthetic(t *testing.T) {
	all := syntheticSamples()
	train, val, test := Split(all, 7, 0.2, 0.1)
	checkSplit(t, all, train, val, test)
	count := func(set []Sample, c int) int {
		n := 0
		for _, s := range set {
			if s.Label == c {
				n++
			}
		}
		return n
	}
	for c := -1; c < len(Classes); c++ {
		n := 40 + 10*c
		if v, te := count(val, c), count(test, c); abs(v-n/5) > 1 || abs(te-(n+5)/10) > 1 {
			t.Errorf("class %d (n=%d): val %d test %d", c, n, v, te)
		}
	}
	// Input order does not matter.
	shuffled := append([]Sample(nil), all...)
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	tr2, va2, te2 := Split(shuffled, 7, 0.2, 0.1)
	if fmt.Sprint(names(tr2), names(va2), names(te2)) != fmt.Sprint(names(train), names(val), names(test)) {
		t.Error("same seed, different input order: different split")
	}
	_, va3, _ := Split(all, 8, 0.2, 0.1)
	if fmt.Sprint(names(va3)) == fmt.Sprint(names(val)) {
		t.Error("different seed gave the same validation set")
	}
	// Edge cases: nothing held out, everything held out, empty input.
	if tr, va, te := Split(all, 1, 0, 0); len(tr) != len(all) || len(va)+len(te) != 0 {
		t.Error("fractions 0: everything should be train")
	}
	if tr, _, _ := Split(nil, 1, 0.15, 0.15); tr != nil {
		t.Error("nil input")
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestSplitNEU(t *testing.T) {
	ds, err := Load(neutest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	train, val, test := Split(ds.Samples, DefaultSeed, DefaultValFrac, DefaultTestFrac)
	checkSplit(t, ds.Samples, train, val, test)
	for c := range Classes {
		n := [3]int{}
		for i, set := range [][]Sample{train, val, test} {
			for _, s := range set {
				if s.Label == c {
					n[i]++
				}
			}
		}
		// 250 per class: round(37.5) = 38 val and test; the patches_101/105 pair may add one.
		if n[1] < 38 || n[1] > 39 || n[2] < 38 || n[2] > 39 || n[0]+n[1]+n[2] != 250 {
			t.Errorf("%s: train/val/test = %v", Classes[c], n)
		}
	}
	// Regression anchor for the project's default split: it must not change silently.
	if len(train) != 1044 || len(val) != 228 || len(test) != 228 || test[0].Name != "crazing_2" || test[1].Name != "crazing_14" || test[2].Name != "crazing_18" {
		t.Errorf("default split changed: %d train, %d val, %d test; first test images %v", len(train), len(val), len(test), names(test[:3]))
	}
	rev := append([]Sample(nil), ds.Samples...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	_, _, test2 := Split(rev, DefaultSeed, DefaultValFrac, DefaultTestFrac)
	if fmt.Sprint(names(test2)) != fmt.Sprint(names(test)) {
		t.Error("default split depends on input order")
	}
}

func TestLimitPerClass(t *testing.T) {
	in := []Sample{{ImagePath: "a0", Label: 0}, {ImagePath: "b0", Label: 1}, {ImagePath: "a1", Label: 0}, {ImagePath: "a2", Label: 0},
		{ImagePath: "u", Label: -1}, {ImagePath: "b1", Label: 1}}
	got := names(LimitPerClass(in, 2))
	if want := "[a0 b0 a1 u b1]"; fmt.Sprint(got) != want {
		t.Errorf("LimitPerClass(2) = %v, want %s", got, want)
	}
}
