package synth

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// Write generates opts.N images into dir (created if needed; it must not already hold images/):
// images/NAME.png, annotations/NAME.xml (Pascal VOC, one <object> per defect), masks/NAME.png (255 on defect
// pixels) and classes.txt (the first opts.Classes of ClassNames, in class order). progress, when not nil, is
// called with the number of images written so far (from one goroutine at a time).
func Write(dir string, opts Options, progress func(done, total int)) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if entries, err := os.ReadDir(filepath.Join(dir, "images")); err == nil && len(entries) > 0 {
		return fmt.Errorf("synth: %s already holds images/: write into an empty folder", dir)
	}
	for _, sub := range []string{"images", "annotations", "masks"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
	}
	classes := strings.Join(ClassNames[:opts.Classes], "\n") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "classes.txt"), []byte(classes), 0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	next := make(chan int)
	errs := make(chan error, opts.N)
	var mu sync.Mutex
	done := 0
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				err := writeSample(dir, Generate(opts, i))
				errs <- err
				mu.Lock()
				done++
				if progress != nil && err == nil {
					progress(done, opts.N)
				}
				mu.Unlock()
			}
		})
	}
	for i := range opts.N {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func writeSample(dir string, s Sample) error {
	if err := writePNG(filepath.Join(dir, "images", s.Name+".png"), s.Image); err != nil {
		return err
	}
	if err := writePNG(filepath.Join(dir, "masks", s.Name+".png"), s.Mask); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "annotations", s.Name+".xml"), VOC(s), 0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return fmt.Errorf("synth: %s: %w", path, err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("synth: %w", err)
	}
	return nil
}

// vocObject and vocAnnotation are the Pascal-VOC elements written (as LabelImg writes them).
type vocObject struct {
	Name      string `xml:"name"`
	Pose      string `xml:"pose"`
	Truncated int    `xml:"truncated"`
	Difficult int    `xml:"difficult"`
	BndBox    struct {
		Xmin int `xml:"xmin"`
		Ymin int `xml:"ymin"`
		Xmax int `xml:"xmax"`
		Ymax int `xml:"ymax"`
	} `xml:"bndbox"`
}

type vocAnnotation struct {
	XMLName  xml.Name `xml:"annotation"`
	Folder   string   `xml:"folder"`
	Filename string   `xml:"filename"`
	Size     struct {
		Width  int `xml:"width"`
		Height int `xml:"height"`
		Depth  int `xml:"depth"`
	} `xml:"size"`
	Segmented int         `xml:"segmented"`
	Objects   []vocObject `xml:"object"`
}

// VOC returns the Pascal-VOC annotation of s: 1-based inclusive box corners (a Box Min (0,0) Max (3,2) is
// xmin 1, ymin 1, xmax 3, ymax 2).
func VOC(s Sample) []byte {
	a := vocAnnotation{Folder: "images", Filename: s.Name + ".png", Segmented: 1}
	b := s.Image.Bounds()
	a.Size.Width, a.Size.Height, a.Size.Depth = b.Dx(), b.Dy(), 1
	for _, o := range s.Objects {
		v := vocObject{Name: ClassNames[o.Class], Pose: "Unspecified"}
		v.BndBox.Xmin, v.BndBox.Ymin, v.BndBox.Xmax, v.BndBox.Ymax = o.Box.Min.X+1, o.Box.Min.Y+1, o.Box.Max.X, o.Box.Max.Y
		a.Objects = append(a.Objects, v)
	}
	out, err := xml.MarshalIndent(a, "", "\t")
	if err != nil {
		panic(err) // plain structs of strings and ints always marshal
	}
	return append(out, '\n')
}
