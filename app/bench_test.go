package app

import (
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/ml/model"

	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/gradcam/heatmap"
	"github.com/neucam/neucam/gradcam/resnet"
)

// benchModel is the NEU ResNet at its default architecture with freshly initialised weights: the cost of a map
// does not depend on the weights' values.
func benchModel(b *testing.B) *explain.Explainer {
	b.Helper()
	backend, err := resnet.NewBackend()
	if err != nil {
		b.Fatal(err)
	}
	store := model.NewStore()
	resnet.SetConfig(store, resnet.DefaultConfig())
	c, err := resnet.NewClassifier(backend, store)
	if err != nil {
		b.Fatal(err)
	}
	return explain.New(Model(c), explain.DefaultOptions())
}

// benchmarkMaps measures images/s for the maps of all 6 classes of batches of 16 images of 200x200 pixels,
// including the resize to the model's input size (as neucam explain does).
func benchmarkMaps(b *testing.B, spec string) {
	e := benchModel(b)
	m := e.Model()
	ms, err := explain.ParseMethod(spec)
	if err != nil {
		b.Fatal(err)
	}
	const batch, side = 16, 200
	rng := rand.New(rand.NewPCG(1, 2))
	raw := make([][]float32, batch)
	for i := range raw {
		raw[i] = make([]float32, side*side)
		for j := range raw[i] {
			raw[i][j] = rng.Float32()
		}
	}
	run := func() {
		pix := make([][]float32, batch)
		for i := range raw {
			pix[i] = heatmap.Resize(raw[i], side, side, m.Size, m.Size)
		}
		if _, _, err := e.Maps(ms, pix); err != nil {
			b.Fatal(err)
		}
	}
	run() // compile outside the timing
	b.ResetTimer()
	for range b.N {
		run()
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
}

func BenchmarkNEUGradCAMAllClasses(b *testing.B) { benchmarkMaps(b, "gradcam") }
func BenchmarkNEUGradCAMPlusPlus(b *testing.B)   { benchmarkMaps(b, "gradcam++") }
func BenchmarkNEUScoreCAMTop32(b *testing.B)     { benchmarkMaps(b, "scorecam") }

// BenchmarkNEULIME: LIME with 1,000 perturbed samples per image on the NEU ResNet (forwards in batches of 64).
func BenchmarkNEULIME(b *testing.B) {
	e := benchModel(b)
	m, lime := e.Model(), explain.Method{Name: explain.LIME}
	rng := rand.New(rand.NewPCG(3, 4))
	img := make([]float32, m.Size*m.Size)
	for j := range img {
		img[j] = rng.Float32()
	}
	if _, _, err := e.Maps(lime, [][]float32{img}); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, _, err := e.Maps(lime, [][]float32{img}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/img")
}

// BenchmarkNEUMethods: every method added for pytorch-grad-cam / Captum parity (and the :pgc variants), all
// classes, beside Grad-CAM as the reference, on batches of 4 images compiled at batch 4 (the slow methods do
// hundreds of forwards per image, so the batch is small; run with -benchtime 1x).
func BenchmarkNEUMethods(b *testing.B) {
	for _, spec := range []string{"gradcam", "gradcam++:pgc", "eigencam:pgc", "scorecam:pgc", "ablationcam",
		"eigengradcam", "finercam", "fem", "guided-backprop", "guided-gradcam", "integrated-gradients", "smoothgrad",
		"vargrad", "occlusion"} {
		b.Run(spec, func(b *testing.B) { benchmarkSmallBatch(b, spec, 4) })
	}
}

// benchmarkSmallBatch measures images/s of one method's maps for all classes on batches of n random 128x128
// images, with the explainer compiled at batch n.
func benchmarkSmallBatch(b *testing.B, spec string, n int) {
	m := benchModel(b).Model()
	ms, err := explain.ParseMethod(spec)
	if err != nil {
		b.Fatal(err)
	}
	opts := explain.DefaultOptions()
	opts.BatchSize = n // the explainer compiled at batch n
	e := explain.New(m, opts)
	rng := rand.New(rand.NewPCG(1, 2))
	pix := make([][]float32, n)
	for i := range pix {
		pix[i] = make([]float32, m.Size*m.Size)
		for j := range pix[i] {
			pix[i][j] = rng.Float32()
		}
	}
	if _, _, err := e.Maps(ms, pix[:1]); err != nil { // compile outside the timing
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, _, err := e.Maps(ms, pix); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "img/s")
}
