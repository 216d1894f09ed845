// Command neusplit prints the project's default NEU split (neu.Split with the neu defaults) as CSV
// lines "split,label,path", for the PyTorch scripts in bench/ to train on exactly the same images.
//
//	go run ./bench/neusplit -data ../shared/neu-det > /tmp/split.csv
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/neucam/neucam/neu"
)

func main() {
	data := flag.String("data", "", "NEU-DET folder")
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
	for _, part := range []struct {
		name string
		s    []neu.Sample
	}{{"train", tr}, {"val", va}, {"test", te}} {
		for _, s := range part.s {
			fmt.Printf("%s,%d,%s\n", part.name, s.Label, s.ImagePath)
		}
	}
}
