package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/neucam/neucam/app"
	"github.com/neucam/neucam/app/report"
	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/gradcam/metrics"
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

	// With -methods: how well each method's maps agree with the GT boxes (per class and "mean"), beside the
	// uniform / center_gaussian / random baselines; deletion/insertion AUC; Spearman vs a randomised model.
	Split        string                             `json:"split"`
	Methods      []string                           `json:"methods,omitempty"`
	Localization map[string]metrics.Scores          `json:"localization,omitempty"`
	Faithfulness map[string]map[string]float64      `json:"faithfulness,omitempty"`
	Sanity       map[string]map[string]float64      `json:"sanity,omitempty"`
	Detection    map[string]metrics.DetectionScores `json:"detection,omitempty"`
	// FrameTest: does the model lean on the image border? (masking a frame vs a centred square of equal area)
	FrameTest  *metrics.FrameTest `json:"frame_test,omitempty"`
	CAMSeconds float64            `json:"cam_seconds,omitempty"`

	camTable *report.Results
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
	data := fs.String("data", "", "folder of images: images/ + annotations/ (+ masks/) VOC layout or a plain folder; read against the model's classes")
	modelDir := fs.String("model", "", "model folder written by `neucam train` (default: the embedded model)")
	jsonOut := fs.String("json", "", "write the report as JSON to this file")
	quiet := fs.Bool("q", false, "no progress output")
	split := fs.String("split", "all", "which images of DIR: all, or train/val/test of the project's split (neu.Split, seed 1)")
	methods := fs.String("methods", "", "also score these CAM methods against the GT boxes, e.g. gradcam,gradcam++,layercam (see `neucam explain -h`)")
	faith := fs.Int("faithfulness", 50, "with -methods: deletion/insertion AUC on the first N labelled images (0: off)")
	sanity := fs.Int("sanity", 50, "with -methods: Spearman vs the model with re-initialised top layers, on N images (0: off)")
	_ = fs.Parse(args)
	if *data == "" {
		fs.Usage()
		return errors.New("-data is required")
	}
	var specs []explain.Method
	if *methods != "" {
		var err error
		if specs, err = explain.ParseMethods(*methods); err != nil {
			return err
		}
	}
	rep, err := evaluate(*data, *modelDir, *split, *quiet, specs, *faith, *sanity)
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
	if rep.camTable != nil {
		fmt.Println()
		if err := rep.camTable.WriteTable(os.Stdout); err != nil {
			return err
		}
		if len(rep.Faithfulness) > 0 {
			fmt.Println("faithfulness (deletion AUC, Average Drop, ROAD MoRF: lower is better; insertion AUC, Increase in Confidence, ROAD LeRF: higher)")
			fmt.Printf("%-24s %9s %9s %9s %9s %9s %9s %10s\n", "method", "deletion", "insertion", "avg_drop", "incr_conf",
				"road_morf", "road_lerf", "sparseness")
		}
		for _, m := range append(slices.Clone(rep.Methods), metrics.BaselineCenterGaussian, metrics.BaselineRandom) {
			if f, ok := rep.Faithfulness[m]; ok {
				fmt.Printf("%-24s %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %10.3f  (%g images)\n", m, f["deletion_auc"],
					f["insertion_auc"], f["average_drop"], f["increase_in_confidence"], f["road_morf"], f["road_lerf"],
					f["sparseness"], f["images"])
			}
		}
		if ft := rep.FrameTest; ft != nil {
			fmt.Printf("frame test (%d px border vs centred square of equal area masked, %d images): p(true) drops %.3f vs %.3f, accuracy %.1f%% vs %.1f%% -> %s\n",
				ft.Band, ft.Images, ft.FrameDrop.Mean, ft.CentreDrop.Mean, 100*ft.FrameAcc, 100*ft.CentreAcc,
				map[bool]string{true: "neutral (the border is not a shortcut)", false: "NOT neutral: the border carries evidence"}[ft.Neutral])
			fmt.Printf("  frame drop per class: %s\n  centre drop per class: %s\n", classValues(ft.FrameDrop), classValues(ft.CentreDrop))
		}
		for _, m := range rep.Methods {
			if d, ok := rep.Detection[m]; ok {
				fmt.Printf("detection %-27s CAM boxes as detections: mAP@0.5 %.3f  mAP@0.5:0.95 %.3f  (per class: %s)\n",
					m, d.MAP50.Mean, d.MAP5095.Mean, classValues(d.MAP50))
			}
		}
		for _, m := range rep.Methods {
			if sn, ok := rep.Sanity[m]; ok {
				fmt.Printf("sanity %-30s Spearman(trained, top layers randomised) %.3f  (%g images; low = depends on weights)\n",
					m, sn["spearman_randomized"], sn["images"])
			}
		}
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

func evaluate(dataDir, modelDir, split string, quiet bool, specs []explain.Method, faith, sanity int) (*evalReport, error) {
	start := time.Now()
	clf, err := resnet.Load(modelDir)
	if err != nil {
		return nil, err
	}
	// The model's classes: labels and boxes of the data are read against them (other names are warned about).
	ds, err := loadData(clf, dataDir)
	if err != nil {
		return nil, err
	}
	if err := selectSplit(ds, split); err != nil {
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
	rep.Split = split
	if len(specs) > 0 {
		if rep.FrameTest, err = frameTest(clf, ds.Samples); err != nil {
			return nil, err
		}
	}
	rep.Seconds = time.Since(start).Seconds()
	if rep.Seconds > 0 {
		rep.ImagesPerSecond = float64(len(ds.Samples)-len(skipped)) / rep.Seconds
	}
	if len(specs) > 0 {
		var w io.Writer = os.Stderr
		if quiet {
			w = nil
		}
		if !quiet {
			fmt.Fprintf(os.Stderr, "explaining %d images with %d methods\n", len(ds.Samples), len(specs))
		}
		res, err := report.Run(report.Config{Model: app.Model(clf), Methods: specs, FaithfulnessImages: faith,
			SanityImages: sanity, RandomizeScopes: app.RandomizeScopes, Seed: 1, Progress: w}, ds)
		if err != nil {
			return nil, err
		}
		rep.Methods, rep.Localization, rep.Faithfulness, rep.Sanity = res.Methods, res.Localization, res.Faithfulness, res.Sanity
		rep.Detection = res.Detection
		rep.CAMSeconds = res.Seconds
		rep.camTable = res
	}
	return rep, nil
}

// loadData reads a dataset folder (neu.Load's layouts) against the model's class list.
func loadData(clf *resnet.Classifier, dir string) (*neu.Dataset, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("-data %s is a file, not a folder", dir)
	}
	return neu.LoadWithClasses(clf.Classes(), dir)
}

// selectSplit keeps the samples of one part of the project's split (neu.Split with the neu defaults, the split
// the shipped model was trained on): "test" holds images never used in training. "all" keeps everything.
func selectSplit(ds *neu.Dataset, split string) error {
	if split == "all" {
		return nil
	}
	train, val, test := neu.Split(ds.Samples, neu.DefaultSeed, neu.DefaultValFrac, neu.DefaultTestFrac)
	part, ok := map[string][]neu.Sample{"train": train, "val": val, "test": test}[split]
	if !ok {
		return fmt.Errorf("-split %q: want all, train, val or test", split)
	}
	ds.Samples = part
	return nil
}

// classValues formats per-class values as "name 0.12, ..." (classes without GT left out).
func classValues(v metrics.ClassValues) string {
	var parts []string
	for i, name := range v.Names {
		if i < len(v.Values) && !math.IsNaN(v.Values[i]) {
			parts = append(parts, fmt.Sprintf("%s %.2f", name, v.Values[i]))
		}
	}
	return strings.Join(parts, ", ")
}

// frameTest runs metrics.RunFrameTest on the labelled samples with the classifier.
func frameTest(clf *resnet.Classifier, samples []neu.Sample) (*metrics.FrameTest, error) {
	var labelled []neu.Sample
	for _, s := range samples {
		if s.Label >= 0 {
			labelled = append(labelled, s)
		}
	}
	if len(labelled) == 0 {
		return nil, nil
	}
	pix, _ := resnet.LoadPixels(labelled, clf.Size())
	var imgs [][]float32
	var labels []int
	for i, p := range pix {
		if p != nil {
			imgs, labels = append(imgs, p), append(labels, labelled[i].Label)
		}
	}
	return metrics.RunFrameTest(clf.Predict, imgs, clf.Size(), labels, clf.Classes(), 0, 10)
}
