package explain_test

import (
	"fmt"
	"image"
	"image/color"

	"github.com/gomlx/compute"
	_ "github.com/gomlx/compute/gobackend"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/neucam/neucam/gradcam/explain"
)

// A two-class "model" without weights: the feature map "dark" is 1 - pixel and the logits are 10 x the mean of the
// dark and of the light pixels. Grad-CAM of class "dark" then finds the dark square.
func Example() {
	backend, err := compute.NewWithConfig("go:ops_sequential")
	if err != nil {
		panic(err)
	}
	fn := func(scope *model.Scope, images *graph.Node) (*graph.Node, map[string]*graph.Node) {
		dark := graph.OneMinus(images) // [B,S,S,1]
		logits := graph.Concatenate([]*graph.Node{graph.ReduceMean(dark, 1, 2), graph.ReduceMean(images, 1, 2)}, -1)
		return graph.MulScalar(logits, 10), map[string]*graph.Node{"dark": dark}
	}
	m := &explain.Model{Backend: backend, Store: model.NewStore(), Fn: fn, Size: 16,
		Classes: []string{"dark", "light"}, Layers: []string{"dark"}}

	img := image.NewGray(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			img.SetGray(x, y, color.Gray{Y: 200})
			if x >= 4 && x < 8 && y >= 4 && y < 8 {
				img.SetGray(x, y, color.Gray{Y: 20})
			}
		}
	}
	res, err := explain.New(m, explain.DefaultOptions()).Explain([]explain.Image{{Name: "square", Gray: img, Label: 0}}, "gradcam")
	if err != nil {
		panic(err)
	}
	x := res.Images[0]
	fmt.Printf("predicted %s, p(dark) = %.3f\n", res.Classes[x.Pred], x.Probs[0])
	dark := x.Maps[0][0] // method 0, class 0
	fmt.Printf("map %dx%d, CAM boxes of %q: %v\n", dark.W, dark.H, res.Classes[0], dark.Boxes(0.5))
	// Output:
	// predicted light, p(dark) = 0.008
	// map 16x16, CAM boxes of "dark": [(4,4)-(8,8)]
}

// ExampleParseMethod: the method grammar shared by the API and the neucam CLI; String is its canonical form.
func ExampleParseMethod() {
	m, err := explain.ParseMethod("GradCAM@layer3+layer4:logprob:tta")
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Name, m.Layers, m.LogProb)
	fmt.Println(m)
	_, err = explain.ParseMethod("gradcam:blur")
	fmt.Println(err)
	// Output:
	// gradcam [layer3 layer4] true
	// gradcam@layer3+layer4:tta:logprob
	// method "gradcam:blur": unknown modifier "blur" (want tta, flips, smooth, logprob or pgc)
}
