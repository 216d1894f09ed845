package neu

import (
	"path/filepath"
	"testing"

	"github.com/neucam/neucam/internal/neutest"
)

func BenchmarkReadImageNEU(b *testing.B) {
	p := filepath.Join(neutest.Dir(b), "images", "crazing_120.jpg")
	for b.Loop() {
		if _, err := ReadImage(p); err != nil {
			b.Fatal(err)
		}
	}
}
