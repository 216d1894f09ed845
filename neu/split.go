package neu

import (
	"math"
	"math/rand/v2"
	"sort"
)

// The project's default split (used by training, evaluation and the notebooks): on the 1,500 NEU-DET images
// here, 38 validation and 38 test images per class (37.5 rounded up), 174 train; patches_101/105 stay together.
const (
	DefaultSeed     int64   = 1
	DefaultValFrac  float64 = 0.15
	DefaultTestFrac float64 = 0.15
)

// Split divides samples into train, validation and test sets.
//
//   - Stratified: within each label (-1 included) round(valFrac*n) samples go to val and round(testFrac*n) to
//     test, the rest to train (a group of several samples may overshoot by its extra members).
//   - Duplicates never straddle splits: samples with the same Group (content hash; ImagePath, then Name, when
//     Group is empty) go to the same split, placed by the smallest label among them.
//   - Deterministic: the result depends only on the seed and the set of samples, not on their order.
//     Each returned slice is in natural name order.
func Split(samples []Sample, seed int64, valFrac, testFrac float64) (train, val, test []Sample) {
	valFrac = clamp01(valFrac)
	testFrac = clamp01(testFrac)
	if valFrac+testFrac > 1 {
		valFrac = 1 - testFrac
	}
	type group struct {
		key     string
		label   int
		members []Sample
	}
	groups := map[string]*group{}
	for _, s := range samples {
		k := s.Group
		if k == "" {
			k = "path:" + s.ImagePath
			if s.ImagePath == "" {
				k = "name:" + s.Name
			}
		}
		g := groups[k]
		if g == nil {
			g = &group{key: k, label: s.Label}
			groups[k] = g
		}
		g.label = min(g.label, s.Label)
		g.members = append(g.members, s)
	}
	byLabel := map[int][]*group{}
	counts := map[int]int{}
	for _, g := range groups {
		byLabel[g.label] = append(byLabel[g.label], g)
		counts[g.label] += len(g.members)
	}
	labels := make([]int, 0, len(byLabel))
	for l := range byLabel {
		labels = append(labels, l)
	}
	sort.Ints(labels)
	for _, l := range labels {
		gs := byLabel[l]
		sort.Slice(gs, func(i, j int) bool { return gs[i].key < gs[j].key })
		// One stream per label, so adding a class does not reshuffle the others.
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(int64(l)+1)*0x9E3779B97F4A7C15))
		rng.Shuffle(len(gs), func(i, j int) { gs[i], gs[j] = gs[j], gs[i] })
		n := counts[l]
		nTest := int(math.Round(testFrac * float64(n)))
		nVal := int(math.Round(valFrac * float64(n)))
		inTest, inVal := 0, 0
		for _, g := range gs {
			switch {
			case inTest < nTest:
				test = append(test, g.members...)
				inTest += len(g.members)
			case inVal < nVal:
				val = append(val, g.members...)
				inVal += len(g.members)
			default:
				train = append(train, g.members...)
			}
		}
	}
	for _, set := range [][]Sample{train, val, test} {
		sortSamples(set)
	}
	return train, val, test
}

func sortSamples(s []Sample) {
	sort.SliceStable(s, func(i, j int) bool {
		if c := naturalCompare(s[i].Name, s[j].Name); c != 0 {
			return c < 0
		}
		return s[i].ImagePath < s[j].ImagePath
	})
}

func clamp01(f float64) float64 {
	if math.IsNaN(f) || f < 0 {
		return 0
	}
	return min(f, 1)
}

// LimitPerClass keeps the first n samples of each label, in the input's order.
func LimitPerClass(samples []Sample, n int) []Sample {
	count := map[int]int{}
	var out []Sample
	for _, s := range samples {
		if count[s.Label] < n {
			count[s.Label]++
			out = append(out, s)
		}
	}
	return out
}
