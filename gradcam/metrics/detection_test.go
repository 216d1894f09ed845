package metrics

import (
	"encoding/json"
	"image"
	"math"
	"testing"
)

func TestAveragePrecision(t *testing.T) {
	gt := func(c int, r image.Rectangle) GTBox { return GTBox{Class: c, Box: r} }
	a, b := image.Rect(0, 0, 10, 10), image.Rect(20, 20, 30, 30)
	d := NewDetectionEval(2)
	// Image 1: a hit on a (0.9) and a duplicate of it (0.8, false positive). Image 2: b found at 0.7, and a
	// box of class 1 where only class 0 is (false positive of class 1).
	d.Add([]Detection{{0, 0.9, a}, {0, 0.8, a}}, []GTBox{gt(0, a)})
	d.Add([]Detection{{0, 0.7, b}, {1, 0.5, b}}, []GTBox{gt(0, b)})
	// Precision at ranks 1..3: 1, 1/2, 2/3; recall 1/2, 1/2, 1. Envelope: 1 up to recall 1/2, then 2/3.
	if got, want := d.AP(0, 0.5), 0.5*1+0.5*2.0/3; math.Abs(got-want) > 1e-12 {
		t.Errorf("AP class 0 = %g, want %g", got, want)
	}
	if got := d.AP(1, 0.5); !math.IsNaN(got) {
		t.Errorf("AP of a class without GT = %g, want NaN", got)
	}
	// A box shifted by 5 px: IoU 50/150 = 1/3 at each image -> no hit at 0.5.
	e := NewDetectionEval(1)
	e.Add([]Detection{{0, 0.9, a.Add(image.Pt(5, 0))}}, []GTBox{gt(0, a)})
	if got := e.AP(0, 0.5); got != 0 {
		t.Errorf("AP of a miss = %g, want 0", got)
	}
	if got := e.AP(0, 0.3); got != 1 {
		t.Errorf("AP at IoU 0.3 of a 1/3-IoU box = %g, want 1", got)
	}
	s := d.Summary([]string{"x", "y"})
	if math.Abs(s.MAP50.Mean-d.AP(0, 0.5)) > 1e-12 || !math.IsNaN(s.MAP50.Values[1]) {
		t.Errorf("summary %+v: the mean must skip the class without GT", s.MAP50)
	}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]map[string]float64
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	if _, ok := back["map50"]["y"]; ok || math.Abs(back["map50"]["x"]-s.MAP50.Values[0]) > 1e-5 || back["map50_95"]["mean"] != back["map50_95"]["x"] {
		t.Errorf("JSON %s", js)
	}
}

func TestDetect(t *testing.T) {
	const w, h = 20, 10
	m := make([]float32, w*h)
	for y := 2; y < 5; y++ {
		for x := 1; x < 4; x++ {
			m[y*w+x] = 1 // 3x3 block, value 1
		}
	}
	for x := 10; x < 16; x++ {
		m[7*w+x] = 0.6 // 6x1 line, value 0.6
	}
	m[0] = 0.55 // one-pixel speck: dropped by MinAreaFrac 0.02 (4 px)
	maps := [][]float32{m, m}
	dets := Detect(maps, []float32{0.8, 0.05}, w, h, DetectOptions{MinProb: 0.1, Threshold: 0.5, MinAreaFrac: 0.02})
	if len(dets) != 2 {
		t.Fatalf("got %d detections %+v, want 2 (class 1 below MinProb, speck too small)", len(dets), dets)
	}
	if dets[0].Box != image.Rect(1, 2, 4, 5) || math.Abs(dets[0].Score-0.8) > 1e-6 {
		t.Errorf("largest component %+v, want the 9-pixel block scored 0.8*1", dets[0])
	}
	if dets[1].Box != image.Rect(10, 7, 16, 8) || math.Abs(dets[1].Score-0.8*0.6) > 1e-6 {
		t.Errorf("second component %+v, want the 6-pixel line scored 0.8*0.6", dets[1])
	}
	if got := ScaleRect(image.Rect(1, 2, 4, 5), image.Pt(20, 10), image.Pt(200, 50)); got != image.Rect(10, 10, 40, 25) {
		t.Errorf("ScaleRect = %v", got)
	}
}
