package metrics

import (
	"image"
	"math/rand/v2"
	"testing"
)

// BenchmarkMaxBoxAccAdd measures one 200x200 map against 100 thresholds (the per-image cost of MaxBoxAcc).
func BenchmarkMaxBoxAccAdd(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	maps := map[string][]float32{
		"smooth": Blur(Random(200, 200, rng), 200, 200, 5, 5),
		"noise":  Random(200, 200, rng),
	}
	gt := []image.Rectangle{image.Rect(40, 30, 120, 170)}
	for name, m := range maps {
		b.Run(name, func(b *testing.B) {
			a := NewMaxBoxAcc(BoxAccOptions{})
			for b.Loop() {
				if err := a.Add(m, 200, 200, gt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
