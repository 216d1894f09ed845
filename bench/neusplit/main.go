// Command neusplit prints the project's default NEU split (neu.Split with the neu defaults), for the
// PyTorch scripts in bench/ to train on exactly the same images: CSV lines "split,label,path", or with
// -json one JSON object per line {"split","label","path","width","height","boxes":[[class,x0,y0,x1,y1]...]}
// (boxes in the image's pixels, 0-based, max exclusive, every class kept).
//
//	go run ./bench/neusplit -data ../shared/neu-det > /tmp/split.csv
//	go run ./bench/neusplit -data ../shared/neu-det -json > /tmp/split.jsonl
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"

	"github.com/neucam/neucam/neu"
)

type line struct {
	Split  string   `json:"split"`
	Label  int      `json:"label"`
	Path   string   `json:"path"`
	Width  int      `json:"width"`
	Height int      `json:"height"`
	Boxes  [][5]int `json:"boxes"`
}

func main() {
	data := flag.String("data", "", "NEU-DET folder")
	asJSON := flag.Bool("json", false, "one JSON object per image, with its boxes")
	flag.Parse()
	ds, err := neu.Load(*data)
	if err != nil {
		log.Fatal(err)
	}
	var labelled []neu.Sample
	for _, s := range ds.Samples {
		if s.Label >= 0 {
			labelled = append(labelled, s)
		}
	}
	tr, va, te := neu.Split(labelled, neu.DefaultSeed, neu.DefaultValFrac, neu.DefaultTestFrac)
	enc := json.NewEncoder(os.Stdout)
	for _, part := range []struct {
		name string
		s    []neu.Sample
	}{{"train", tr}, {"val", va}, {"test", te}} {
		for _, s := range part.s {
			if !*asJSON {
				fmt.Printf("%s,%d,%s\n", part.name, s.Label, s.ImagePath)
				continue
			}
			l := line{Split: part.name, Label: s.Label, Path: s.ImagePath, Width: s.Size.X, Height: s.Size.Y, Boxes: [][5]int{}}
			for _, b := range s.Boxes {
				l.Boxes = append(l.Boxes, [5]int{b.Class, b.Rect.Min.X, b.Rect.Min.Y, b.Rect.Max.X, b.Rect.Max.Y})
			}
			if err := enc.Encode(l); err != nil {
				log.Fatal(err)
			}
		}
	}
}
