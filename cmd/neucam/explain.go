package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/neucam/neucam/app"
	"github.com/neucam/neucam/app/report"
	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/gradcam/render"
	"github.com/neucam/neucam/gradcam/resnet"
	"github.com/neucam/neucam/neu"
)

const explainDescription = `Explains the model's predictions: for every image, a heatmap per method of where the model saw the class,
beside the image and its ground-truth (GT) boxes, scored against the boxes and against baselines.
PATH is a NEU-DET-layout folder (images/ + annotations/), a plain folder of images, or image files (JPEG/PNG);
flags may come before or after the paths. Writes OUT/index.html (summary, legend, glossary, tables, one figure per
image), OUT/images/NAME.png (one figure per image) and OUT/results.json. Unreadable files are listed with their
reason and skipped; the exit status is non-zero only when no image could be processed. Images without a known
class get predictions (printed and in results.json), not accuracy.

Target layers for @LAYER: stem, layer1..layer4 (default layer4); several are fused.`

func runExplain(args []string) error {
	fs := newFlags("explain", "[flags] PATH...", explainDescription+"\n\nMethods: "+explain.MethodSyntax(),
		"neucam explain -split test -limit 100 -out report ../shared/neu-det")
	modelDir := fs.String("model", "", "model folder written by neucam train (default: the shipped model)")
	methods := fs.String("methods", "gradcam,gradcam++,layercam", "comma-separated methods (see above)")
	out := fs.String("out", "neucam-report", "output folder")
	batch := fs.Int("batch", 16, "images per batch (bounds memory)")
	limit := fs.Int("limit", 0, "explain only N images, taken in turn from each class (0: all)")
	split := fs.String("split", "all", "all, or train/val/test of the project's split of a labelled data set (test: images the shipped model never saw)")
	d := render.DefaultOptions()
	cmap := fs.String("colormap", d.Colormap.Name(), "colormap: "+strings.Join(render.ColormapNames(), ", "))
	alpha := fs.Float64("alpha", d.Alpha, "heatmap opacity in overlays")
	threshold := fs.Float64("threshold", d.Threshold, "dashed CAM boxes around the map above this fraction of its maximum (0: none)")
	scale := fs.Int("scale", 1, "display upscaling of each tile")
	seed := fs.Int64("seed", 1, "seed for randomised methods and baselines")
	allClasses := fs.Bool("all-classes", false, "also write images/NAME.classes.png (heatmap row and every class's map for the first method)")
	paths, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		fs.Usage()
		return fmt.Errorf("no PATH given")
	}
	specs, err := explain.ParseMethods(*methods)
	if err != nil {
		return err
	}
	cm, err := render.ColormapByName(*cmap)
	if err != nil {
		return err
	}
	clf, ds, err := loadModelAndData(*modelDir, paths, *split)
	if err != nil {
		return err
	}
	if *limit > 0 && len(ds.Samples) > *limit {
		ds.Samples = firstPerClass(ds.Samples, *limit)
	}
	fmt.Printf("explain: %d images (%d skipped while loading), model %s, methods %s -> %s\n",
		len(ds.Samples), len(ds.Skipped), clf.Source(), *methods, *out)
	opts := d
	opts.Colormap, opts.Alpha, opts.Threshold, opts.Scale = cm, *alpha, *threshold, *scale
	opts.ShowCAMBoxes = *threshold > 0
	res, err := report.Run(report.Config{
		Model: app.Model(clf), Methods: specs, BatchSize: *batch, OutDir: *out, AllClasses: *allClasses, Render: opts,
		Seed: *seed, Progress: os.Stdout,
	}, ds)
	if err != nil {
		return err
	}
	return writeExplainOutputs(res, *out, paths[0])
}

// writeExplainOutputs writes results.json and index.html and prints a short summary: accuracy and the
// localization summary when images are labelled, a prediction per unlabelled image, the skipped files.
func writeExplainOutputs(res *report.Results, out, firstPath string) error {
	if err := res.WriteJSON(filepath.Join(out, "results.json")); err != nil {
		return err
	}
	title := fmt.Sprintf("neucam explain: %s (%s)", filepath.Base(firstPath), time.Now().Format("2006-01-02 15:04"))
	if err := res.WriteHTML(out, title); err != nil {
		return err
	}
	if res.Accuracy != nil {
		fmt.Printf("accuracy %.2f%% on %d labelled images\n", 100**res.Accuracy, res.Labelled)
		if len(res.Localization) > 0 {
			if err := res.SummaryTable().WriteText(os.Stdout); err != nil {
				return err
			}
		}
	}
	printPredictions(res)
	for _, s := range res.Skipped {
		fmt.Printf("skipped %s: %s\n", s.Path, s.Reason)
	}
	fmt.Printf("wrote %s, %s and %d image PNGs in %.1f s\n", filepath.Join(out, "index.html"),
		filepath.Join(out, "results.json"), res.Images, res.Seconds)
	if res.Images == 0 {
		return fmt.Errorf("no image could be processed (%d skipped)", len(res.Skipped))
	}
	return nil
}

// printPredictions lists the predicted class of every image whose class is unknown (at most 50 lines).
func printPredictions(res *report.Results) {
	n := 0
	for _, ir := range res.PerImage {
		if ir.TrueClass != "" {
			continue
		}
		if n++; n > 50 {
			fmt.Printf("... and %d more unlabelled images (see results.json)\n", res.Images-res.Labelled-50)
			return
		}
		fmt.Printf("prediction %s: %s %.3f\n", ir.Name, ir.PredClass, ir.Prob)
	}
}

// loadModelAndData loads the model and the images of paths (read against the model's classes) and keeps one part
// of the project's split.
func loadModelAndData(modelDir string, paths []string, split string) (*resnet.Classifier, *neu.Dataset, error) {
	clf, err := resnet.Load(modelDir)
	if err != nil {
		return nil, nil, err
	}
	ds, err := neu.LoadWithClasses(clf.Classes(), paths...)
	if err != nil {
		return nil, nil, err
	}
	if err := selectSplit(ds, split); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", strings.Join(paths, " "), err)
	}
	return clf, ds, nil
}

// firstPerClass keeps n samples, taking the next sample of each label in turn (unlabelled images form their own
// group), so a limited run still shows every class; the result keeps the input order.
func firstPerClass(samples []neu.Sample, n int) []neu.Sample {
	byLabel := map[int][]int{}
	var labels []int
	for i, s := range samples {
		if _, ok := byLabel[s.Label]; !ok {
			labels = append(labels, s.Label)
		}
		byLabel[s.Label] = append(byLabel[s.Label], i)
	}
	keep := make([]bool, len(samples))
	for taken, round := 0, 0; taken < n; round++ {
		progress := false
		for _, l := range labels {
			if round < len(byLabel[l]) && taken < n {
				keep[byLabel[l][round]] = true
				taken++
				progress = true
			}
		}
		if !progress {
			break
		}
	}
	var out []neu.Sample
	for i, s := range samples {
		if keep[i] {
			out = append(out, s)
		}
	}
	return out
}
