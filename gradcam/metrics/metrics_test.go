package metrics

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/neucam/neucam/gradcam/heatmap"
)

const eps = 1e-9

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %v, want %v (±%g)", name, got, want, tol)
	}
}

// boxMap is 1 inside the boxes and 0 outside.
func boxMap(w, h int, boxes ...image.Rectangle) []float32 {
	m := make([]float32, w*h)
	mask, _ := BoxMask(w, h, boxes)
	for i, on := range mask {
		if on {
			m[i] = 1
		}
	}
	return m
}

func TestPerfectMap(t *testing.T) {
	w, h := 200, 200
	box := image.Rect(50, 60, 150, 120)
	m := boxMap(w, h, box)
	gt := []image.Rectangle{box}
	e := EnergyInBoxes(m, w, h, gt)
	near(t, "energy", e, 1, eps)
	u := BoxFraction(w, h, gt)
	near(t, "box fraction", u, 100.0*60/40000, eps)
	near(t, "gain", EnergyGain(e, u), 1, eps)
	if !PointingGame(m, w, h, gt, PointingTolerance(w)) {
		t.Error("perfect map misses the pointing game")
	}
	if p, _ := ArgMax(m, w, h); p != box.Min {
		t.Errorf("ArgMax = %v, want the first max %v", p, box.Min)
	}
	for _, th := range []float64{0, 0.5, 0.99} {
		near(t, "box IoU", LocalizationIoU(m, w, h, gt, th), 1, eps)
		near(t, "mask IoU", MaskIoU(m, w, h, gt, th), 1, eps)
	}
}

func TestUniformMap(t *testing.T) {
	w, h := 200, 200
	// Two overlapping boxes: union = 100*50 + 40*100 - 20*50 (overlap (80,40)-(100,90)) = 8000.
	gt := []image.Rectangle{image.Rect(0, 40, 100, 90), image.Rect(80, 0, 120, 100)}
	u := BoxFraction(w, h, gt)
	near(t, "union fraction", u, 8000.0/40000, eps)
	e := EnergyInBoxes(Uniform(w, h), w, h, gt)
	near(t, "uniform energy", e, u, eps)
	near(t, "uniform gain", EnergyGain(e, u), 0, eps)
	// Uniform threshold gives the whole image: IoU of (0,0)-(200,200) with each box, averaged.
	want := (5000.0/40000 + 4000.0/40000) / 2
	near(t, "uniform IoU", LocalizationIoU(Uniform(w, h), w, h, gt, 0.5), want, eps)
	near(t, "uniform mask IoU", MaskIoU(Uniform(w, h), w, h, gt, 0.5), u, eps)
	// A map on the background only: energy 0, gain -u/(1-u).
	bg := boxMap(w, h, image.Rect(150, 150, 200, 200))
	near(t, "background gain", EnergyGain(EnergyInBoxes(bg, w, h, gt), u), -u/(1-u), eps)
	// Boxes covering the whole image: g undefined -> 0.
	near(t, "gain u=1", EnergyGain(1, 1), 0, 0)
	// Boxes outside the image are clipped.
	near(t, "clipped fraction", BoxFraction(10, 10, []image.Rectangle{image.Rect(-5, -5, 5, 20)}), 0.5, eps)
}

func TestPointingTolerance(t *testing.T) {
	w, h := 200, 200
	tol := PointingTolerance(w)
	near(t, "tolerance", tol, 15.0*200/224, eps)
	gt := []image.Rectangle{image.Rect(100, 100, 150, 150)}
	peak := func(x, y int) []float32 {
		m := make([]float32, w*h)
		m[y*w+x] = 1
		return m
	}
	cases := []struct {
		x, y int
		hit  bool
	}{
		{120, 120, true},  // inside
		{87, 120, true},   // 13 px left of Min.X
		{86, 120, false},  // 14 px
		{162, 120, true},  // 13 px right of the last column 149
		{163, 120, false}, // 14 px
		{91, 91, true},    // diagonal 9,9: 12.73 px
		{90, 91, false},   // diagonal 10,9: 13.45 px
		{149, 162, true},  // below the last row 149 by 13
		{149, 163, false}, // by 14
		{0, 0, false},     // far away
		{199, 199, false}, // far away
		{150, 150, true},  // just outside the Max corner: 1.41 px
		{100, 99, true},   // one row above
		{99 - 13, 99, false},
	}
	for _, c := range cases {
		if got := PointingGame(peak(c.x, c.y), w, h, gt, tol); got != c.hit {
			t.Errorf("peak (%d,%d): hit = %v, want %v", c.x, c.y, got, c.hit)
		}
	}
	// Zero tolerance: only inside counts.
	if PointingGame(peak(99, 120), w, h, gt, 0) || !PointingGame(peak(100, 120), w, h, gt, 0) {
		t.Error("zero tolerance must count exactly the box pixels")
	}
	// Ties: first maximum in row-major order, so a uniform map points at (0,0).
	if p, ok := ArgMax(Uniform(w, h), w, h); !ok || p != (image.Point{}) {
		t.Errorf("uniform ArgMax = %v %v, want (0,0)", p, ok)
	}
	m := peak(5, 7)
	m[3*w+150] = 1 // same value earlier in row-major order
	if p, _ := ArgMax(m, w, h); p != image.Pt(150, 3) {
		t.Errorf("tie ArgMax = %v, want (150,3)", p)
	}
}

