package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/neucam/neucam/gradcam/resnet"
	"github.com/neucam/neucam/neu"
)

// evalReport is the JSON written by `neucam evaluate -json`. Later issues add their own sections here
// (e.g. a "localization" object) next to the classification fields.
type evalReport struct {
	Model string `json:"model"`
	Data  string `json:"data"`
	*resnet.Evaluation
	Unlabelled      int           `json:"unlabelled"` // images whose class is unknown (not scored)
	Skipped         []skippedFile `json:"skipped"`
	Warnings        []skippedFile `json:"warnings,omitempty"`
	Seconds         float64       `json:"seconds"`
	ImagesPerSecond float64       `json:"images_per_second"`
}

type skippedFile struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

func toSkipped(s []neu.Skipped) []skippedFile {
	out := make([]skippedFile, 0, len(s))
	for _, x := range s {
		out = append(out, skippedFile{Path: x.Path, Reason: x.Reason})
	}
	return out
}

func runEvaluate(args []string) error {
	fs := flag.NewFlagSet("evaluate", flag.ExitOnError)
	data := fs.String("data", "", "folder of images: NEU-DET layout or plain folder (labels from file names)")
	modelDir := fs.String("model", "", "model folder written by `neucam train` (default: the embedded model)")
	jsonOut := fs.String("json", "", "write the report as JSON to this file")
	quiet := fs.Bool("q", false, "no progress output")
	_ = fs.Parse(args)
	if *data == "" {
		fs.Usage()
		return errors.New("-data is required")
	}
	rep, err := evaluate(*data, *modelDir, *quiet)
	if err != nil {
		return err
	}
	fmt.Print(rep.Evaluation.Table())
	if rep.Unlabelled > 0 {
		fmt.Printf("%d images with unknown class were not scored\n", rep.Unlabelled)
	}
	for _, s := range rep.Skipped {
		fmt.Printf("skipped %s: %s\n", s.Path, s.Reason)
	}
	fmt.Printf("%d images in %.1fs (%.1f images/s), model %s\n", rep.Images+rep.Unlabelled, rep.Seconds,
		rep.ImagesPerSecond, rep.Model)
	if *jsonOut != "" {
		js, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(js, '\n'), 0o644); err != nil {
			return err
		}
		fmt.Printf("report written to %s\n", *jsonOut)
	}
	return nil
}

func evaluate(dataDir, modelDir string, quiet bool) (*evalReport, error) {
	start := time.Now()
	ds, err := neu.Load(dataDir)
	if err != nil {
		return nil, err
	}
	clf, err := resnet.Load(modelDir)
	if err != nil {
		return nil, err
	}
	progress := func(done, total int) {
		if !quiet {
			fmt.Fprintf(os.Stderr, "\rclassifying %d/%d", done, total)
			if done == total {
				fmt.Fprintln(os.Stderr)
			}
		}
	}
	ev, skipped, err := clf.Evaluate(ds.Samples, progress)
	if err != nil {
		return nil, err
	}
	rep := &evalReport{Model: clf.Source(), Data: dataDir, Evaluation: ev,
		Skipped:  toSkipped(append(append([]neu.Skipped{}, ds.Skipped...), skipped...)),
		Warnings: toSkipped(ds.Warnings)}
	for _, s := range ds.Samples {
		if s.Label < 0 {
			rep.Unlabelled++
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	if rep.Seconds > 0 {
		rep.ImagesPerSecond = float64(len(ds.Samples)-len(skipped)) / rep.Seconds
	}
	return rep, nil
}
