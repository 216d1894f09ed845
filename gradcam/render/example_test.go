package render_test

import (
	"fmt"
	"image"

	"github.com/neucam/neucam/gradcam/heatmap"
	"github.com/neucam/neucam/gradcam/render"
)

// Draw one row: the image with its GT box, the map with a colour bar, and the overlay with the map's CAM box.
func ExampleImageRow() {
	g := image.NewGray(image.Rect(0, 0, 40, 40))
	for i := range g.Pix {
		g.Pix[i] = 128
	}
	heat := heatmap.New(4, 4) // a coarse map; the row resamples it to the image
	heat.V[1*4+1], heat.V[1*4+2] = 1, 0.8
	p := render.Panel{Gray: g, Name: "demo", TrueClass: "defect", PredClass: "defect", Prob: 0.93,
		ClassNames: []string{"defect", "clean"}, Maps: []heatmap.Map{heat, heatmap.New(4, 4)},
		GT: []render.Box{{Rect: image.Rect(8, 8, 24, 20), Label: "defect"}}}
	row, err := render.ImageRow(p, 0, render.DefaultOptions())
	if err != nil {
		panic(err)
	}
	fmt.Println("row size:", row.Bounds().Size())
	fmt.Println("same as RowSize:", row.Bounds().Size() == render.RowSize(g.Bounds().Size(), false, render.DefaultOptions()))
	fmt.Println("CAM boxes on the image grid:", heat.Resized(40, 40).Boxes(0.5))
	// Output:
	// row size: (340,157)
	// same as RowSize: true
	// CAM boxes on the image grid: [(10,10)-(29,20)]
}
