package resnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/checkpoint"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/gomlx/gomlx/ui/commandline"
	"github.com/neucam/neucam/neu"
)

// TrainCheckpointDir is the sub-folder of the output folder holding the full training checkpoints
// (weights + optimizer state) used to resume.
const TrainCheckpointDir = "train"

// ErrInterrupted is returned by Train when its context is cancelled (e.g. SIGINT): a checkpoint was
// saved and running the same training again resumes from it.
var ErrInterrupted = errors.New("training interrupted; checkpoint saved, run the same command again to resume")

// TrainOptions configure Train. Zero values take the defaults of DefaultTrainOptions.
type TrainOptions struct {
	DataDir      string  // dataset folder (neu.LoadWithClasses): NEU-DET or any VOC folder with its own classes
	OutDir       string  // output: inference checkpoint at the top, training checkpoints in OutDir/train
	Config       Config  // architecture (Size etc.); Classes empty: the dataset's (Dataset.Classes)
	Epochs       int     // passes over the training split
	BatchSize    int     // images per step
	LearningRate float64 // peak AdamW learning rate (cosine schedule, linear warm-up)
	WeightDecay  float64 // AdamW decoupled weight decay
	WarmupEpochs float64
	Seed         int64 // weight initialisation, shuffling and augmentation
	Resume       bool  // continue from OutDir/train when it holds a checkpoint (else start fresh)

	// MaxTrainPerClass > 0 limits the training images per class (tests, quick runs).
	MaxTrainPerClass int
	// Augment is the data augmentation: AugmentDihedral (default), AugmentFull or AugmentNone.
	Augment string
	// BoxLoss is the weight of the box-guided loss (see ParamBoxLoss): the true class's map is taught to be
	// positive on its GT boxes and negative elsewhere. Zero means none (plain cross-entropy); the default
	// options use DefaultBoxLoss. Not combined with AugmentFull (its crops would need cropped targets).
	BoxLoss float64
	// ProgressBar attaches GoMLX's progress bar (terminal).
	ProgressBar bool
	// Log receives per-epoch lines and the final report (nil: discarded).
	Log io.Writer
	// Context cancels training: a checkpoint is saved and Train returns ErrInterrupted.
	Context context.Context
	// OnEpoch, when set, is called after every epoch with its statistics (the live plot of notebook 01).
	OnEpoch func(EpochStats)
	// OnStep, when set, is called after every training step with the moving averages of loss and accuracy.
	OnStep func(StepStats)
	// OnLoop, when set, is called with the GoMLX training loop before it runs (to attach other hooks).
	OnLoop func(*train.Loop)

	interruptAtStep int // tests: behave as if interrupted once this global step is done
}

// Augmentations.
const (
	// AugmentDihedral: one of the 8 rotations/flips of the square per image -- label-preserving for steel
	// textures and cheap. The default: on this data, crops and contrast changes (AugmentFull) slowed
	// convergence so much that short schedules lost 5-8 points of accuracy (see docs/BENCH.md).
	AugmentDihedral = "dihedral"
	// AugmentFull: augment (dihedral + random crop 85-100% + contrast/brightness).
	AugmentFull = "full"
	AugmentNone = "none"
)

// DefaultBoxLoss is the box-loss weight of the shipped model, chosen on the PyTorch twin (docs/LOCALIZATION.md).
const DefaultBoxLoss = 3

// DefaultTrainOptions are the settings used for the shipped model.
func DefaultTrainOptions() TrainOptions {
	return TrainOptions{Config: DefaultConfig(), Epochs: 28, BatchSize: 16, LearningRate: 3e-3,
		WeightDecay: 5e-4, WarmupEpochs: 1, Seed: 1, Resume: true, Augment: AugmentDihedral, BoxLoss: DefaultBoxLoss}
}

// TrainResult summarises a finished training.
type TrainResult struct {
	Config        Config        `json:"config"`
	Epochs        int           `json:"epochs"`
	Steps         int           `json:"steps"`
	BatchSize     int           `json:"batch_size"`
	TrainImages   int           `json:"train_images"`
	ValImages     int           `json:"val_images"`
	TestImages    int           `json:"test_images"`
	ValAccuracy   []float64     `json:"val_accuracy_per_epoch"`
	Test          *Evaluation   `json:"test"`
	WallTime      time.Duration `json:"wall_time_ns"`
	WallSeconds   float64       `json:"wall_seconds"`
	TrainImgPerS  float64       `json:"train_images_per_second"`
	ResumedAtStep int           `json:"resumed_at_step"`
	Backend       string        `json:"backend"`
	Augment       string        `json:"augment"`
	BoxLoss       float64       `json:"box_loss"`
	LearningRate  float64       `json:"learning_rate"`
	Seed          int64         `json:"seed"`
}

