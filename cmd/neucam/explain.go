package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/neucam/neucam/app"
	"github.com/neucam/neucam/app/report"
	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/gradcam/render"
	"github.com/neucam/neucam/gradcam/resnet"
	"github.com/neucam/neucam/neu"
)

const explainUsage = `usage: neucam explain [flags] PATH...

PATH is a NEU-DET-layout folder (images/ + annotations/), a plain folder of images, or image files (JPEG/PNG).
Writes OUT/index.html (self-contained report), OUT/images/*.png (one figure per image) and OUT/results.json.
Unreadable files are listed with their reason and skipped; the exit status is non-zero only when no image could
be processed.

Methods: %s;
  NAME@LAYER[+LAYER] picks/fuses target layers (stem, layer1..layer4; default layer4),
  NAME:tta averages the 8 flips/rotations, NAME:flips the 4 flips, NAME:smooth averages noisy copies,
  NAME:logprob explains log p_k, NAME:pgc uses pytorch-grad-cam's formula (gradcam++, eigencam, scorecam).

flags:
`

func runExplain(args []string) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	modelDir := fs.String("model", "", "model folder from `neucam train` (default: the shipped model)")
	methods := fs.String("methods", "gradcam,gradcam++,layercam", "comma-separated CAM methods (see above)")
	out := fs.String("out", "neucam-report", "output folder")
	batch := fs.Int("batch", 16, "images per batch (bounds memory)")
	limit := fs.Int("limit", 0, "explain only N images, taken in turn from each class (0: all)")
	split := fs.String("split", "all", "all, or train/val/test of the project's split (test: images the shipped model never saw)")
	cmap := fs.String("colormap", "turbo", "colormap: "+fmt.Sprint(render.ColormapNames()))
	alpha := fs.Float64("alpha", 0.45, "heatmap opacity in overlays")
	threshold := fs.Float64("threshold", 0.5, "CAM boxes: fraction of the map maximum (0: no CAM boxes)")
	scale := fs.Int("scale", 1, "display upscaling of each tile")
	seed := fs.Int64("seed", 1, "seed for randomised methods and baselines")
	embed := fs.Int("embed", 200, "index.html inlines the figures of the first N images (most wrong first) and links the rest (0: all)")
	fs.Usage = func() { fmt.Fprintf(fs.Output(), explainUsage, explain.MethodSyntax()); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
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
	clf, err := resnet.Load(*modelDir)
	if err != nil {
		return err
	}
	ds, err := neu.LoadWithClasses(clf.Classes(), fs.Args()...)
	if err != nil {
		return err
	}
	if err := selectSplit(ds, *split); err != nil {
		return err
	}
	if *limit > 0 && len(ds.Samples) > *limit {
		ds.Samples = firstPerClass(ds.Samples, *limit)
	}
	fmt.Printf("explain: %d images (%d skipped while loading), model %s, methods %s -> %s\n",
		len(ds.Samples), len(ds.Skipped), clf.Source(), *methods, *out)
	opts := render.DefaultOptions()
	opts.Colormap, opts.Alpha, opts.Threshold, opts.Scale = cm, *alpha, *threshold, *scale
	opts.ShowCAMBoxes = *threshold > 0
	res, err := report.Run(report.Config{
		Model: app.Model(clf), Methods: specs, BatchSize: *batch, OutDir: *out, Render: opts,
		Seed: *seed, Progress: os.Stdout,
	}, ds)
	if err != nil {
		return err
	}
	if err := res.WriteJSON(filepath.Join(*out, "results.json")); err != nil {
		return err
	}
	title := fmt.Sprintf("neucam explain: %s (%s)", filepath.Base(fs.Arg(0)), time.Now().Format("2006-01-02 15:04"))
	if err := res.WriteHTML(*out, title, *embed); err != nil {
		return err
	}
	if res.Labelled > 0 {
		fmt.Printf("accuracy %.2f%% on %d labelled images\n", 100*res.Accuracy, res.Labelled)
		if err := res.WriteTable(os.Stdout); err != nil {
			return err
		}
	}
	for _, s := range res.Skipped {
		fmt.Printf("skipped %s: %s\n", s.Path, s.Reason)
	}
	fmt.Printf("wrote %s, %s and %d image PNGs in %.1f s\n", filepath.Join(*out, "index.html"),
		filepath.Join(*out, "results.json"), res.Images, res.Seconds)
	if res.Images == 0 {
		return fmt.Errorf("no image could be processed (%d skipped)", len(res.Skipped))
	}
	return nil
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
