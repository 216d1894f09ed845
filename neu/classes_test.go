package neu

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/neucam/neucam/internal/neutest"
)

// vocObjects writes a VOC annotation of a w x h image with one object per "name x0 y0 x1 y1" entry (1-based).
func vocObjects(w, h int, objects ...string) []byte {
	var sb strings.Builder
	fmt.Fprintf(&sb, "<annotation><size><width>%d</width><height>%d</height><depth>1</depth></size>", w, h)
	for _, o := range objects {
		var name string
		var x0, y0, x1, y1 int
		if _, err := fmt.Sscan(o, &name, &x0, &y0, &x1, &y1); err != nil {
			panic(err)
		}
		fmt.Fprintf(&sb, "<object><name>%s</name><bndbox><xmin>%d</xmin><ymin>%d</ymin><xmax>%d</xmax><ymax>%d</ymax></bndbox></object>",
			name, x0, y0, x1, y1)
	}
	return []byte(sb.String() + "</annotation>")
}

// customDataset writes a VOC folder (images/, annotations/, masks/) with classes not named like NEU's,
// non-square 60x30 images.
func customDataset(t *testing.T) string {
	dir := t.TempDir()
	img := encodePNG(t, neutest.Gradient(60, 30))
	for name, objs := range map[string][]string{
		"a1": {"stain 1 1 10 10"},
		"a2": {"Stain 1 1 10 10", "hole 20 5 22 7"},                // two classes: the larger total area (stain) labels it
		"a3": {"hole 1 1 4 4", "hole 5 5 8 8", "dent 10 10 30 30"}, // more hole boxes, but dent covers more
		"a4": {"hole 1 1 20 20"},
	} {
		writeFile(t, filepath.Join(dir, "images", name+".png"), img)
		writeFile(t, filepath.Join(dir, "annotations", name+".xml"), vocObjects(60, 30, objs...))
	}
	writeFile(t, filepath.Join(dir, "masks", "a1.png"), encodePNG(t, neutest.Gradient(60, 30)))
	writeFile(t, filepath.Join(dir, "masks", "a2.png"), encodePNG(t, neutest.Gradient(30, 30))) // wrong size: warned
	return dir
}

func labelsOf(ds *Dataset) string {
	var out []string
	for _, s := range ds.Samples {
		l := "?"
		if s.Label >= 0 {
			l = ds.Classes[s.Label]
		}
		out = append(out, fmt.Sprintf("%s:%s:%d", s.Name, l, len(s.Boxes)))
	}
	return strings.Join(out, " ")
}

func TestCustomClassesFromAnnotations(t *testing.T) {
	dir := customDataset(t)
	ds, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ds.Classes, ","); got != "dent,hole,stain" {
		t.Errorf("classes %q, want dent,hole,stain (sorted <name> values, case folded)", got)
	}
	if got, want := labelsOf(ds), "a1:stain:1 a2:stain:2 a3:dent:3 a4:hole:1"; got != want {
		t.Errorf("samples %q, want %q", got, want)
	}
	if ds.Samples[0].MaskPath == "" || ds.Samples[1].MaskPath != "" {
		t.Errorf("masks: a1 %q (want masks/a1.png), a2 %q (want none: wrong size)", ds.Samples[0].MaskPath, ds.Samples[1].MaskPath)
	}
	if len(ds.Warnings) != 1 || !strings.Contains(ds.Warnings[0].Reason, "mask is 30x30 but the image is 60x30") {
		t.Errorf("warnings %v, want the wrong-size mask", ds.Warnings)
	}
	if len(ds.Skipped) != 0 {
		t.Errorf("skipped %v", ds.Skipped)
	}
	m, err := ReadMask(ds.Samples[0].MaskPath, 6, 3)
	if err != nil || len(m) != 18 {
		t.Fatalf("ReadMask: %v, %d values", err, len(m))
	}

	// classes.txt fixes the order; a fixed list (a model's) drops the boxes of other classes with a warning.
	writeFile(t, filepath.Join(dir, ClassesFileName), []byte("# my plant\nstain\nhole\n\ndent\n"))
	ds, err = Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ds.Classes, ","); got != "stain,hole,dent" {
		t.Errorf("classes with classes.txt %q, want stain,hole,dent", got)
	}
	ds, err = LoadWithClasses([]string{"hole", "stain"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := labelsOf(ds), "a1:stain:1 a2:stain:2 a3:hole:2 a4:hole:1"; got != want {
		t.Errorf("fixed classes: samples %q, want %q", got, want)
	}
	if !strings.Contains(fmt.Sprint(ds.Warnings), "unknown class name, box dropped (classes: hole, stain)") {
		t.Errorf("fixed classes: warnings %v, want the dropped dent box", ds.Warnings)
	}
	writeFile(t, filepath.Join(dir, ClassesFileName), []byte("stain\nStain\n"))
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "listed twice") {
		t.Errorf("duplicate class in classes.txt: err %v", err)
	}
	if _, err := LoadWithClasses([]string{"a", ""}, dir); err == nil {
		t.Error("blank class name accepted")
	}
}

