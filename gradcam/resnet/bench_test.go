package resnet

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
)

func randomBatch(rng *rand.Rand, n, size int) (*tensors.Tensor, *tensors.Tensor) {
	pix := make([]float32, n*size*size)
	for i := range pix {
		pix[i] = rng.Float32()
	}
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(rng.IntN(DefaultConfig().NumClasses()))
	}
	return tensors.FromFlatDataAndDimensions(pix, n, size, size, 1), tensors.FromFlatDataAndDimensions(labels, n, 1)
}

// benchConfig is DefaultConfig, or the architecture in $NEUCAM_BENCH_CFG ("size;w1,w2,w3,w4;s0,s1,s2,s3,s4"),
// to compare architectures' speed; $NEUCAM_BENCH_HEAD ("padding;head;param", e.g. "reflect;lse;4") sets the
// padding and head.
func benchConfig(b *testing.B) Config {
	cfg := DefaultConfig()
	if env := os.Getenv("NEUCAM_BENCH_CFG"); env != "" {
		parts := strings.Split(env, ";")
		ints := func(s string) []int {
			var out []int
			for _, f := range strings.Split(s, ",") {
				v, err := strconv.Atoi(f)
				if err != nil {
					b.Fatalf("NEUCAM_BENCH_CFG %q: %v", env, err)
				}
				out = append(out, v)
			}
			return out
		}
		if len(parts) != 3 {
			b.Fatalf("NEUCAM_BENCH_CFG %q: want size;widths;strides", env)
		}
		cfg.Size = ints(parts[0])[0]
		cfg.Widths = ints(parts[1])
		cfg.Strides = ints(parts[2])
	}
	if env := os.Getenv("NEUCAM_BENCH_HEAD"); env != "" {
		parts := strings.Split(env, ";")
		if len(parts) != 3 {
			b.Fatalf("NEUCAM_BENCH_HEAD %q: want padding;head;param", env)
		}
		cfg.Padding, cfg.Head = parts[0], parts[1]
		var err error
		if cfg.HeadParam, err = strconv.ParseFloat(parts[2], 64); err != nil {
			b.Fatalf("NEUCAM_BENCH_HEAD %q: %v", env, err)
		}
	}
	if err := cfg.Validate(); err != nil {
		b.Fatal(err)
	}
	b.Logf("config %+v", cfg)
	return cfg
}

// benchBatchSize is 16 (the training default) or $NEUCAM_BENCH_BATCH.
func benchBatchSize(b *testing.B) int {
	if v, err := strconv.Atoi(os.Getenv("NEUCAM_BENCH_BATCH")); err == nil && v > 0 {
		return v
	}
	return 16
}

// cpuSeconds is the user+system CPU time this process has used so far.
func cpuSeconds(b *testing.B) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// BenchmarkTrainStep: one AdamW step on a batch of 16 images at DefaultConfig's size.
func BenchmarkTrainStep(b *testing.B) { benchTrainStep(b, 0) }

// BenchmarkTrainStepBoxLoss: BenchmarkTrainStep with the box-guided loss (the shipped recipe's weight).
func BenchmarkTrainStepBoxLoss(b *testing.B) { benchTrainStep(b, DefaultBoxLoss) }