func TestDegenerateMapsAreFinite(t *testing.T) {
	w, h := 20, 20
	gt := []image.Rectangle{image.Rect(2, 2, 10, 10)}
	nan := make([]float32, w*h)
	for i := range nan {
		nan[i] = float32(math.NaN())
	}
	neg := make([]float32, w*h)
	for i := range neg {
		neg[i] = -1
	}
	inf := make([]float32, w*h)
	inf[5] = float32(math.Inf(1))
	for name, m := range map[string][]float32{"zero": make([]float32, w*h), "nan": nan, "neg": neg, "inf": inf} {
		for metric, v := range map[string]float64{
			"energy":   EnergyInBoxes(m, w, h, gt),
			"iou":      LocalizationIoU(m, w, h, gt, 0.5),
			"mask iou": MaskIoU(m, w, h, gt, 0.5),
			"gain":     EnergyGain(EnergyInBoxes(m, w, h, gt), BoxFraction(w, h, gt)),
			"spearman": SpearmanRank(m, Uniform(w, h)),
		} {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s map: %s = %v", name, metric, v)
			}
		}
		near(t, name+" energy", EnergyInBoxes(m, w, h, gt), 0, 0)
		if PointingGame(m, w, h, gt, 100) {
			t.Errorf("%s map hits the pointing game", name)
		}
		if c := (heatmap.Map{W: w, H: h, V: m}).Components(0); len(c) != 0 {
			t.Errorf("%s map has components %v", name, c)
		}
	}
	// Mixed NaN: NaN pixels count as 0.
	m := boxMap(w, h, gt[0])
	m[0] = float32(math.NaN())
	near(t, "energy with a NaN pixel", EnergyInBoxes(m, w, h, gt), 1, eps)
	// The accumulator keeps everything finite too.
	a := NewAccumulator("nan", []string{"a"}, Options{})
	if _, ok, err := a.Add(0, nan, w, h, gt); err != nil || !ok {
		t.Fatal(ok, err)
	}
	u := BoxFraction(w, h, gt)
	for metric, row := range a.Scores() {
		want := 0.0
		if metric == MetricEnergyGain { // energy 0 is below the uniform u: g = -u/(1-u)
			want = -u / (1 - u)
		}
		for k, v := range row {
			near(t, "nan map "+metric+"["+k+"]", v, want, eps)
		}
	}
}

