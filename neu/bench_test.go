package neu

import (
	"github.com/neucam/neucam/internal/neutest"
	"math/rand/v2"
	"path/filepath"
	"testing"
)

func BenchmarkReadImageNEU(b *testing.B) {
	p := filepath.Join(neutest.Dir(b), "images", "crazing_120.jpg")
	for b.Loop() {
		if _, err := ReadImage(p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPixels200to224(b *testing.B) {
	g := gradient(200, 200)
	for b.Loop() {
		Pixels(g, 224)
	}
}

func BenchmarkAugment224(b *testing.B) {
	p := ramp(224)
	rng := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		Augment(p, 224, rng)
	}
}
