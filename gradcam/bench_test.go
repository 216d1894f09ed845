package gradcam

import (
	"testing"

	"github.com/gomlx/gomlx/ml/model"
)

// benchNet is the model the benchmarks explain. For now the tiny test net; to benchmark the NEU ResNet, make
// newBenchNet return its store (resnet checkpoint), resnet.Model, its input size and e.g. Layers {"layer4"}.
type benchNet struct {
	store  *model.Store
	fn     ModelFn
	size   int
	layers []string
}

var newBenchNet = func(b *testing.B) benchNet {
	cfg := tinyConfig{c1: 16, c2: 32, c3: 64, classes: 6}
	return benchNet{store: newTinyStore(b, cfg, 1), fn: cfg.model, size: 32, layers: []string{"layer2"}}
}

const benchBatch = 16

// benchmarkExplain reports images/s for Explain on batches of 16 images, all classes (6 maps per image).
// Compilation happens before the timer starts.
func benchmarkExplain(b *testing.B, opts Options) {
	net := newBenchNet(b)
	opts.Layers, opts.BatchSize = net.layers, benchBatch
	e, err := NewExplainer(testBackend(b), net.store, net.fn, opts)
	if err != nil {
		b.Fatal(err)
	}
	images := randImages(benchBatch, net.size, 1)
	if _, err := e.Explain(images, net.size); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Explain(images, net.size); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "images/s")
}

func BenchmarkGradCAMAllClasses(b *testing.B) { benchmarkExplain(b, Options{Method: GradCAM}) }

func BenchmarkScoreCAM(b *testing.B) { benchmarkExplain(b, Options{Method: ScoreCAM}) }

func BenchmarkScoreCAMTop16(b *testing.B) {
	benchmarkExplain(b, Options{Method: ScoreCAM, ScoreCAMTopK: 16})
}

func BenchmarkEigenCAM(b *testing.B) { benchmarkExplain(b, Options{Method: EigenCAM}) }

// BenchmarkForward is the plain forward (Predict) for scale: Grad-CAM's all-class cost over this is its overhead.
func BenchmarkForward(b *testing.B) {
	net := newBenchNet(b)
	e, err := NewExplainer(testBackend(b), net.store, net.fn, Options{Layers: net.layers, BatchSize: benchBatch})
	if err != nil {
		b.Fatal(err)
	}
	images := randImages(benchBatch, net.size, 1)
	if _, err := e.Predict(images, net.size); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Predict(images, net.size); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "images/s")
}