// EpochStats is what Train reports after every epoch (TrainOptions.OnEpoch): the live plot of notebook 01 draws
// these, the command line prints them.
type EpochStats struct {
	Epoch, Epochs int           // 1-based epoch just finished, of Epochs
	Step, Steps   int           // global step, of Steps
	Loss          float64       // moving-average training loss
	TrainAccuracy float64       // moving-average training accuracy (on augmented batches)
	ValAccuracy   float64       // accuracy on the validation split
	Elapsed       time.Duration // since Train started
}

// StepStats is what Train reports after every step (TrainOptions.OnStep).
type StepStats struct {
	Step, Steps   int     // global step, of Steps
	Loss          float64 // moving-average training loss
	TrainAccuracy float64 // moving-average training accuracy (on augmented batches)
}

// Train trains the NEU ResNet on the default split of opts.DataDir (neu.Split with the neu defaults),
// checkpointing every epoch into OutDir/train, and writes the inference checkpoint to OutDir.
// It reports validation accuracy per epoch and the test-split evaluation at the end.
func Train(opts TrainOptions) (*TrainResult, error) {
	start := time.Now()
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	data, err := loadTrainData(&opts, start)
	if err != nil {
		return nil, err
	}
	backend, err := NewBackend()
	if err != nil {
		return nil, err
	}
	stepsPerEpoch := len(data.trainS) / opts.BatchSize
	run, err := newTrainRun(opts, stepsPerEpoch*opts.Epochs, stepsPerEpoch)
	if err != nil {
		return nil, err
	}
	run.evaluator = &Classifier{backend: backend, store: run.store, cfg: opts.Config, source: "training"}
	res := &TrainResult{Config: opts.Config, Epochs: opts.Epochs, Steps: run.totalSteps, BatchSize: opts.BatchSize,
		TrainImages: len(data.trainS), ValImages: len(data.valS), TestImages: len(data.testS), ResumedAtStep: run.resumedAt,
		Backend: backend.Name(), Augment: opts.Augment, BoxLoss: opts.BoxLoss, LearningRate: opts.LearningRate, Seed: opts.Seed}
	if err := run.loop(backend, data, res, start); err != nil {
		return nil, err
	}
	if err := finishTraining(run, data, res, start); err != nil {
		return nil, err
	}
	return res, nil
}