func TestComponents(t *testing.T) {
	w, h := 8, 6
	m := make([]float32, w*h)
	set := func(x, y int, v float32) { m[y*w+x] = v }
	// Component A: diagonal chain (8-connected) (0,0),(1,1),(2,2) with value 1.
	set(0, 0, 1)
	set(1, 1, 1)
	set(2, 2, 1)
	// Component B: 2x2 block at (5,3)-(7,5) with value 0.6, plus (7,5) diagonal, value 0.4.
	set(5, 3, 0.6)
	set(6, 3, 0.6)
	set(5, 4, 0.6)
	set(6, 4, 0.6)
	set(7, 5, 0.4)
	c := (heatmap.Map{W: w, H: h, V: m}).Components(0)
	if len(c) != 2 {
		t.Fatalf("got %d components %v, want 2", len(c), c)
	}
	if c[0].Box != image.Rect(5, 3, 8, 6) || c[0].Pixels != 5 {
		t.Errorf("largest = %+v, want box (5,3)-(8,6) with 5 pixels", c[0])
	}
	if c[1].Box != image.Rect(0, 0, 3, 3) || c[1].Pixels != 3 {
		t.Errorf("second = %+v, want box (0,0)-(3,3) with 3 pixels", c[1])
	}
	// Threshold 0.5 (> 0.5) drops the 0.4 pixel; 0.6 (strict) drops B entirely.
	if b := camBoxes(m, w, h, 0.5); len(b) != 2 || b[0] != image.Rect(5, 3, 7, 5) {
		t.Errorf("t=0.5 boxes %v", b)
	}
	if b := camBoxes(m, w, h, 0.6); len(b) != 1 || b[0] != image.Rect(0, 0, 3, 3) {
		t.Errorf("t=0.6 boxes %v", b)
	}
	if b := camBoxes(m, w, h, 1); len(b) != 0 {
		t.Errorf("t=1 boxes %v, want none", b)
	}
	// Two equal components: tie broken by first pixel.
	eq := boxMap(10, 10, image.Rect(6, 0, 8, 2), image.Rect(0, 5, 2, 7))
	if c := (heatmap.Map{W: 10, H: 10, V: eq}).Components(0.5); len(c) != 2 || c[0].Box != image.Rect(6, 0, 8, 2) {
		t.Errorf("tie order %v", c)
	}
	near(t, "BoxIoU", BoxIoU(image.Rect(0, 0, 4, 4), image.Rect(2, 0, 6, 4)), 8.0/24, eps)
	near(t, "BoxIoU empty", BoxIoU(image.Rectangle{}, image.Rectangle{}), 0, 0)
	// BestIoU averages over GT boxes: one prediction matching one of two GT boxes gives 0.5.
	near(t, "BestIoU", BestIoU([]image.Rectangle{image.Rect(0, 0, 4, 4)},
		[]image.Rectangle{image.Rect(0, 0, 4, 4), image.Rect(10, 10, 12, 12)}), 0.5, eps)
}

// maxBoxDataset is the hand-made dataset of TestMaxBoxAcc on a 10x10 grid.
func maxBoxDataset() (maps [][]float32, gts [][]image.Rectangle) {
	w := 10
	// Core (0,0)-(4,4) at 1 and a 0.5 extension (4,0)-(10,4): at t < 0.5 one 40 px box (0,0)-(10,4); at
	// t >= 0.5 (strict >) the 16 px core.
	twoLevel := boxMap(w, w, image.Rect(0, 0, 4, 4))
	for y := range 4 {
		for x := 4; x < 10; x++ {
			twoLevel[y*w+x] = 0.5
		}
	}
	core := []image.Rectangle{image.Rect(0, 0, 4, 4)}
	wide := []image.Rectangle{image.Rect(0, 0, 10, 4)}
	far := []image.Rectangle{image.Rect(6, 6, 10, 10)}
	maps = [][]float32{
		twoLevel,                             // 1: GT core: IoU 0.4 at t<0.5, 1 at t>=0.5
		twoLevel,                             // 2: GT wide: IoU 1 at t<0.5, 0.4 at t>=0.5
		twoLevel,                             // 3: like 1
		boxMap(w, w, image.Rect(0, 0, 2, 2)), // 4: never overlaps
		boxMap(w, w, image.Rect(0, 0, 5, 5), image.Rect(6, 6, 10, 10)), // 5: largest component wrong, second right
	}
	gts = [][]image.Rectangle{core, wide, core, far, far}
	return maps, gts
}

func TestMaxBoxAcc(t *testing.T) {
	maps, gts := maxBoxDataset()
	a := NewMaxBoxAcc(BoxAccOptions{})
	for i := range maps {
		if err := a.Add(maps[i], 10, 10, gts[i]); err != nil {
			t.Fatal(err)
		}
	}
	// No box: ignored.
	if err := a.Add(maps[0], 10, 10, nil); err != nil || a.Count() != 5 {
		t.Fatalf("count %d err %v", a.Count(), err)
	}
	// v1: t<0.5 hits image 2 only (1/5); t>=0.5 hits 1 and 3 (2/5).
	c := a.Curve()
	near(t, "v1 acc at t=0.3", c[30], 0.2, eps)
	near(t, "v1 acc at t=0.49", c[49], 0.2, eps)
	near(t, "v1 acc at t=0.5", c[50], 0.4, eps)
	near(t, "MaxBoxAcc", a.Value(), 0.4, eps)
	near(t, "best threshold", a.BestThreshold(), 0.5, eps)
	// v2, delta 0.3: images 1,2,3,5 at every threshold (0.8); delta 0.5 and 0.7: t<0.5 {2,5}, t>=0.5 {1,3,5}.
	near(t, "v2 delta 0.3", a.CurveV2(0)[10], 0.8, eps)
	near(t, "v2 delta 0.5 low t", a.CurveV2(1)[10], 0.4, eps)
	near(t, "v2 delta 0.7 high t", a.CurveV2(2)[80], 0.6, eps)
	near(t, "MaxBoxAccV2", a.ValueV2(), (0.8+0.6+0.6)/3, eps)

	// Merge of two halves equals the whole; per-class accumulators split the data.
	cls := NewClassMaxBoxAcc(2, BoxAccOptions{})
	for i := range maps {
		if err := cls.Add(i%2, maps[i], 10, 10, gts[i]); err != nil {
			t.Fatal(err)
		}
	}
	near(t, "All", cls.All.Value(), a.Value(), 0)
	near(t, "All v2", cls.All.ValueV2(), a.ValueV2(), 0)
	// Class 0 = images 1,3,5: t>=0.5 hits 1,3 -> 2/3. Class 1 = images 2,4: t<0.5 hits 2 -> 1/2.
	near(t, "class 0", cls.Classes[0].Value(), 2.0/3, eps)
	near(t, "class 1", cls.Classes[1].Value(), 0.5, eps)
	m := NewMaxBoxAcc(BoxAccOptions{})
	for _, c := range cls.Classes {
		if err := m.Merge(c); err != nil {
			t.Fatal(err)
		}
	}
	near(t, "merged", m.Value(), a.Value(), 0)
	if err := m.Merge(NewMaxBoxAcc(BoxAccOptions{Thresholds: []float64{0.5}})); err == nil {
		t.Error("merging different thresholds must fail")
	}
	if err := a.Add(make([]float32, 3), 10, 10, gts[0]); err == nil {
		t.Error("wrong map size must fail")
	}
}

