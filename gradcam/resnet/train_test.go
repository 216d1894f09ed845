package resnet

import (
	"errors"
	"github.com/neucam/neucam/internal/neutest"

	"github.com/gomlx/compute/dtypes"
	"math"
	"testing"
)

// TestTrainResume: a run interrupted mid-epoch and resumed must end with exactly the model of an
// uninterrupted run (same batches, restored optimizer state), and report consistent results.
func TestTrainResume(t *testing.T) {
	data := neutest.Dir(t)
	opts := TrainOptions{DataDir: data, Config: tinyConfig(), Epochs: 2, BatchSize: 16, MaxTrainPerClass: 8,
		LearningRate: 3e-3, Seed: 5, Resume: true, BoxLoss: 3}
	full := opts
	full.OutDir = t.TempDir()
	var epochs []EpochStats
	full.OnEpoch = func(s EpochStats) { epochs = append(epochs, s) }
	var steps []StepStats
	full.OnStep = func(s StepStats) { steps = append(steps, s) }
	resFull, err := Train(full)
	if err != nil {
		t.Fatal(err)
	}
	if len(epochs) != 2 || epochs[1].Epoch != 2 || epochs[1].Step != 6 || epochs[1].ValAccuracy != resFull.ValAccuracy[1] ||
		!(epochs[1].Loss > 0) || !(epochs[1].TrainAccuracy >= 0 && epochs[1].TrainAccuracy <= 1) {
		t.Errorf("OnEpoch reports %+v (val accuracies %v)", epochs, resFull.ValAccuracy)
	}
	if len(steps) != 6 || steps[5].Step != 6 || steps[5].Loss != epochs[1].Loss {
		t.Errorf("OnStep reports %+v", steps)
	}
	if resFull.Steps != 6 || len(resFull.ValAccuracy) != 2 || resFull.Test == nil || resFull.Test.Images != 228 {
		t.Fatalf("unexpected result: steps %d, val accuracies %v, test %+v", resFull.Steps, resFull.ValAccuracy, resFull.Test)
	}

	// The box loss is part of the optimised loss: the same run without it reports a smaller loss.
	plain := opts
	plain.OutDir, plain.BoxLoss = t.TempDir(), 0
	var plainEpochs []EpochStats
	plain.OnEpoch = func(s EpochStats) { plainEpochs = append(plainEpochs, s) }
	if _, err := Train(plain); err != nil {
		t.Fatal(err)
	}
	if resFull.BoxLoss != 3 || !(epochs[0].Loss > plainEpochs[0].Loss+0.5) {
		t.Errorf("box loss 3: result box_loss %g, first-epoch loss %g vs %g without it", resFull.BoxLoss,
			epochs[0].Loss, plainEpochs[0].Loss)
	}

	part := opts
	part.OutDir = t.TempDir()
	part.interruptAtStep = 4 // mid second epoch
	if _, err := Train(part); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted run: err %v, want ErrInterrupted", err)
	}
	part.interruptAtStep = 0
	resResumed, err := Train(part)
	if err != nil {
		t.Fatal(err)
	}
	if resResumed.ResumedAtStep != 4 {
		t.Errorf("resumed at step %d, want 4", resResumed.ResumedAtStep)
	}

	a, err := Load(full.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(part.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	maxDiff := 0.0
	for v := range a.Store().IterVariables() {
		if v.Shape().DType != dtypes.Float32 {
			continue
		}
		w := b.Store().GetVariable(v.Path())
		if w == nil {
			t.Fatalf("variable %s missing after resume", v.Path())
		}
		va, _ := v.Value()
		vb, _ := w.Value()
		fa, fb := flat32(t, va), flat32(t, vb)
		for i := range fa {
			maxDiff = max(maxDiff, math.Abs(float64(fa[i]-fb[i])))
		}
	}
	if maxDiff > 1e-5 {
		t.Errorf("resumed model differs from the uninterrupted one: max |diff| %g", maxDiff)
	}
	if resFull.Test.Accuracy != resResumed.Test.Accuracy {
		t.Errorf("test accuracy %g uninterrupted vs %g resumed", resFull.Test.Accuracy, resResumed.Test.Accuracy)
	}

	// Same output folder, different architecture: refused rather than silently mixed.
	other := part
	other.Config.Widths = []int{4, 8, 8, 8}
	if _, err := Train(other); err == nil {
		t.Error("training with another architecture into an existing run: no error")
	}
}
