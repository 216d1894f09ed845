package resnet

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/neucam/neucam/neu"

	"github.com/neucam/neucam/gradcam/heatmap"
)

// LoadPixels reads and resizes the samples' images to size x size ([0,1], row-major), in parallel.
// Unreadable images are reported in the returned skipped list (and get nil pixels), never a failure.
func LoadPixels(samples []neu.Sample, size int) (pix [][]float32, skipped []neu.Skipped) {
	pix = make([][]float32, len(samples))
	errs := make([]error, len(samples))
	var wg sync.WaitGroup
	next := make(chan int)
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Go(func() {
			for i := range next {
				img, err := neu.ReadImage(samples[i].ImagePath)
				if err != nil {
					errs[i] = err
					continue
				}
				pix[i] = heatmap.Pixels(img, size)
			}
		})
	}
	for i := range samples {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			skipped = append(skipped, neu.Skipped{Path: samples[i].ImagePath, Reason: err.Error()})
		}
	}
	return pix, skipped
}

// keepLoaded drops the samples whose pixels failed to load.
func keepLoaded(samples []neu.Sample, pix [][]float32) ([]neu.Sample, [][]float32) {
	var s []neu.Sample
	var p [][]float32
	for i := range samples {
		if pix[i] != nil {
			s = append(s, samples[i])
			p = append(p, pix[i])
		}
	}
	return s, p
}

// Evaluation is a classification report over labelled images.
type Evaluation struct {
	Images           int                `json:"images"`
	Correct          int                `json:"correct"`
	Accuracy         float64            `json:"accuracy"`
	Classes          []string           `json:"classes"`
	PerClassAccuracy map[string]float64 `json:"per_class_accuracy"`
	PerClassCount    map[string]int     `json:"per_class_count"`
	// Confusion[true][predicted] counts.
	Confusion [][]int `json:"confusion"`
	// Errors lists the misclassified images.
	Errors []Misclassified `json:"errors"`
}

// Misclassified is one wrong prediction.
type Misclassified struct {
	Name      string  `json:"name"`
	Label     string  `json:"label"`
	Predicted string  `json:"predicted"`
	Prob      float32 `json:"prob"`
}

// NewEvaluation scores probabilities probs[i] ([K], K = len(classes)) against labels[i] (an index in classes);
// samples with label < 0 are ignored.
func NewEvaluation(classes, names []string, labels []int, probs [][]float32) *Evaluation {
	k := len(classes)
	e := &Evaluation{Classes: classes, PerClassAccuracy: map[string]float64{}, PerClassCount: map[string]int{},
		Confusion: make([][]int, k)}
	for i := range e.Confusion {
		e.Confusion[i] = make([]int, k)
	}
	for i, p := range probs {
		y := labels[i]
		if y < 0 || y >= k {
			continue
		}
		pred := heatmap.ArgMax(p)
		e.Images++
		e.Confusion[y][pred]++
		if pred == y {
			e.Correct++
		} else {
			e.Errors = append(e.Errors, Misclassified{Name: names[i], Label: classes[y],
				Predicted: classes[pred], Prob: p[pred]})
		}
	}
	if e.Images > 0 {
		e.Accuracy = float64(e.Correct) / float64(e.Images)
	}
	for c, name := range classes {
		n := 0
		for _, v := range e.Confusion[c] {
			n += v
		}
		e.PerClassCount[name] = n
		if n > 0 {
			e.PerClassAccuracy[name] = float64(e.Confusion[c][c]) / float64(n)
		}
	}
	return e
}

// Table renders per-class accuracy and the confusion matrix as text.
func (e *Evaluation) Table() string {
	s := fmt.Sprintf("accuracy %.2f%% (%d/%d)\n", 100*e.Accuracy, e.Correct, e.Images)
	s += fmt.Sprintf("%-16s %6s %8s   confusion (rows: true, cols: predicted)\n", "class", "n", "acc")
	for c, name := range e.Classes {
		s += fmt.Sprintf("%-16s %6d %7.2f%%  ", name, e.PerClassCount[name], 100*e.PerClassAccuracy[name])
		for _, v := range e.Confusion[c] {
			s += fmt.Sprintf(" %4d", v)
		}
		s += "\n"
	}
	return s
}

// Evaluate classifies samples (resized to c.Size()) in chunks, calling progress(done, total) after each
// chunk when non-nil. Images that can't be read are returned as skipped; samples with label -1 (unknown
// class) are classified but not scored.
func (c *Classifier) Evaluate(samples []neu.Sample, progress func(done, total int)) (*Evaluation, []neu.Skipped, error) {
	p, skipped, err := c.Classify(samples, progress)
	if err != nil {
		return nil, skipped, err
	}
	return NewEvaluation(c.Classes(), p.Names, p.Labels, p.Probs), skipped, nil
}

// Predictions are the class probabilities of the readable images of a sample list, with their names and labels
// (-1: unknown class).
type Predictions struct {
	Names  []string
	Labels []int
	Probs  [][]float32
}

// Classify predicts every readable sample, 64 images at a time; unreadable files are returned as skipped.
func (c *Classifier) Classify(samples []neu.Sample, progress func(done, total int)) (*Predictions, []neu.Skipped, error) {
	const chunk = 64
	p := &Predictions{}
	var skipped []neu.Skipped
	for start := 0; start < len(samples); start += chunk {
		part := samples[start:min(start+chunk, len(samples))]
		pix, sk := LoadPixels(part, c.Size())
		skipped = append(skipped, sk...)
		part, pix = keepLoaded(part, pix)
		if len(pix) > 0 {
			probs, err := c.Predict(pix)
			if err != nil {
				return nil, skipped, err
			}
			p.Probs = append(p.Probs, probs...)
			p.Names = append(p.Names, sampleNames(part)...)
			p.Labels = append(p.Labels, sampleLabels(part)...)
		}
		if progress != nil {
			progress(min(start+chunk, len(samples)), len(samples))
		}
	}
	return p, skipped, nil
}
