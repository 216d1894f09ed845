package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/neucam/neucam/gradcam/resnet"
)

const trainDescription = `Trains the ResNet from scratch on DIR (NEU-DET layout or any VOC folder with its own classes) with the
project's split (seed 1: 70% train, 15% validation, 15% test), checkpointing every epoch and on Ctrl-C into
MODELDIR/train; the same command resumes. Prints per-epoch loss and validation accuracy, then the test split's
accuracy and confusion matrix, and writes the inference checkpoint to MODELDIR (what -model reads).`

func runTrain(args []string) error {
	d := resnet.DefaultTrainOptions()
	fs := newFlags("train", "-data DIR -out MODELDIR [flags]", trainDescription,
		"neucam train -data ../shared/neu-det -out /tmp/model")
	data := fs.String("data", "", "dataset folder: images/ + annotations/ (Pascal VOC), classes from classes.txt or the <name> tags (NEU-DET: its six)")
	out := fs.String("out", "", "output model folder (inference checkpoint; training checkpoints in OUT/train)")
	epochs := fs.Int("epochs", d.Epochs, "epochs")
	batch := fs.Int("batch", d.BatchSize, "batch size")
	size := fs.Int("size", d.Config.Size, "input side in pixels (images are resized)")
	widths := fs.String("widths", joinInts(d.Config.Widths), "channels of layer1..layer4")
	strides := fs.String("strides", joinInts(d.Config.Strides), "strides of stem,layer1..layer4")
	lr := fs.Float64("lr", d.LearningRate, "peak learning rate (AdamW, cosine schedule)")
	wd := fs.Float64("wd", d.WeightDecay, "AdamW weight decay")
	seed := fs.Int64("seed", d.Seed, "random seed (init, shuffling, augmentation)")
	resume := fs.Bool("resume", true, "resume from OUT/train if it holds a checkpoint (false: start over)")
	augment := fs.String("augment", d.Augment, "augmentation: dihedral (rotations/flips), full (+crop, contrast) or none")
	noBar := fs.Bool("no-progress", false, "no progress bar (there is none anyway when the output is not a terminal)")
	padding := fs.String("padding", cmp.Or(d.Config.Padding, resnet.PadZeros), "3x3 convolution padding: zeros or reflect (no artificial edge at the border)")
	head := fs.String("head", cmp.Or(d.Config.Head, resnet.HeadGAP), "head: gap (average pooling + dense), lse (class maps, log-sum-exp pooling), topk (class maps, top-k mean) or mix (class maps, mean of average and log-sum-exp pooling)")
	headParam := fs.Float64("head-param", d.Config.HeadParam, "lse: r (larger = closer to max pooling); topk: fraction of cells averaged")
	boxLoss := fs.Float64("box-loss", d.BoxLoss, "weight of the box-guided loss: the true class's map is taught to be positive on its GT boxes and negative elsewhere (0: plain cross-entropy; images without boxes take no part)")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *data == "" && len(pos) == 1 {
		*data = pos[0]
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected arguments %q (the data folder is -data DIR)", pos)
	}
	if *data == "" || *out == "" {
		fs.Usage()
		return errors.New("-data and -out are required")
	}
	cfg := d.Config
	cfg.Size = *size
	cfg.Padding, cfg.Head, cfg.HeadParam = *padding, *head, *headParam
	if cfg.Widths, err = parseInts(*widths); err != nil {
		return fmt.Errorf("-widths: %w", err)
	}
	if cfg.Strides, err = parseInts(*strides); err != nil {
		return fmt.Errorf("-strides: %w", err)
	}
	// SIGINT/SIGTERM: the trainer saves a checkpoint after the current step and stops.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := resnet.TrainOptions{DataDir: *data, OutDir: *out, Config: cfg, Epochs: *epochs, BatchSize: *batch,
		LearningRate: *lr, WeightDecay: *wd, WarmupEpochs: d.WarmupEpochs, Seed: *seed, Resume: *resume, Augment: *augment, BoxLoss: *boxLoss,
		ProgressBar: !*noBar && stdoutIsTerminal(), Log: os.Stdout, Context: ctx}
	res, err := resnet.Train(opts)
	if err != nil {
		return err
	}
	fmt.Printf("model written to %s (test accuracy %.2f%%)\n", *out, 100*res.Test.Accuracy)
	return nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}