// withDefaults fills the zero fields with DefaultTrainOptions' and checks the rest.
func (opts TrainOptions) withDefaults() (TrainOptions, error) {
	d := DefaultTrainOptions()
	if opts.Config.Size == 0 {
		opts.Config = d.Config
	}
	if opts.Epochs <= 0 {
		opts.Epochs = d.Epochs
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = d.BatchSize
	}
	if opts.LearningRate <= 0 {
		opts.LearningRate = d.LearningRate
	}
	switch opts.Augment {
	case "":
		opts.Augment = d.Augment
	case AugmentDihedral, AugmentFull, AugmentNone:
	default:
		return opts, fmt.Errorf("train: unknown augmentation %q (want %s, %s or %s)", opts.Augment,
			AugmentDihedral, AugmentFull, AugmentNone)
	}
	if opts.WeightDecay < 0 {
		opts.WeightDecay = 0
	}
	if opts.BoxLoss < 0 || opts.BoxLoss > 0 && opts.Augment == AugmentFull {
		return opts, fmt.Errorf("train: box loss %g: want >= 0, and 0 with -augment %s", opts.BoxLoss, AugmentFull)
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	opts.Config.Padding, opts.Config.Head = opts.Config.padding(), opts.Config.head()
	if err := opts.Config.Validate(); err != nil {
		return opts, err
	}
	if opts.OutDir == "" {
		return opts, errors.New("train: output directory not set")
	}
	return opts, nil
}

func (opts TrainOptions) logf(format string, args ...any) { fmt.Fprintf(opts.Log, format, args...) }

// trainData is the split, decoded and resized once; augmentation happens per batch.
type trainData struct {
	trainS, valS, testS       []neu.Sample
	trainPix, valPix, testPix [][]float32
}

// loadTrainData loads the labelled images of opts.DataDir, splits them and resizes them to the model's input; it
// sets opts.Config.Classes to the dataset's classes.
func loadTrainData(opts *TrainOptions, start time.Time) (*trainData, error) {
	ds, err := neu.LoadWithClasses(opts.Config.Classes, opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	opts.Config.Classes = ds.Classes // the dataset's own (classes.txt, <name> tags; NEU's six for NEU-DET)
	if err := opts.Config.Validate(); err != nil {
		return nil, fmt.Errorf("train: %s: %w", opts.DataDir, err)
	}
	var labelled []neu.Sample
	for _, s := range ds.Samples {
		if s.Label >= 0 {
			labelled = append(labelled, s)
		}
	}
	d := &trainData{}
	d.trainS, d.valS, d.testS = neu.Split(labelled, neu.DefaultSeed, neu.DefaultValFrac, neu.DefaultTestFrac)
	if opts.MaxTrainPerClass > 0 {
		d.trainS = neu.LimitPerClass(d.trainS, opts.MaxTrainPerClass)
	}
	size := opts.Config.Size
	var sk1, sk2, sk3 []neu.Skipped
	d.trainPix, sk1 = LoadPixels(d.trainS, size)
	d.valPix, sk2 = LoadPixels(d.valS, size)
	d.testPix, sk3 = LoadPixels(d.testS, size)
	for _, s := range append(append(sk1, sk2...), sk3...) {
		opts.logf("skipped %s: %s\n", s.Path, s.Reason)
	}
	d.trainS, d.trainPix = keepLoaded(d.trainS, d.trainPix)
	d.valS, d.valPix = keepLoaded(d.valS, d.valPix)
	d.testS, d.testPix = keepLoaded(d.testS, d.testPix)
	if len(d.trainS) < opts.BatchSize {
		return nil, fmt.Errorf("train: %d training images in %s, fewer than one batch of %d", len(d.trainS), opts.DataDir, opts.BatchSize)
	}
	opts.logf("data %s: %d classes (%s), %d train, %d val, %d test images resized to %dx%d (%.1fs)\n", opts.DataDir,
		len(ds.Classes), strings.Join(ds.Classes, ", "), len(d.trainS), len(d.valS), len(d.testS), size, size,
		time.Since(start).Seconds())
	return d, nil
}

// trainRun is the store and checkpointing of one training run (fresh or resumed).
type trainRun struct {
	opts                                 TrainOptions
	store                                *model.Store
	ckpt                                 *checkpoint.Handler
	trainDir                             string
	totalSteps, stepsPerEpoch, resumedAt int
	evaluator                            *Classifier
}

// newTrainRun builds the store: hyperparameters first, then (on resume) the checkpoint overwrites variables and
// the params it saved -- the architecture and schedule of the run being resumed, which must match this one.
func newTrainRun(opts TrainOptions, totalSteps, stepsPerEpoch int) (*trainRun, error) {
	r := &trainRun{opts: opts, trainDir: filepath.Join(opts.OutDir, TrainCheckpointDir), totalSteps: totalSteps,
		stepsPerEpoch: stepsPerEpoch}
	if !opts.Resume {
		if err := os.RemoveAll(r.trainDir); err != nil {
			return nil, err
		}
	}
	r.store = model.NewStore()
	SetConfig(r.store, opts.Config)
	root := r.store.RootScope()
	root.SetParam(optimizer.ParamLearningRate, opts.LearningRate)
	root.SetParam(ParamWeightDecay, opts.WeightDecay)
	root.SetParam(ParamBoxLoss, opts.BoxLoss)
	root.SetParam(ParamTotalSteps, totalSteps)
	root.SetParam(ParamWarmupSteps, int(opts.WarmupEpochs*float64(stepsPerEpoch)))
	if err := r.store.SetRNGStateFromSeed(opts.Seed); err != nil {
		return nil, err
	}
	var err error
	if r.ckpt, err = checkpoint.Build(r.store).Dir(r.trainDir).Keep(2).Done(); err != nil {
		return nil, fmt.Errorf("train: checkpoint dir %s: %w", r.trainDir, err)
	}
	if got := ConfigFromStore(r.store); fmt.Sprint(got) != fmt.Sprint(opts.Config) {
		return nil, fmt.Errorf("train: %s holds a run with architecture %+v, not %+v: use another -out or -resume=false",
			r.trainDir, got, opts.Config)
	}
	if got := model.GetRootParamOr(r.store, ParamBoxLoss, opts.BoxLoss); got != opts.BoxLoss {
		return nil, fmt.Errorf("train: %s holds a run with box loss %g, this one has %g: use another -out or -resume=false",
			r.trainDir, got, opts.BoxLoss)
	}
	if got := model.GetRootParamOr(r.store, ParamTotalSteps, totalSteps); got != totalSteps {
		return nil, fmt.Errorf("train: %s holds a run of %d steps, this one has %d (epochs/batch changed): use another -out or -resume=false",
			r.trainDir, got, totalSteps)
	}
	r.resumedAt = int(optimizer.GetGlobalStep(r.store))
	if r.resumedAt > 0 {
		opts.logf("resuming from %s at step %d/%d (epoch %d)\n", r.trainDir, r.resumedAt, totalSteps, r.resumedAt/stepsPerEpoch+1)
	}
	return r, nil
}

// loop runs the training loop to the last step, evaluating and checkpointing after every epoch.
func (r *trainRun) loop(backend compute.Backend, data *trainData, res *TrainResult, start time.Time) error {
	loop := train.NewLoop(NewTrainer(backend, r.store))
	if r.opts.ProgressBar {
		commandline.AttachProgressBar(loop)
	}
	if r.opts.OnLoop != nil {
		r.opts.OnLoop(loop)
	}
	loop.OnStep("neucam-epoch", 200, func(loop *train.Loop, metrics []*tensors.Tensor) error {
		return r.afterStep(metrics, data, res, start)
	})
	ds := &trainDataset{pix: data.trainPix, samples: data.trainS, size: r.opts.Config.Size, batch: r.opts.BatchSize,
		seed: r.opts.Seed, startStep: r.resumedAt, augment: r.opts.Augment}
	if r.opts.BoxLoss > 0 {
		ds.addBoxTargets(r.opts.Config.MapSide())
	}
	trainStart := time.Now()
	if r.resumedAt < r.totalSteps {
		if _, err := loop.RunToGlobalStep(ds, r.totalSteps); err != nil {
			if errors.Is(err, ErrInterrupted) {
				return ErrInterrupted
			}
			return fmt.Errorf("train: %w", err)
		}
	}
	if n := r.totalSteps - r.resumedAt; n > 0 {
		res.TrainImgPerS = float64(n*r.opts.BatchSize) / time.Since(trainStart).Seconds()
	}
	return nil
}

// afterStep saves a checkpoint and stops on interruption; at the end of an epoch it evaluates the validation
// split, reports the epoch (log line and OnEpoch) and saves a checkpoint.
func (r *trainRun) afterStep(metrics []*tensors.Tensor, data *trainData, res *TrainResult, start time.Time) error {
	step := int(optimizer.GetGlobalStep(r.store))
	if r.opts.Context.Err() != nil || (r.opts.interruptAtStep > 0 && step >= r.opts.interruptAtStep) {
		if err := r.ckpt.Save(); err != nil {
			return err
		}
		return ErrInterrupted
	}
	loss, trainAcc := metricValue(metrics, 1), metricValue(metrics, 2)
	if r.opts.OnStep != nil {
		r.opts.OnStep(StepStats{Step: step, Steps: r.totalSteps, Loss: loss, TrainAccuracy: trainAcc})
	}
	if step%r.stepsPerEpoch != 0 && step != r.totalSteps {
		return nil
	}
	acc, err := accuracy(r.evaluator, data.valS, data.valPix)
	if err != nil {
		return err
	}
	res.ValAccuracy = append(res.ValAccuracy, acc)
	st := EpochStats{Epoch: step / r.stepsPerEpoch, Epochs: r.opts.Epochs, Step: step, Steps: r.totalSteps,
		Loss: loss, TrainAccuracy: trainAcc, ValAccuracy: acc, Elapsed: time.Since(start)}
	r.opts.logf("epoch %d/%d (step %d): loss %.4f, val accuracy %.2f%%, %s elapsed\n", st.Epoch, st.Epochs,
		step, st.Loss, 100*acc, st.Elapsed.Round(time.Second))
	if r.opts.OnEpoch != nil {
		r.opts.OnEpoch(st)
	}
	return r.ckpt.Save()
}

// finishTraining writes the inference checkpoint, evaluates the test split and writes train_result.json.
func finishTraining(r *trainRun, data *trainData, res *TrainResult, start time.Time) error {
	if err := SaveInference(r.store, r.opts.OutDir); err != nil {
		return fmt.Errorf("train: saving model to %s: %w", r.opts.OutDir, err)
	}
	probs, err := r.evaluator.Predict(data.testPix)
	if err != nil {
		return err
	}
	res.Test = NewEvaluation(r.evaluator.Classes(), sampleNames(data.testS), sampleLabels(data.testS), probs)
	res.WallTime = time.Since(start)
	res.WallSeconds = res.WallTime.Seconds()
	r.opts.logf("test split: %s", res.Test.Table())
	r.opts.logf("wall time %s (this run), training %.1f images/s, backend %s\n", res.WallTime.Round(time.Second),
		res.TrainImgPerS, res.Backend)
	if js, err := json.MarshalIndent(res, "", "  "); err == nil {
		_ = os.WriteFile(filepath.Join(r.opts.OutDir, "train_result.json"), js, 0o644)
	}
	return nil
}

// metricValue is the i-th training metric of a step (0 when absent): 1 is the moving-average loss, 2 the
// moving-average accuracy.
func metricValue(metrics []*tensors.Tensor, i int) float64 {
	if i >= len(metrics) {
		return 0
	}
	return tensorScalar(metrics[i])
}

func tensorScalar(t *tensors.Tensor) float64 {
	switch v := t.Value().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

func accuracy(c *Classifier, samples []neu.Sample, pix [][]float32) (float64, error) {
	if len(pix) == 0 {
		return 0, nil
	}
	probs, err := c.Predict(pix)
	if err != nil {
		return 0, err
	}
	return NewEvaluation(c.Classes(), sampleNames(samples), sampleLabels(samples), probs).Accuracy, nil
}

func sampleNames(s []neu.Sample) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[i].Name
	}
	return out
}

func sampleLabels(s []neu.Sample) []int {
	out := make([]int, len(s))
	for i := range s {
		out[i] = s[i].Label
	}
	return out
}

// trainDataset yields an endless stream of shuffled, augmented batches starting at startStep. Batch
// number k depends only on (seed, k), so a resumed run sees exactly the batches the uninterrupted run
// would have. Batches are prepared in a goroutine, overlapping CPU augmentation with the train step.
type trainDataset struct {
	pix       [][]float32
	samples   []neu.Sample
	size      int
	batch     int
	seed      int64
	startStep int
	augment   string
	// With the box loss: each image's BoxTarget of its label on the side x side class-map grid, and 1 where the
	// image has a box of its label (else 0).
	targets [][]float32
	hasBox  []float32
	side    int
}

// addBoxTargets computes the box-loss targets of every training image.
func (d *trainDataset) addBoxTargets(side int) {
	d.side = side
	d.targets, d.hasBox = make([][]float32, len(d.samples)), make([]float32, len(d.samples))
	for i, s := range d.samples {
		t, ok := BoxTarget(s, s.Label, side)
		d.targets[i] = t
		if ok {
			d.hasBox[i] = 1
		}
	}
}

func (d *trainDataset) Name() string { return "neu-train" }

func (d *trainDataset) Iter() iter.Seq2[train.Batch, error] {
	return func(yield func(train.Batch, error) bool) {
		ch := make(chan train.Batch, 3)
		done := make(chan struct{})
		defer close(done)
		go func() {
			defer close(ch)
			for step := d.startStep; ; step++ {
				select {
				case ch <- d.makeBatch(step):
				case <-done:
					return
				}
			}
		}()
		for b := range ch {
			if !yield(b, nil) {
				return
			}
		}
	}
}

func (d *trainDataset) makeBatch(step int) train.Batch {
	perEpoch := len(d.pix) / d.batch
	epoch, k := step/perEpoch, step%perEpoch
	perm := rand.New(rand.NewPCG(uint64(d.seed), uint64(1<<40+epoch))).Perm(len(d.pix))
	rng := rand.New(rand.NewPCG(uint64(d.seed), uint64(step)))
	s, n := d.size, d.side*d.side
	flat := make([]float32, d.batch*s*s)
	labels := make([]int32, d.batch)
	targets, hasBox := make([]float32, d.batch*n), make([]float32, d.batch)
	for i := range d.batch {
		j := perm[k*d.batch+i]
		p := d.pix[j]
		var t []float32
		if d.targets != nil {
			t, hasBox[i] = d.targets[j], d.hasBox[j]
		}
		switch d.augment {
		case AugmentDihedral:
			tr := rng.IntN(8)
			p = dihedral(p, s, tr)
			if t != nil {
				t = dihedral(t, d.side, tr)
			}
		case AugmentFull:
			p = augment(p, s, rng)
		}
		copy(flat[i*s*s:], p)
		copy(targets[i*n:], t)
		labels[i] = int32(d.samples[j].Label)
	}
	b := train.Batch{
		Inputs: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(flat, d.batch, s, s, 1)},
		Labels: []*tensors.Tensor{tensors.FromFlatDataAndDimensions(labels, d.batch, 1)},
	}
	if d.targets != nil {
		b.Inputs = append(b.Inputs, tensors.FromFlatDataAndDimensions(targets, d.batch, n),
			tensors.FromFlatDataAndDimensions(slices.Clone(labels), d.batch), tensors.FromFlatDataAndDimensions(hasBox, d.batch))
	}
	return b
}
