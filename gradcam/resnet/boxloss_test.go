package resnet

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/neucam/neucam/neu"
)

// TestBoxTarget: the cell coverage of the label's boxes on a grid over the whole (non-square) image; other
// classes' boxes are ignored; no box of the class: all zero and not ok.
func TestBoxTarget(t *testing.T) {
	s := neu.Sample{Size: image.Pt(40, 20), Boxes: []neu.Box{
		{Class: 2, Rect: image.Rect(0, 0, 10, 5)},    // the whole top-left cell of a 4x4 grid (cells 10x5)
		{Class: 2, Rect: image.Rect(5, 0, 15, 5)},    // overlaps the first: union covers 15x5
		{Class: 1, Rect: image.Rect(20, 10, 40, 20)}, // another class
	}}
	got, ok := BoxTarget(s, 2, 4)
	want := make([]float32, 16)
	want[0], want[1] = 1, 0.5
	if !ok || len(got) != 16 {
		t.Fatalf("ok %v, %d cells", ok, len(got))
	}
	for i := range want {
		if math.Abs(float64(got[i]-want[i])) > 1e-6 {
			t.Fatalf("target %v, want %v", got, want)
		}
	}
	if got, ok := BoxTarget(s, 0, 4); ok || got[0] != 0 || len(got) != 16 {
		t.Errorf("class without boxes: ok %v, %v", ok, got)
	}
}

// TestBoxBCE checks the box loss against a host computation: mean over the batch of the mean per-cell binary
// cross-entropy of the label's map, images without boxes counted as zero.
func TestBoxBCE(t *testing.T) {
	const b, n, k = 3, 5, 4
	rng := rand.New(rand.NewPCG(3, 4))
	maps := randTensor(rng, b, n, k)
	mv := tensors.MustCopyFlatData[float32](maps)
	tv := make([]float32, b*n)
	for i := range tv {
		tv[i] = rng.Float32()
	}
	labels, weights := []int32{2, 0, 3}, []float32{1, 1, 0}
	out, err := ExecOnce(testBackend(t), func(m, tg, l, w *Node) *Node { return boxBCE(m, tg, l, w) },
		maps, tensors.FromFlatDataAndDimensions(tv, b, n), tensors.FromValue(labels), tensors.FromValue(weights))
	if err != nil {
		t.Fatal(err)
	}
	want := 0.0
	for bi := range b {
		for i := range n {
			z, y := float64(mv[(bi*n+i)*k+int(labels[bi])]), float64(tv[bi*n+i])
			p := 1 / (1 + math.Exp(-z))
			want += float64(weights[bi]) * -(y*math.Log(p) + (1-y)*math.Log(1-p)) / n
		}
	}
	want /= b
	if got := float64(flat32(t, out)[0]); math.Abs(got-want) > 1e-5 {
		t.Errorf("boxBCE = %g, want %g", got, want)
	}
}
