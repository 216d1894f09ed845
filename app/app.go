// Package app is the NEU-DET application on top of the gradcam library: it adapts the NEU ResNet
// (gradcam/resnet) and NEU samples (package neu) to the explain layer. The HTML/JSON report pipeline is app/report,
// the command line cmd/neucam. Data flows one way: neu, gradcam/resnet -> app -> app/report -> cmd/neucam; the
// library (gradcam and its subpackages other than resnet) imports none of them.
package app

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/neucam/neucam/gradcam"
	"github.com/neucam/neucam/gradcam/explain"
	"github.com/neucam/neucam/gradcam/resnet"
	"github.com/neucam/neucam/neu"
)

// Model adapts the NEU ResNet classifier: CAM methods target "layer4" (the last block, 16x16 for the shipped
// 128 px model) by default and CAM reads the dense head.
func Model(c *resnet.Classifier) *explain.Model {
	return &explain.Model{
		Backend:     c.Backend(),
		Store:       c.Store(),
		Fn:          c.ModelFn(),
		Size:        c.Size(),
		Classes:     c.Classes(),
		Layers:      []string{"layer4"},
		HeadWeights: gradcam.HeadWeightsVariable(resnet.ModelVarScope + "/head/weights"),
	}
}

// RandomizeScopes are the top layers of the NEU ResNet that the sanity check re-initialises.
var RandomizeScopes = []string{resnet.ModelVarScope + "/layer4", resnet.ModelVarScope + "/head"}

// Image reads one sample's image; its boxes and label come along (label -1 when unknown).
func Image(s neu.Sample) (explain.Image, error) {
	g, err := neu.ReadImage(s.ImagePath)
	if err != nil {
		return explain.Image{}, err
	}
	im := explain.Image{Name: s.Name, Gray: g, Label: s.Label}
	for _, b := range s.Boxes {
		im.Boxes = append(im.Boxes, explain.Box{Class: b.Class, Rect: b.Rect})
	}
	return im, nil
}

// Images reads the samples' images; unreadable files are returned as skipped, with the reason.
func Images(samples []neu.Sample) ([]explain.Image, []neu.Skipped) {
	var out []explain.Image
	var skipped []neu.Skipped
	for _, s := range samples {
		im, err := Image(s)
		if err != nil {
			skipped = append(skipped, neu.Skipped{Path: s.ImagePath, Reason: err.Error()})
			continue
		}
		out = append(out, im)
	}
	return out, skipped
}

// Explain explains NEU samples with the classifier: methods is a comma-separated list in the explain grammar
// (explain.MethodSyntax), e.g. "gradcam,eigencam". An unreadable image is an error here; use Images and an
// explain.Explainer to skip such files instead.
func Explain(c *resnet.Classifier, samples []neu.Sample, methods string) (*explain.Result, error) {
	images, skipped := Images(samples)
	if len(skipped) > 0 {
		return nil, fmt.Errorf("%s", skipped[0])
	}
	return explain.New(Model(c), explain.DefaultOptions()).Explain(images, methods)
}

// DataDir is the NEU-DET folder for notebooks and examples: $NEU_DATA when set, else shared/neu-det in or beside
// the first folder, going up from the working directory, that has one.
func DataDir() (string, error) {
	if d := os.Getenv("NEU_DATA"); d != "" {
		return d, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		for _, c := range []string{filepath.Join(dir, "shared", "neu-det"), filepath.Join(dir, "..", "shared", "neu-det")} {
			if st, err := os.Stat(filepath.Join(c, "images")); err == nil && st.IsDir() {
				return filepath.Clean(c), nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("NEU-DET not found: set NEU_DATA or put it at shared/neu-det beside the repository")
		}
		dir = parent
	}
}

// Split is the project's split (neu.Split with the neu defaults, what the shipped model was trained with) of the
// labelled images of the data set at dir.
func Split(dir string) (train, val, test []neu.Sample, err error) {
	ds, err := neu.Load(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	train, val, test = neu.Split(ds.Samples, neu.DefaultSeed, neu.DefaultValFrac, neu.DefaultTestFrac)
	return train, val, test, nil
}

// TestSamples returns the named images of the test split of the NEU data (DataDir), in that order; no names:
// the whole test split (images the shipped model never saw).
func TestSamples(names ...string) ([]neu.Sample, error) {
	dir, err := DataDir()
	if err != nil {
		return nil, err
	}
	_, _, test, err := Split(dir)
	if err != nil || len(names) == 0 {
		return test, err
	}
	byName := map[string]neu.Sample{}
	for _, s := range test {
		byName[s.Name] = s
	}
	out := make([]neu.Sample, len(names))
	for i, n := range names {
		s, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("%s is not in the test split", n)
		}
		out[i] = s
	}
	return out, nil
}
