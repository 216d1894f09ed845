package metrics

import (
	"math"
	"testing"
)

func TestSpearman(t *testing.T) {
	a := []float32{0.1, 0.5, 0.3, 0.9, 0.7}
	rev := []float32{0.9, 0.5, 0.7, 0.1, 0.3} // order reversed
	near(t, "identical", SpearmanRank(a, a), 1, eps)
	near(t, "reversed", SpearmanRank(a, rev), -1, eps)
	// A monotone transform keeps the ranks.
	sq := make([]float32, len(a))
	for i, v := range a {
		sq[i] = float32(math.Exp(float64(v) * 10))
	}
	near(t, "monotone", SpearmanRank(a, sq), 1, eps)
	// Ties: ranks (1, 2.5, 2.5, 4) vs (1, 2, 3, 4): r = 4.5/sqrt(4.5*5) = 3/sqrt(10).
	near(t, "ties", SpearmanRank([]float32{1, 2, 2, 3}, []float32{1, 2, 3, 4}), 3/math.Sqrt(10), eps)
	// Hand example without ties: d = (0,2,-1,-1,0) -> 1 - 6*6/(5*24) = 0.7.
	near(t, "d^2 formula", SpearmanRank([]float32{1, 2, 3, 4, 5}, []float32{1, 4, 2, 3, 5}), 0.7, eps)
	near(t, "constant", SpearmanRank([]float32{2, 2, 2}, []float32{1, 2, 3}), 0, 0)
	near(t, "single", SpearmanRank([]float32{1}, []float32{2}), 0, 0)
	nan := float32(math.NaN())
	if v := SpearmanRank([]float32{nan, 1, 2}, []float32{0, 1, 2}); v != 1 {
		t.Errorf("NaN ranked as 0: got %v, want 1", v)
	}
	m, err := MeanSpearman([][]float32{a, a}, [][]float32{a, rev})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "mean", m, 0, eps)
	if _, err := MeanSpearman([][]float32{a}, nil); err == nil {
		t.Error("count mismatch accepted")
	}
	if _, err := MeanSpearman([][]float32{a}, [][]float32{a[:2]}); err == nil {
		t.Error("length mismatch accepted")
	}
}
