package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSquaredDistanceToMaskBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 30 {
		w, h := 1+rng.IntN(17), 1+rng.IntN(13)
		mask := make([]bool, w*h)
		p := []float64{0, 0.02, 0.2, 0.9}[trial%4]
		for i := range mask {
			mask[i] = rng.Float64() < p
		}
		got := SquaredDistanceToMask(mask, w, h)
		for y := range h {
			for x := range w {
				want := math.Inf(1)
				for j, v := range mask {
					if v {
						dx, dy := float64(x-j%w), float64(y-j/w)
						want = min(want, dx*dx+dy*dy)
					}
				}
				if got[y*w+x] != want {
					t.Fatalf("%dx%d p=%g: distance at (%d,%d) = %g, want %g", w, h, p, x, y, got[y*w+x], want)
				}
			}
		}
	}
}

func TestMaskMetrics(t *testing.T) {
	const w, h = 20, 10
	mask := make([]bool, w*h)
	for y := 2; y < 4; y++ {
		for x := 15; x < 18; x++ {
			mask[y*w+x] = true // 6 pixels
		}
	}
	m := make([]float32, w*h)
	m[3*w+16] = 3 // inside
	m[9*w+0] = 1  // far away
	if e := EnergyInMask(m, w, h, mask); math.Abs(e-0.75) > 1e-12 {
		t.Errorf("energy %g, want 0.75", e)
	}
	if f := MaskFraction(mask); f != 6.0/200 {
		t.Errorf("fraction %g", f)
	}
	if s := PointingScoreMask(m, w, h, mask, 0); s != 1 {
		t.Errorf("pointing at a mask pixel: %g", s)
	}
	m[3*w+16] = 0
	m[5*w+16] = 3 // two rows below the mask
	if s := PointingScoreMask(m, w, h, mask, 1.5); s != 0 {
		t.Errorf("2 px away, tolerance 1.5: %g, want 0", s)
	}
	if s := PointingScoreMask(m, w, h, mask, 2); s != 1 {
		t.Errorf("2 px away, tolerance 2: %g, want 1", s)
	}
	// A flat map scores the chance level: the share of pixels within the tolerance (here on the mask).
	if s := PointingScoreMask(Uniform(w, h), w, h, mask, 0); math.Abs(s-0.03) > 1e-12 {
		t.Errorf("uniform pointing %g, want 0.03", s)
	}

	s := NewSuite([]string{"a", "b"}, Options{Tolerance: 1}, 1)
	if err := s.AddMaskBaselines(1, w, h, mask); err != nil {
		t.Fatal(err)
	}
	if ms, ok, err := s.AddMask("x", 1, m, w, h, mask); err != nil || !ok || ms.EnergyInMask != 0 || ms.MaskFraction != 0.03 {
		t.Fatalf("AddMask: %+v %v %v", ms, ok, err)
	}
	sc := s.Scores()
	if g := sc[BaselineUniform][MetricEnergyGainMask][Mean]; math.Abs(g) > 1e-9 {
		t.Errorf("uniform gain %g, want 0", g)
	}
	if e := sc["x"][MetricEnergyInMask]["b"]; e != 0 {
		t.Errorf("map off the mask: energy %g", e)
	}
	if _, ok, err := s.Accumulator("x").AddMask(0, m, w, h, make([]bool, w*h)); ok || err != nil {
		t.Errorf("empty mask: ok %v err %v, want not scored", ok, err)
	}
	if _, _, err := s.Accumulator("x").AddMask(0, m, w, h, mask[:5]); err == nil {
		t.Error("short mask accepted")
	}
}
