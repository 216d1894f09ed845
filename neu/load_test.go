package neu

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/neucam/neucam/internal/neutest"
)

func TestLoadNEU(t *testing.T) {
	dir := neutest.Dir(t)
	ds, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Samples) != 1500 || len(ds.Skipped) != 0 || len(ds.Warnings) != 0 {
		t.Fatalf("%d samples, skipped %v, warnings %v; want 1500, none, none", len(ds.Samples), ds.Skipped, ds.Warnings)
	}
	perClass := make([]int, len(Classes))
	groups := map[string][]string{}
	var boxes, objects int
	byName := map[string]Sample{}
	for i, s := range ds.Samples {
		if s.Label < 0 {
			t.Fatalf("%s: no label", s.Name)
		}
		perClass[s.Label]++
		groups[s.Group] = append(groups[s.Group], s.Name)
		boxes += len(s.Boxes)
		byName[s.Name] = s
		if s.AnnotationPath == "" || len(s.Boxes) == 0 || s.Size.X != 200 || s.Size.Y != 200 {
			t.Fatalf("%s: annotation %q, %d boxes, size %v", s.Name, s.AnnotationPath, len(s.Boxes), s.Size)
		}
		if i > 0 && naturalCompare(ds.Samples[i-1].Name, s.Name) >= 0 {
			t.Fatalf("order: %s before %s", ds.Samples[i-1].Name, s.Name)
		}
		data, err := os.ReadFile(s.AnnotationPath)
		if err != nil {
			t.Fatal(err)
		}
		objects += bytes.Count(data, []byte("<object>"))
	}
	for c, n := range perClass {
		if n != 250 {
			t.Errorf("class %s: %d samples, want 250", Classes[c], n)
		}
	}
	// Every box kept except the 3 exact duplicates (crazing_120, inclusion_62, patches_198).
	if boxes != objects-3 {
		t.Errorf("%d boxes from %d <object>s, want %d", boxes, objects, objects-3)
	}
	if len(byName["crazing_120"].Boxes) != 4 {
		t.Errorf("crazing_120: %d boxes, want 4", len(byName["crazing_120"].Boxes))
	}
	// The only byte-identical pair.
	if len(groups) != 1499 {
		t.Errorf("%d distinct groups, want 1499", len(groups))
	}
	p101, p105 := byName["patches_101"], byName["patches_105"]
	if p101.Group == "" || p101.Group != p105.Group || len(p101.Group) != 64 {
		t.Errorf("patches_101/105 groups %q %q", p101.Group, p105.Group)
	}
	if byName["patches_104"].Label != 2 || len(byName["patches_104"].Boxes) != 4 {
		t.Errorf("patches_104: %+v", byName["patches_104"])
	}
	if ds.Samples[0].Name != "crazing_1" && !strings.HasPrefix(ds.Samples[0].Name, "crazing_") {
		t.Errorf("first sample %s", ds.Samples[0].Name)
	}

	// LoadPaths: a folder plus one of its files again plus an images/ file found via ../annotations.
	one := filepath.Join(dir, "images", "scratches_108.jpg")
	ds2, err := LoadPaths(one, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds2.Samples) != 1500 || len(ds2.Skipped) != 0 {
		t.Errorf("LoadPaths(file, dir): %d samples, %d skipped", len(ds2.Samples), len(ds2.Skipped))
	}
	ds3, err := LoadPaths(one)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds3.Samples) != 1 || len(ds3.Samples[0].Boxes) != 4 || ds3.Samples[0].Label != 5 || ds3.Samples[0].AnnotationPath == "" {
		t.Errorf("LoadPaths(one image): %+v", ds3.Samples)
	}
}

// named puts a <filename> into an annotation.
func named(filename string, xml []byte) []byte {
	return bytes.Replace(xml, []byte("<annotation>"), []byte("<annotation><filename>"+filename+"</filename>"), 1)
}

