package main

import (
	"encoding/json"
	"errors"
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
	"github.com/neucam/neucam/gradcam/heatmap"
	"github.com/neucam/neucam/gradcam/metrics"
	"github.com/neucam/neucam/gradcam/resnet"
	"github.com/neucam/neucam/neu"
)

// evalReport is the JSON written by `neucam evaluate -json`: the classification of every labelled image, the
// predictions of the unlabelled ones and, with -methods, the localization sections.
type evalReport struct {
	Model string   `json:"model"`
	Data  []string `json:"data"`
	*resnet.Evaluation
	Accuracy        *float64      `json:"accuracy"`   // null when no image has a known class
	Unlabelled      int           `json:"unlabelled"` // images whose class is unknown (predicted, not scored)
	Predictions     []prediction  `json:"predictions,omitempty"`
	Skipped         []neu.Skipped `json:"skipped"`
	Warnings        []neu.Skipped `json:"warnings,omitempty"`
	Seconds         float64       `json:"seconds"`
	ImagesPerSecond float64       `json:"images_per_second"`

	// With -methods: how well each method's maps agree with the GT boxes (per class and "mean"), beside the
	// uniform / center_gaussian / random baselines; deletion/insertion AUC; Spearman vs a randomised model.
	Split        string                             `json:"split"`
	Methods      []string                           `json:"methods,omitempty"`
	Localization map[string]metrics.Scores          `json:"localization,omitempty"`
	Faithfulness map[string]report.Faithfulness     `json:"faithfulness,omitempty"`
	Sanity       map[string]report.Sanity           `json:"sanity,omitempty"`
	Detection    map[string]metrics.DetectionScores `json:"detection,omitempty"`
	// FrameTest: does the model lean on the image border? (masking a frame vs a centred square of equal area)
	FrameTest  *metrics.FrameTest `json:"frame_test,omitempty"`
	CAMSeconds float64            `json:"cam_seconds,omitempty"`

	camTable *report.Results
}

// prediction is an unlabelled image's predicted class.
type prediction struct {
	Name  string  `json:"name"`
	Class string  `json:"class"`
	Prob  float64 `json:"prob"`
}

const evaluateDescription = `Classifies every image of PATH... (NEU-DET-layout folders, plain folders with class-prefixed file names,
folders with one sub-folder per class, or image files; flags may come before or after the paths) and prints the
accuracy, per-class accuracy and the confusion matrix; images without a known class get a prediction instead.
With -methods it also explains every image (classifying it once) and scores each method's maps against the GT
boxes beside three baselines (localization tables), by deletion/insertion (faithfulness) and against a model with
re-initialised top layers (sanity), and reads boxes from the maps as detections (mAP).`

// evalArgs are the inputs of one evaluation.
type evalArgs struct {
	paths         []string
	modelDir      string
	split         string
	quiet         bool
	specs         []explain.Method
	faith, sanity int
}

func runEvaluate(args []string) error {
	fs := newFlags("evaluate", "[flags] PATH...", evaluateDescription,
		"neucam evaluate -split test -methods gradcam,eigencam -json eval.json ../shared/neu-det")
	data := fs.String("data", "", "data folder (the same as giving it as PATH)")
	modelDir := fs.String("model", "", "model folder written by neucam train (default: the embedded model)")
	jsonOut := fs.String("json", "", "write the report as JSON to this file")
	quiet := fs.Bool("q", false, "no progress output")
	split := fs.String("split", "all", "which images: all, or train/val/test of the project's split (neu.Split, seed 1) of a labelled data set")
	methods := fs.String("methods", "", "also score these methods against the GT boxes: "+explain.MethodSyntax())
	faith := fs.Int("faithfulness", 50, "with -methods: deletion/insertion AUC on the first N labelled images (0: off)")
	sanity := fs.Int("sanity", 50, "with -methods: Spearman vs the model with re-initialised top layers, on N images (0: off)")
	paths, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *data != "" {
		paths = append([]string{*data}, paths...)
	}
	if len(paths) == 0 {
		fs.Usage()
		return errors.New("no PATH given")
	}
	a := evalArgs{paths: paths, modelDir: *modelDir, split: *split, quiet: *quiet, faith: *faith, sanity: *sanity}
	if *methods != "" {
		if a.specs, err = explain.ParseMethods(*methods); err != nil {
			return err
		}
	}
	rep, err := evaluate(a)
	if err != nil {
		return err
	}
	if err := printEvaluation(rep); err != nil {
		return err
	}
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

// printEvaluation prints the accuracy (or, without labels, the predictions), the skipped files and the
// localization results.
func printEvaluation(rep *evalReport) error {
	if rep.Accuracy != nil {
		fmt.Print(rep.Evaluation.Table())
	} else {
		fmt.Println("no image has a known class: predictions only, no accuracy")
	}
	for i, p := range rep.Predictions {
		if i == 50 {
			fmt.Printf("... and %d more predictions (see -json)\n", len(rep.Predictions)-50)
			break
		}
		fmt.Printf("prediction %s: %s %.3f\n", p.Name, p.Class, p.Prob)
	}
	for _, s := range rep.Skipped {
		fmt.Printf("skipped %s: %s\n", s.Path, s.Reason)
	}
	if rep.camTable != nil {
		if err := printLocalization(rep); err != nil {
			return err
		}
	}
	fmt.Printf("%d images in %.1fs (%.1f images/s), model %s\n", rep.Images+rep.Unlabelled, rep.Seconds,
		rep.ImagesPerSecond, rep.Model)
	return nil
}

func printLocalization(rep *evalReport) error {
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
			fmt.Printf("%-24s %9.3f %9.3f %9.3f %9.3f %9.3f %9.3f %10.3f  (%d images)\n", m, f.DeletionAUC,
				f.InsertionAUC, f.AverageDrop, f.IncreaseInConfidence, f.ROADMoRF, f.ROADLeRF, f.Sparseness, f.Images)
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
			fmt.Printf("sanity %-30s Spearman(trained, top layers randomised) %.3f  (%d images; low = depends on weights)\n",
				m, sn.SpearmanRandomized, sn.Images)
		}
	}
	return nil
}

