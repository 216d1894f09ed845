// Command speed prints GoMLX and the PyTorch twin side by side from one run: training img/s (batch 16),
// inference img/s (batch 32), all-class Grad-CAM img/s (batch 16, layer4) and ScoreCAM masked forwards/s
// (layer4, every channel), each the best of -reps repetitions, with the load average before each side.
// The PyTorch side is bench/speed_torch.py (needs python3-torch); -no-torch skips it.
//
//	GOEXPERIMENT=simd GOMLX_BACKEND=go:parallelism=-1 go run ./bench/speed [-reps 5] [-no-torch]
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/neucam/neucam/gradcam/resnet"
)

// rates are the measured throughputs of one side (PyTorch's JSON field names).
type rates struct {
	Train       float64 `json:"train_img_s"`
	Infer       float64 `json:"infer_img_s"`
	GradCAMLoop float64 `json:"gradcam_loop_img_s"` // PyTorch only: a forward+backward per class
	GradCAM     float64 `json:"gradcam_one_img_s"`  // one forward, head backward per class
	ScoreCAM    float64 `json:"scorecam_fwd_s"`
	Version     string  `json:"torch"`
	Load        string  `json:"-"`
}

func main() {
	reps := flag.Int("reps", 5, "timed repetitions per measurement (the best is reported)")
	noTorch := flag.Bool("no-torch", false, "skip the PyTorch side")
	python := flag.String("python", "/usr/bin/python3", "python with torch")
	flag.Parse()
	if *reps < 1 {
		log.Fatal("-reps must be >= 1")
	}
	backend, err := resnet.NewBackend()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "GoMLX side (%s, GOMAXPROCS %d)...\n", backend.Description(), runtime.GOMAXPROCS(0))
	goR, err := measureGo(backend, *reps)
	if err != nil {
		log.Fatal(err)
	}
	var pyR *rates
	if !*noTorch {
		fmt.Fprintln(os.Stderr, "PyTorch side...")
		if pyR, err = measureTorch(*python, *reps); err != nil {
			log.Fatalf("PyTorch side: %v (use -no-torch to skip it)", err)
		}
	}
	printTable(goR, pyR, os.Getenv(compute.ConfigEnvVar))
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

// best runs fn once (warm-up, compilation), then reps times, and returns items per second of the fastest.
func best(reps, items int, fn func() error) (float64, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	fastest := time.Duration(math.MaxInt64)
	for range reps {
		t := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		fastest = min(fastest, time.Since(t))
	}
	return float64(items) / fastest.Seconds(), nil
}

func randImages(rng *rand.Rand, n, size int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, size*size)
		for j := range out[i] {
			out[i][j] = rng.Float32()
		}
	}
	return out
}
