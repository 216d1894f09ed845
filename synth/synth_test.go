package synth

import (
	"bytes"
	"image"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neucam/neucam/neu"
)

// TestGenerateExactTruth: every object's box is the exact bounding box of defect pixels, the mask is the union
// of the objects (no mask pixel outside every box), defect pixels differ from a defect-free background, and the
// output depends only on the options.
func TestGenerateExactTruth(t *testing.T) {
	opts := DefaultOptions()
	opts.Classes, opts.Width, opts.Height, opts.MaxObjects = len(ClassNames), 90, 50, 3
	for i := range 24 {
		s := Generate(opts, i)
		if s.Class != i%opts.Classes || len(s.Objects) == 0 {
			t.Fatalf("image %d: class %d, %d objects", i, s.Class, len(s.Objects))
		}
		var union image.Rectangle
		for _, o := range s.Objects {
			if o.Class != s.Class || !o.Box.In(s.Image.Bounds()) || o.Box.Empty() {
				t.Errorf("image %d: object %+v", i, o)
			}
			union = union.Union(o.Box)
			// The box is tight: each of its four edges touches a mask pixel.
			edges := [4]bool{}
			for y := o.Box.Min.Y; y < o.Box.Max.Y; y++ {
				for x := o.Box.Min.X; x < o.Box.Max.X; x++ {
					if s.Mask.GrayAt(x, y).Y != 0 {
						edges[0] = edges[0] || x == o.Box.Min.X
						edges[1] = edges[1] || x == o.Box.Max.X-1
						edges[2] = edges[2] || y == o.Box.Min.Y
						edges[3] = edges[3] || y == o.Box.Max.Y-1
					}
				}
			}
			if edges != [4]bool{true, true, true, true} {
				t.Errorf("image %d (%s): box %v not tight on the mask (edges %v)", i, ClassNames[s.Class], o.Box, edges)
			}
		}
		for y := range opts.Height {
			for x := range opts.Width {
				if v := s.Mask.GrayAt(x, y).Y; v != 0 && (v != 255 || !image.Pt(x, y).In(union)) {
					t.Fatalf("image %d: mask %d at (%d,%d) outside the boxes %v", i, v, x, y, union)
				}
			}
		}
		again := Generate(opts, i)
		if !bytes.Equal(again.Image.Pix, s.Image.Pix) || !bytes.Equal(again.Mask.Pix, s.Mask.Pix) {
			t.Errorf("image %d: not deterministic", i)
		}
	}
	other := opts
	other.Seed++
	if bytes.Equal(Generate(other, 0).Image.Pix, Generate(opts, 0).Image.Pix) {
		t.Error("another seed gave the same image")
	}
}

// TestDefectsVisible: inside the mask the image is darker (or, for lines, brighter) than around it by a clear
// margin, so the truth is in the pixels and not only in the files.
func TestDefectsVisible(t *testing.T) {
	opts := DefaultOptions()
	opts.Classes = len(ClassNames)
	for i := range 36 {
		s := Generate(opts, i)
		var in, out, nIn, nOut float64
		for j, m := range s.Mask.Pix {
			if m != 0 {
				in, nIn = in+float64(s.Image.Pix[j]), nIn+1
			} else {
				out, nOut = out+float64(s.Image.Pix[j]), nOut+1
			}
		}
		if d := in/nIn - out/nOut; d > -15 && d < 15 {
			t.Errorf("image %d (%s): mean inside the mask differs by %.1f gray levels only", i, ClassNames[s.Class], d)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, mod := range []func(*Options){
		func(o *Options) { o.N = 0 }, func(o *Options) { o.Classes = 1 }, func(o *Options) { o.Classes = 7 },
		func(o *Options) { o.Width = 10 }, func(o *Options) { o.MaxObjects = 0 },
	} {
		o := DefaultOptions()
		mod(&o)
		if err := o.Validate(); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Error(err)
	}
}

// TestWriteLoads: the written folder loads with neu.Load as a dataset with the synth classes, every image
// labelled with its class, every box kept, and a mask per image.
func TestWriteLoads(t *testing.T) {
	dir := t.TempDir()
	opts := DefaultOptions()
	opts.N, opts.Classes, opts.Width, opts.Height = 12, 3, 64, 40
	calls := 0
	if err := Write(dir, opts, func(done, total int) { calls++ }); err != nil {
		t.Fatal(err)
	}
	if calls != 12 {
		t.Errorf("progress called %d times, want 12", calls)
	}
	ds, err := neu.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ds.Classes, ","); got != "blob,line,speckle" {
		t.Errorf("classes %q", got)
	}
	if len(ds.Samples) != 12 || len(ds.Skipped) != 0 || len(ds.Warnings) != 0 {
		t.Fatalf("%d samples, skipped %v, warnings %v", len(ds.Samples), ds.Skipped, ds.Warnings)
	}
	for i, s := range ds.Samples {
		g := Generate(opts, i)
		if s.Name != g.Name || s.Label != g.Class || len(s.Boxes) != len(g.Objects) || s.MaskPath == "" ||
			s.Size != image.Pt(64, 40) {
			t.Fatalf("sample %+v does not match generated %s (class %d, %d objects)", s, g.Name, g.Class, len(g.Objects))
		}
		for j, b := range s.Boxes {
			if b.Rect != g.Objects[j].Box || b.Class != g.Class {
				t.Errorf("%s box %d: loaded %v class %d, generated %v", s.Name, j, b.Rect, b.Class, g.Objects[j].Box)
			}
		}
	}
	m, err := neu.ReadMask(filepath.Join(dir, "masks", "synth_00000.png"), 64, 40)
	if err != nil {
		t.Fatal(err)
	}
	g := Generate(opts, 0)
	for j, v := range m {
		if v != (g.Mask.Pix[j] != 0) {
			t.Fatalf("mask pixel %d: read %v", j, v)
		}
	}
	if err := Write(dir, opts, nil); err == nil {
		t.Error("writing into a folder that holds images: no error")
	}
}
