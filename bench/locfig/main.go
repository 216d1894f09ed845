// Command locfig draws the before/after figure of docs/LOCALIZATION.md and the README: test images of each class
// (the first N of the project's test split, in split order) with their GT boxes, and the same method's map of the
// true class from two models side by side; each row's caption gives the second model's prediction.
//
//	GOEXPERIMENT=simd go run ./bench/locfig -a /tmp/old-model -a-name "cross-entropy only" -b "" \
//	    -b-name "box loss (shipped)" -per-class 1 -out docs/box_loss.png
package main

import (
	"flag"
	"fmt"
	"image"
	"log"
	"os"

	"github.com/neucam/neucam/app"
	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/gradcam/render"
	"github.com/neucam/neucam/gradcam/resnet"
	"github.com/neucam/neucam/neu"
)

func main() {
	a := flag.String("a", "", "first model folder (\"\": the shipped model)")
	b := flag.String("b", "", "second model folder (\"\": the shipped model)")
	aName := flag.String("a-name", "model A", "caption of the first model's column")
	bName := flag.String("b-name", "model B", "caption of the second model's column")
	method := flag.String("method", "gradcam", "explain method")
	perClass := flag.Int("per-class", 1, "test images per class")
	class := flag.String("class", "", "only this class (default: every class)")
	scale := flag.Int("scale", 1, "tile scale (1: 200 px tiles)")
	out := flag.String("out", "locfig.png", "output PNG")
	flag.Parse()
	if err := run(*a, *b, *aName, *bName, *method, *class, *perClass, *scale, *out); err != nil {
		log.Fatal(err)
	}
}

func run(a, b, aName, bName, method, class string, perClass, scale int, out string) error {
	samples, err := pick(class, perClass)
	if err != nil {
		return err
	}
	var results []*explain.Result
	for _, dir := range []string{a, b} {
		c, err := resnet.Load(dir)
		if err != nil {
			return err
		}
		r, err := app.Explain(c, samples, method)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	opts := render.DefaultOptions()
	opts.Scale = scale
	return draw(results, []string{aName, bName}, opts, out)
}

// pick returns the first n test images of each class (or of one class), in split order.
func pick(class string, n int) ([]neu.Sample, error) {
	dir, err := app.DataDir()
	if err != nil {
		return nil, err
	}
	_, _, test, err := app.Split(dir)
	if err != nil {
		return nil, err
	}
	var keep []neu.Sample
	for _, s := range test {
		if class == "" || neu.Classes[s.Label] == class {
			keep = append(keep, s)
		}
	}
	out := neu.LimitPerClass(keep, n)
	if len(out) == 0 {
		return nil, fmt.Errorf("locfig: no test image of class %q", class)
	}
	return out, nil
}

// draw stacks one MethodRow per image: image + GT | model A's map of the true class | model B's.
func draw(results []*explain.Result, names []string, opts render.Options, out string) error {
	var rows []*image.RGBA
	for i := range results[0].Images {
		panels := []render.Panel{results[0].Panel(i, 0), results[1].Panel(i, 0)}
		panels[0].PredClass, panels[0].Prob = panels[1].PredClass, panels[1].Prob // the caption: model B's prediction
		row, err := render.MethodRow(panels, names, results[0].Images[i].Label, opts)
		if err != nil {
			return err
		}
		rows = append(rows, row)
	}
	if err := render.SavePNG(out, render.Stack(rows)); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %s (%d images)\n", out, len(rows))
	return nil
}
