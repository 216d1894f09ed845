package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/resnet"
)

// measureGo measures the GoMLX side: a fresh DefaultConfig network for training, the shipped model for the rest.
func measureGo(backend compute.Backend, reps int) (*rates, error) {
	r := &rates{Version: runtime.Version(), Load: loadAvg()}
	rng := rand.New(rand.NewPCG(1, 2))
	var err error
	if r.Train, err = goTrain(backend, rng, reps); err != nil {
		return nil, fmt.Errorf("training: %w", err)
	}
	clf, err := resnet.LoadWithBackend(backend, "")
	if err != nil {
		return nil, err
	}
	size := clf.Size()
	x32 := randImages(rng, 32, size)
	if r.Infer, err = best(reps, 32, func() error { _, err := clf.Predict(x32); return err }); err != nil {
		return nil, fmt.Errorf("inference: %w", err)
	}
	explain := func(method gradcam.Method, images [][]float32, items int) (float64, error) {
		e, err := gradcam.NewExplainer(backend, clf.Store(), clf.ModelFn(),
			gradcam.Options{Method: method, Layers: []string{"layer4"}, BatchSize: 16})
		if err != nil {
			return 0, err
		}
		return best(reps, items, func() error { _, err := e.Explain(images, size); return err })
	}
	if r.GradCAM, err = explain(gradcam.GradCAM, x32[:16], 16); err != nil {
		return nil, fmt.Errorf("grad-cam: %w", err)
	}
	channels := clf.Config().Widths[3]
	if r.ScoreCAM, err = explain(gradcam.ScoreCAM, x32[:1], channels); err != nil {
		return nil, fmt.Errorf("scorecam: %w", err)
	}
	return r, nil
}

// goTrain times AdamW steps on random batches of 16 (resnet.NewTrainer, DefaultConfig).
func goTrain(backend compute.Backend, rng *rand.Rand, reps int) (float64, error) {
	store := model.NewStore()
	cfg := resnet.DefaultConfig()
	resnet.SetConfig(store, cfg)
	trainer := resnet.NewTrainer(backend, store)
	const b = 16
	flat := make([]float32, 0, b*cfg.Size*cfg.Size)
	for _, img := range randImages(rng, b, cfg.Size) {
		flat = append(flat, img...)
	}
	labels := make([]int32, b)
	for i := range labels {
		labels[i] = int32(rng.IntN(cfg.NumClasses()))
	}
	batch := train.Batch{
		Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(flat, b, cfg.Size, cfg.Size, 1)},
		Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(labels, b, 1)},
	}
	return best(reps, b, func() error {
		m, err := trainer.TrainStep(batch)
		for _, t := range m {
			t.MustFinalizeAll()
		}
		return err
	})
}

// measureTorch runs bench/speed_torch.py (next to this command's source) and parses its JSON line.
func measureTorch(python string, reps int) (*rates, error) {
	load := loadAvg()
	dir := "bench"
	if _, err := os.Stat(filepath.Join(dir, "speed_torch.py")); err != nil {
		return nil, fmt.Errorf("run from the repository root (bench/speed_torch.py not found)")
	}
	cmd := exec.Command(python, "speed_torch.py", "--reps", fmt.Sprint(reps), "--threads", fmt.Sprint(runtime.NumCPU()))
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, lastLine(errb.String()))
	}
	r := &rates{Load: load}
	if err := json.Unmarshal([]byte(lastLine(out.String())), r); err != nil {
		return nil, fmt.Errorf("parsing %q: %w", lastLine(out.String()), err)
	}
	return r, nil
}

func lastLine(s string) string {
	lines := bytes.Split(bytes.TrimSpace([]byte(s)), []byte("\n"))
	return string(lines[len(lines)-1])
}

// printTable prints both sides and GoMLX/PyTorch ratios.
func printTable(g, p *rates, backendCfg string) {
	fmt.Printf("GoMLX %s, GOMLX_BACKEND=%q, load average before: %s\n", g.Version, backendCfg, g.Load)
	if p != nil {
		fmt.Printf("PyTorch %s, load average before: %s\n", p.Version, p.Load)
	}
	var load1 float64
	if _, err := fmt.Sscan(g.Load, &load1); err == nil && load1 > float64(runtime.NumCPU()) {
		fmt.Printf("WARNING: load average %.1f > %d CPUs: other jobs share the cores, rates and ratios are unreliable\n",
			load1, runtime.NumCPU())
	}
	fmt.Printf("\n%-44s %12s %12s %14s\n", "best of reps", "GoMLX", "PyTorch", "GoMLX/PyTorch")
	row := func(name string, gv, pv float64) {
		if p == nil {
			fmt.Printf("%-44s %12.1f\n", name, gv)
			return
		}
		fmt.Printf("%-44s %12.1f %12.1f %14.2f\n", name, gv, pv, gv/pv)
	}
	var pz rates
	if p != nil {
		pz = *p
	}
	row("training, batch 16 (img/s)", g.Train, pz.Train)
	row("inference, batch 32 (img/s)", g.Infer, pz.Infer)
	row("Grad-CAM all 6 classes vs pgc loop (img/s)", g.GradCAM, pz.GradCAMLoop)
	row("Grad-CAM all 6 classes vs one-pass (img/s)", g.GradCAM, pz.GradCAM)
	row("ScoreCAM layer4 (masked forwards/s)", g.ScoreCAM, pz.ScoreCAM)
}