func TestDiscoverClassesNEU(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  string
	}{
		{nil, strings.Join(Classes, ",")},
		{[]string{"crazing", "Scratches", "typo"}, strings.Join(Classes, ",")}, // mostly NEU: NEU's six
		{[]string{"crazing", "hole", "hole"}, "crazing,hole"},
		{[]string{"b", "A", "a", "c"}, "A,b,c"},
	} {
		if got := strings.Join(DiscoverClasses(tc.names), ","); got != tc.want {
			t.Errorf("DiscoverClasses(%q) = %q, want %q", tc.names, got, tc.want)
		}
	}
	// The NEU data itself keeps NEU's classes in NEU's order.
	ds, err := LoadPaths(filepath.Join(neutest.Dir(t), "images", "crazing_10.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(ds.Classes, ",") != strings.Join(Classes, ",") || ds.Samples[0].Label != 0 {
		t.Errorf("NEU image: classes %q label %d", ds.Classes, ds.Samples[0].Label)
	}
	if got := LabelFromNameIn([]string{"scale", "scale_big"}, "scale_big_3"); got != 1 {
		t.Errorf("LabelFromNameIn: %d, want the longest class 1", got)
	}
}

// TestClassFolders: a folder per class (any names; one of them a VOC layout of its own) labels each image
// with its folder; classes are the folder names, sorted; a fixed list warns about a folder outside it.
func TestClassFolders(t *testing.T) {
	dir := t.TempDir()
	img := encodePNG(t, neutest.Gradient(50, 20))
	writeFile(t, filepath.Join(dir, "Stain", "s1.png"), img)
	writeFile(t, filepath.Join(dir, "Stain", "s2.png"), img)
	writeFile(t, filepath.Join(dir, "hole", "images", "h1.png"), img)
	writeFile(t, filepath.Join(dir, "hole", "annotations", "h1.xml"), vocObjects(50, 20, "hole 1 1 5 5", "Stain 10 10 40 20"))
	writeFile(t, filepath.Join(dir, "notes", "readme.txt"), []byte("x")) // no images: not a class
	ds, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ds.Classes, ","); got != "hole,Stain" {
		t.Errorf("classes %q, want hole,Stain", got)
	}
	if got, want := labelsOf(ds), "h1:hole:2 s1:Stain:0 s2:Stain:0"; got != want {
		t.Errorf("samples %q, want %q (the folder labels h1, though Stain covers more of it)", got, want)
	}
	ds, err = LoadWithClasses([]string{"hole", "dent"}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := labelsOf(ds), "h1:hole:1 s1:?:0 s2:?:0"; got != want {
		t.Errorf("fixed classes: samples %q, want %q", got, want)
	}
	if !strings.Contains(fmt.Sprint(ds.Warnings), `class folder "Stain" is not one of the classes`) {
		t.Errorf("warnings %v", ds.Warnings)
	}
}