func evaluate(a evalArgs) (*evalReport, error) {
	start := time.Now()
	clf, ds, err := loadModelAndData(a.modelDir, a.paths, a.split)
	if err != nil {
		return nil, err
	}
	rep := &evalReport{Model: clf.Source(), Data: a.paths, Split: a.split, Skipped: append([]neu.Skipped{}, ds.Skipped...),
		Warnings: ds.Warnings}
	var preds *resnet.Predictions
	if len(a.specs) == 0 {
		var skipped []neu.Skipped
		preds, skipped, err = clf.Classify(ds.Samples, newLineProgress(os.Stderr, "classifying", a.quiet).update)
		if err != nil {
			return nil, err
		}
		rep.Skipped = append(rep.Skipped, skipped...)
	} else if preds, err = rep.explainAll(clf, ds, a); err != nil {
		return nil, err
	}
	rep.setPredictions(clf.Classes(), preds)
	rep.Seconds = time.Since(start).Seconds()
	if rep.Seconds > 0 {
		rep.ImagesPerSecond = float64(len(preds.Probs)) / rep.Seconds
	}
	return rep, nil
}

// explainAll runs the report pipeline (which classifies every image once) and the frame test, and returns the
// pipeline's predictions.
func (rep *evalReport) explainAll(clf *resnet.Classifier, ds *neu.Dataset, a evalArgs) (*resnet.Predictions, error) {
	var err error
	if rep.FrameTest, err = frameTest(clf, ds.Samples); err != nil {
		return nil, err
	}
	var w io.Writer = os.Stderr
	if a.quiet {
		w = nil
	} else {
		fmt.Fprintf(os.Stderr, "classifying and explaining %d images with %d methods\n", len(ds.Samples), len(a.specs))
	}
	res, err := report.Run(report.Config{Model: app.Model(clf), Methods: a.specs, FaithfulnessImages: a.faith,
		SanityImages: a.sanity, RandomizeScopes: app.RandomizeScopes, Seed: 1, Progress: w}, ds)
	if err != nil {
		return nil, err
	}
	rep.Methods, rep.Localization, rep.Faithfulness, rep.Sanity = res.Methods, res.Localization, res.Faithfulness, res.Sanity
	rep.Detection, rep.CAMSeconds, rep.camTable = res.Detection, res.Seconds, res
	rep.Skipped = res.Skipped
	p := &resnet.Predictions{}
	p.Names, p.Labels, p.Probs = res.Predictions()
	return p, nil
}

// setPredictions fills the classification from the predictions: accuracy over the labelled images (null when
// none), a predicted class for each unlabelled one.
func (rep *evalReport) setPredictions(classes []string, p *resnet.Predictions) {
	rep.Evaluation = resnet.NewEvaluation(classes, p.Names, p.Labels, p.Probs)
	if rep.Evaluation.Images > 0 {
		acc := rep.Evaluation.Accuracy
		rep.Accuracy = &acc
	}
	for i, l := range p.Labels {
		if l < 0 || l >= len(classes) {
			rep.Unlabelled++
			k := heatmap.ArgMax(p.Probs[i])
			rep.Predictions = append(rep.Predictions, prediction{Name: p.Names[i], Class: classes[k], Prob: float64(p.Probs[i][k])})
		}
	}
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
	if len(part) == 0 {
		labelled := 0
		for _, s := range ds.Samples {
			if s.Label >= 0 {
				labelled++
			}
		}
		return fmt.Errorf("-split %s selects no image: the split is drawn per class from labelled images, and %d of the %d images have a known class; use -split all for a folder that is not a labelled data set",
			split, labelled, len(ds.Samples))
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