func benchTrainStep(b *testing.B, boxLoss float64) {
	benchBatch := benchBatchSize(b)
	backend := testBackend(b)
	store := model.NewStore()
	cfg := benchConfig(b)
	SetConfig(store, cfg)
	store.RootScope().SetParam(ParamBoxLoss, boxLoss)
	trainer := NewTrainer(backend, store)
	rng := rand.New(rand.NewPCG(3, 4))
	x, y := randomBatch(rng, benchBatch, cfg.Size)
	batch := train.Batch{Inputs: []*tensors.Tensor{x}, Labels: []*tensors.Tensor{y}}
	if boxLoss > 0 {
		n := cfg.MapSide() * cfg.MapSide()
		targets, labels, has := make([]float32, benchBatch*n), make([]int32, benchBatch), make([]float32, benchBatch)
		for i := range targets {
			targets[i] = float32(i % 2)
		}
		for i := range has {
			has[i] = 1
		}
		batch.Inputs = append(batch.Inputs, tensors.FromFlatDataAndDimensions(targets, benchBatch, n),
			tensors.FromFlatDataAndDimensions(labels, benchBatch), tensors.FromFlatDataAndDimensions(has, benchBatch))
	}
	step := func() {
		m, err := trainer.TrainStep(batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, t := range m {
			t.MustFinalizeAll()
		}
	}
	step() // compile
	b.ResetTimer()
	best := time.Duration(math.MaxInt64)
	cpu0 := cpuSeconds(b)
	for range b.N {
		t0 := time.Now()
		step()
		best = min(best, time.Since(t0))
	}
	// CPU time per image is the work done, less sensitive than wall time to other jobs on the cores.
	b.ReportMetric(1e3*(cpuSeconds(b)-cpu0)/float64(b.N*benchBatch), "cpu_ms/img")
	b.ReportMetric(float64(b.N*benchBatch)/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric(float64(benchBatch)/best.Seconds(), "best_img/s")
}

// BenchmarkInference: Classifier.Predict on batches of 32 images at DefaultConfig's size.
func BenchmarkInference(b *testing.B) {
	store := model.NewStore()
	SetConfig(store, benchConfig(b))
	c, err := NewClassifier(testBackend(b), store)
	if err != nil {
		b.Fatal(err)
	}
	const n = 32
	rng := rand.New(rand.NewPCG(7, 8))
	pix := make([][]float32, n)
	for i := range pix {
		pix[i] = make([]float32, c.Size()*c.Size())
		for j := range pix[i] {
			pix[i][j] = rng.Float32()
		}
	}
	if _, err := c.Predict(pix); err != nil { // compile
		b.Fatal(err)
	}
	b.ResetTimer()
	best := time.Duration(math.MaxInt64)
	cpu0 := cpuSeconds(b)
	for range b.N {
		t0 := time.Now()
		if _, err := c.Predict(pix); err != nil {
			b.Fatal(err)
		}
		best = min(best, time.Since(t0))
	}
	b.ReportMetric(1e3*(cpuSeconds(b)-cpu0)/float64(b.N*n), "cpu_ms/img")
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric(float64(n)/best.Seconds(), "best_img/s")
}

// BenchmarkMatmul: single float32 matmuls [M,K] x [K,N] of the training graph's shapes through the backend
// (docs/BENCH.md, "The matmul in assembly"), reporting GFLOPS. For one core:
// GOMLX_BACKEND=go:ops_sequential,parallelism=1 taskset -c 1 go test -run XXX -bench Matmul ./gradcam/resnet/
func BenchmarkMatmul(b *testing.B) {
	backend := testBackend(b)
	for _, s := range [][3]int{{2048, 128, 128}, {2048, 128, 64}, {2048, 64, 64}, {2048, 64, 32}, {2048, 1152, 128},
		{128, 2048, 1152}, {8192, 144, 16}} {
		m, k, n := s[0], s[1], s[2]
		b.Run(fmt.Sprintf("%dx%dx%d", m, k, n), func(b *testing.B) {
			exec := graph.MustNewExec(backend, func(x, y *graph.Node) *graph.Node {
				return graph.DotGeneral(x, []int{1}, nil, y, []int{0}, nil)
			})
			rng := rand.New(rand.NewPCG(1, 2))
			lhs, rhs := make([]float32, m*k), make([]float32, k*n)
			for i := range lhs {
				lhs[i] = rng.Float32()
			}
			for i := range rhs {
				rhs[i] = rng.Float32()
			}
			lt, rt := tensors.FromFlatDataAndDimensions(lhs, m, k), tensors.FromFlatDataAndDimensions(rhs, k, n)
			exec.MustExec(lt, rt)[0].MustFinalizeAll()
			b.ResetTimer()
			best := time.Duration(math.MaxInt64)
			for range b.N {
				t0 := time.Now()
				exec.MustExec(lt, rt)[0].MustFinalizeAll()
				best = min(best, time.Since(t0))
			}
			b.ReportMetric(2*float64(m*n*k)/best.Seconds()/1e9, "best_GFLOPS")
		})
	}
}