// TestSweepMatchesComponents checks the union-find threshold sweep against labelling every threshold.
func TestSweepMatchesComponents(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	w, h := 23, 17
	ths := []float64{0, 0.1, 0.2, 0.3, 0.45, 0.5, 0.6, 0.75, 0.9, 0.99}
	for trial := range 30 {
		m := make([]float32, w*h)
		for i := range m {
			m[i] = float32(rng.IntN(11)) / 10 // many ties and zeros
		}
		if trial%3 == 0 { // smoother maps: blur the noise
			m = Blur(m, w, h, 2, 2)
		}
		gt := []image.Rectangle{image.Rect(rng.IntN(10), rng.IntN(8), 12+rng.IntN(11), 9+rng.IntN(8)),
			image.Rect(rng.IntN(5), rng.IntN(5), 5+rng.IntN(5), 5+rng.IntN(5))}
		best1, bestAll := boxIoUsPerThreshold(m, w, h, gt, ths)
		for ti, th := range ths {
			boxes := camBoxes(m, w, h, th)
			var b1, ba float64
			if len(boxes) > 0 {
				for _, g := range gt {
					b1 = max(b1, BoxIoU(boxes[0], g))
				}
			}
			for _, b := range boxes {
				for _, g := range gt {
					ba = max(ba, BoxIoU(b, g))
				}
			}
			if b1 != best1[ti] || ba != bestAll[ti] {
				t.Fatalf("trial %d t=%v: sweep (%v,%v) != components (%v,%v)", trial, th, best1[ti], bestAll[ti], b1, ba)
			}
		}
	}
}

func TestBaselines(t *testing.T) {
	w, h := 200, 100
	g := CenterGaussian(w, h, 0)
	// Centre is at (99.5, 49.5): the four central pixels share the peak; symmetric under flips.
	if g[49*w+99] != g[50*w+100] || g[0] != g[h*w-1] || g[0] != g[w-1] {
		t.Error("CenterGaussian is not symmetric")
	}
	// sigma_x = 0.25*200 = 50 px, sigma_y = 25 px; pixel (99,49) is half a pixel from the centre on each axis.
	near(t, "peak", float64(g[49*w+99]), math.Exp(-0.5*(0.01*0.01+0.02*0.02)), 1e-6)
	// Pixel x=149 is 49.5 px right of the centre: exp(-0.5*(49.5/50)^2) times the same y factor.
	near(t, "gaussian at x=149", float64(g[49*w+149]), math.Exp(-0.5*(0.99*0.99+0.02*0.02)), 1e-6)
	r := Random(w, h, rand.New(rand.NewPCG(3, 4)))
	var s float64
	for _, v := range r {
		if v < 0 || v >= 1 {
			t.Fatalf("random value %v outside [0,1)", v)
		}
		s += float64(v)
	}
	near(t, "random mean", s/float64(len(r)), 0.5, 0.01)
	// Random energy is close to the box fraction (the chance level).
	gt := []image.Rectangle{image.Rect(0, 0, 100, 100)}
	near(t, "random energy", EnergyInBoxes(r, w, h, gt), 0.5, 0.01)
}
