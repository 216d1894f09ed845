// Command twinexport writes what bench/torch_twin.py needs to check the PyTorch twin against GoMLX:
// the model's weights as .npy (OUT/weights), a few NEU images (OUT/images.npy, [N,S,S,1] in [0,1]) and
// the GoMLX logits for them (OUT/logits.npy, [N,6]).
//
//	go run ./bench/twinexport -data ../shared/neu-det -out /tmp/twin [-model DIR] [-per-class 2]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/core/tensors/numpy"
	"github.com/neucam/neucam/gradcam/resnet"
	"github.com/neucam/neucam/neu"
)

func main() {
	data := flag.String("data", "", "NEU-DET folder")
	modelDir := flag.String("model", "", "model folder (default: embedded model)")
	out := flag.String("out", "", "output folder")
	perClass := flag.Int("per-class", 2, "images per class")
	flag.Parse()
	if *data == "" || *out == "" {
		log.Fatal("-data and -out are required")
	}
	clf, err := resnet.Load(*modelDir)
	if err != nil {
		log.Fatal(err)
	}
	if err := clf.ExportNumpy(filepath.Join(*out, "weights")); err != nil {
		log.Fatal(err)
	}
	ds, err := neu.Load(*data)
	if err != nil {
		log.Fatal(err)
	}
	count := map[int]int{}
	var samples []neu.Sample
	for _, s := range ds.Samples {
		if s.Label >= 0 && count[s.Label] < *perClass {
			count[s.Label]++
			samples = append(samples, s)
		}
	}
	pix, skipped := resnet.LoadPixels(samples, clf.Size())
	if len(skipped) > 0 {
		log.Fatalf("unreadable images: %v", skipped)
	}
	logits, err := clf.Logits(pix)
	if err != nil {
		log.Fatal(err)
	}
	n, s := len(pix), clf.Size()
	flatPix := make([]float32, 0, n*s*s)
	flatLogits := make([]float32, 0, n*clf.Config().NumClasses())
	names := make([]string, n)
	for i := range pix {
		flatPix = append(flatPix, pix[i]...)
		flatLogits = append(flatLogits, logits[i]...)
		names[i] = samples[i].Name
	}
	must(numpy.ToNpyFile(tensors.FromFlatDataAndDimensions(flatPix, n, s, s, 1), filepath.Join(*out, "images.npy")))
	must(numpy.ToNpyFile(tensors.FromFlatDataAndDimensions(flatLogits, n, clf.Config().NumClasses()), filepath.Join(*out, "logits.npy")))
	must(os.WriteFile(filepath.Join(*out, "names.txt"), []byte(strings.Join(names, "\n")+"\n"), 0o644))
	fmt.Printf("wrote %d images, logits and weights of %s to %s\n", n, clf.Source(), *out)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
