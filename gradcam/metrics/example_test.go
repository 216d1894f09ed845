package metrics_test

import (
	"fmt"
	"image"

	"github.com/neucam/neucam/gradcam/metrics"
)

// Score one map against its GT box: the share of the map's energy inside the box (e), the uniform map's share (u,
// the box's area fraction), the energy gain g = (e-u)/(1-u) and the pointing game.
func Example() {
	const w, h = 10, 10
	m := make([]float32, w*h)
	for y := 2; y < 6; y++ {
		for x := 2; x < 6; x++ {
			m[y*w+x] = 1 // hot inside the box
		}
	}
	m[9*w+9] = 1 // and one hot pixel outside it
	box := []image.Rectangle{image.Rect(2, 2, 6, 6)}
	e := metrics.EnergyInBoxes(m, w, h, box)
	u := metrics.BoxFraction(w, h, box)
	fmt.Printf("e = %.3f, u = %.2f, g = %.3f\n", e, u, metrics.EnergyGain(e, u))
	fmt.Println("pointing game hit:", metrics.PointingGame(m, w, h, box, metrics.PointingTolerance(w)))
	// Output:
	// e = 0.941, u = 0.16, g = 0.930
	// pointing game hit: true
}