func TestLoadProblemFiles(t *testing.T) {
	root := t.TempDir()
	img := encodePNG(t, neutest.Gradient(32, 32))
	jpg := encodeJPEG(t, neutest.Gradient(32, 32))
	x := func(objs ...string) []byte {
		return voc("\t<size><width>32</width><height>32</height></size>\n", objs...)
	}
	files := map[string][]byte{
		"images/crazing_1.jpg":         jpg,
		"annotations/crazing_1.xml":    named("crazing_1", x(obj("crazing", "2", "2", "10", "12"), obj("crazing", "2", "2", "10", "12"))),
		"images/crazing_2.png":         img,
		"annotations/crazing_2.xml":    x(obj("crazing", "20", "20", "40", "40")), // clipped
		"images/patches_3.jpg":         truncated(encodeJPEG(t, neutest.Gradient(64, 64))),
		"annotations/patches_3.xml":    x(obj("patches", "1", "1", "5", "5")),
		"images/patches_4.jpg":         nil,
		"images/patches_5.jpg":         []byte("plain text, not a JPEG"),
		"images/inclusion_6.jpg":       jpg,
		"annotations/inclusion_6.xml":  []byte("<annotation><object>"),
		"images/inclusion_7.jpg":       jpg,
		"annotations/inclusion_7.xml":  x(),
		"images/scratches_8.jpg":       jpg,
		"annotations/scratches_8.xml":  x(obj("scratches", "40", "40", "50", "50")), // entirely outside
		"images/scratches_9.jpg":       jpg,
		"annotations/scratches_9.xml":  x(obj("scratches", "9", "1", "2", "5"), obj("scratches", "1", "1", "4", "4")),
		"images/scratches_10.jpg":      jpg,
		"annotations/scratches_10.xml": x(obj("rust", "1", "1", "4", "4")), // only box unknown
		"annotations/scratches_11.xml": x(obj("scratches", "1", "1", "4", "4")),
		"images/sub/unknown_12.png":    img, // no XML, no class in the name
		"images/notes.bmp":             []byte("BM"),
		"images/.DS_Store":             []byte("junk"),
		"images/pitted_surface_13.png": encodePNG(t, neutest.Gradient(7, 7)),
		"images/a_14.jpg":              jpg,
		"annotations/a_14.xml":         named("zzz.jpg", x(obj("inclusion", "1", "1", "4", "4"), obj("patches", "1", "1", "5", "5"), obj("patches", "2", "2", "6", "6"))),
	}
	for name, data := range files {
		writeFile(t, filepath.Join(root, name), data)
	}
	ds, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range ds.Samples {
		names = append(names, s.Name)
	}
	if got := strings.Join(names, " "); got != "a_14 crazing_1 crazing_2 scratches_9 unknown_12" {
		t.Errorf("samples %q", got)
	}
	reasons := map[string]string{}
	for _, s := range ds.Skipped {
		rel, _ := filepath.Rel(root, s.Path)
		reasons[rel] += s.Reason
	}
	wantSkip := map[string]string{
		"images/patches_3.jpg":         "truncated JPEG",
		"images/patches_4.jpg":         "empty file (0 bytes)",
		"images/patches_5.jpg":         "not a JPEG or PNG image",
		"annotations/inclusion_6.xml":  "malformed XML",
		"annotations/inclusion_7.xml":  "no <object>",
		"annotations/scratches_8.xml":  "entirely outside",
		"annotations/scratches_10.xml": "unknown class name",
		"annotations/scratches_11.xml": "annotation without an image",
		"images/notes.bmp":             "unsupported image format .bmp",
		"images/pitted_surface_13.png": "smaller than the minimum",
	}
	for path, want := range wantSkip {
		if !strings.Contains(reasons[path], want) {
			t.Errorf("skipped %s: reason %q, want it to contain %q", path, reasons[path], want)
		}
	}
	if len(reasons) != len(wantSkip) {
		t.Errorf("skipped %v, want exactly %d entries", reasons, len(wantSkip))
	}
	if !strings.Contains(reasons["annotations/inclusion_6.xml"], "image inclusion_6.jpg not used") {
		t.Errorf("XML skip should name the unused image: %q", reasons["annotations/inclusion_6.xml"])
	}
	warn := map[string]string{}
	for _, w := range ds.Warnings {
		rel, _ := filepath.Rel(root, w.Path)
		warn[rel] += w.Reason
	}
	if !strings.Contains(warn["annotations/crazing_2.xml"], "clipped") || !strings.Contains(warn["annotations/scratches_9.xml"], "inverted") ||
		!strings.Contains(warn["images/sub/unknown_12.png"], "label unknown") ||
		!strings.Contains(warn["annotations/a_14.xml"], `<filename> "zzz.jpg" does not match the image a_14.jpg`) || len(warn) != 4 {
		t.Errorf("warnings %v", warn)
	}
	s := map[string]Sample{}
	for _, smp := range ds.Samples {
		s[smp.Name] = smp
	}
	if len(s["crazing_1"].Boxes) != 1 || s["crazing_2"].Boxes[0].Rect.Max.X != 32 || len(s["scratches_9"].Boxes) != 1 {
		t.Errorf("boxes: %+v", s)
	}
	if s["unknown_12"].Label != -1 || s["unknown_12"].AnnotationPath != "" || s["unknown_12"].Boxes != nil {
		t.Errorf("unknown_12: %+v", s["unknown_12"])
	}
	if s["a_14"].Label != 2 { // majority box class
		t.Errorf("a_14 label %d, want 2 (patches: 2 of 3 boxes)", s["a_14"].Label)
	}
	if s["crazing_1"].Group != s["inclusion_6"].Group && s["crazing_1"].Group != s["scratches_9"].Group {
		t.Error("byte-identical JPEGs should share a group")
	}
}

func TestLoadPlainFolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "rolled-in_scale_12.png"), encodePNG(t, neutest.Gradient(40, 20)))
	writeFile(t, filepath.Join(dir, "crazing_2.jpg"), encodeJPEG(t, neutest.Gradient(8, 8)))
	writeFile(t, filepath.Join(dir, "crazing_10.jpg"), encodeJPEG(t, neutest.Gradient(9, 9)))
	writeFile(t, filepath.Join(dir, "crazing_10.xml"), []byte("<annotation><object><name>inclusion</name><bndbox><xmin>1</xmin><ymin>1</ymin><xmax>3</xmax><ymax>3</ymax></bndbox></object></annotation>"))
	writeFile(t, filepath.Join(dir, "photo.png"), encodePNG(t, neutest.Gradient(10, 10)))
	writeFile(t, filepath.Join(dir, "notes.txt"), []byte("x"))
	writeFile(t, filepath.Join(dir, "README.md"), []byte("x"))
	writeFile(t, filepath.Join(dir, "more", "x.png"), encodePNG(t, neutest.Gradient(10, 10)))
	ds, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range ds.Samples {
		got = append(got, s.Name+":"+strconv.Itoa(s.Label)+":"+strconv.Itoa(len(s.Boxes)))
	}
	if want := "crazing_2:0:0 crazing_10:0:1 photo:-1:0 rolled-in_scale_12:4:0"; strings.Join(got, " ") != want {
		t.Errorf("samples %q, want %q", strings.Join(got, " "), want)
	}
	var skipped []string
	for _, s := range ds.Skipped {
		skipped = append(skipped, filepath.Base(s.Path))
	}
	sort.Strings(skipped)
	if strings.Join(skipped, " ") != "more notes.txt" {
		t.Errorf("skipped %v", ds.Skipped)
	}
	if ds.Samples[3].Size.X != 40 || ds.Samples[3].Size.Y != 20 {
		t.Errorf("size %v", ds.Samples[3].Size)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	onlyText := filepath.Join(dir, "text")
	writeFile(t, filepath.Join(onlyText, "a.txt"), []byte("x"))
	emptyImages := filepath.Join(dir, "neu")
	os.MkdirAll(filepath.Join(emptyImages, "images"), 0o755)
	file := filepath.Join(dir, "f.png")
	writeFile(t, file, encodePNG(t, neutest.Gradient(8, 8)))
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "nope"), "does not exist"},
		{empty, "no .jpg/.jpeg/.png images in " + empty},
		{onlyText, "no .jpg/.jpeg/.png images in " + onlyText},
		{emptyImages, "no .jpg/.jpeg/.png images in " + filepath.Join(emptyImages, "images")},
		{file, "is a file, not a folder"},
	} {
		_, err := Load(tc.path)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), tc.path) {
			t.Errorf("Load(%s) err = %v, want it to contain %q and the path", tc.path, err, tc.want)
		}
	}
	if _, err := LoadPaths(); err == nil {
		t.Error("LoadPaths() with no paths should fail")
	}
	if _, err := LoadPaths(file, filepath.Join(dir, "gone.jpg")); err == nil || !strings.Contains(err.Error(), "gone.jpg does not exist") {
		t.Errorf("LoadPaths missing file: %v", err)
	}
	ds, err := LoadPaths(file, filepath.Join(onlyText, "a.txt"))
	if err != nil || len(ds.Samples) != 1 || len(ds.Skipped) != 1 || !strings.Contains(ds.Skipped[0].Reason, "not an image") {
		t.Errorf("LoadPaths(png, txt) = %+v, %v", ds, err)
	}
}

func TestLoadUnreadable(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "crazing_1.png")
	bad := filepath.Join(dir, "crazing_2.png")
	writeFile(t, good, encodePNG(t, neutest.Gradient(8, 8)))
	writeFile(t, bad, encodePNG(t, neutest.Gradient(8, 8)))
	os.Chmod(bad, 0)
	if f, err := os.Open(bad); err == nil {
		f.Close()
		t.Skip("running as root: chmod 000 does not stop reading")
	}
	ds, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Samples) != 1 || len(ds.Skipped) != 1 || !strings.Contains(ds.Skipped[0].Reason, "permission denied") {
		t.Errorf("%+v", ds)
	}
	locked := filepath.Join(dir, "locked")
	os.Mkdir(locked, 0)
	if _, err := Load(locked); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("unreadable folder: %v", err)
	}
}
