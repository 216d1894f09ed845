package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/neucam/neucam/synth"
)

func runSynth(args []string) error {
	d := synth.DefaultOptions()
	fs := newFlags("synth", "-out DIR [-n N] [-classes K] [flags]",
		"Writes a synthetic steel-defect dataset with exact defect masks in the VOC layout that neucam train reads\n(images/, annotations/, masks/, classes.txt).",
		"neucam synth -out /tmp/synth -n 600 -classes 4")
	out := fs.String("out", "", "output folder (images/, annotations/, masks/, classes.txt); must not hold images/ yet")
	n := fs.Int("n", d.N, "number of images (spread evenly over the classes)")
	classes := fs.Int("classes", d.Classes, fmt.Sprintf("number of classes, 2..%d: %s", len(synth.ClassNames), strings.Join(synth.ClassNames, ", ")))
	width := fs.Int("width", d.Width, "image width in pixels")
	height := fs.Int("height", d.Height, "image height in pixels")
	objects := fs.Int("objects", d.MaxObjects, "at most this many defects per image (1..N, all of the image's class)")
	seed := fs.Int64("seed", d.Seed, "random seed: the same flags give the same files")
	quiet := fs.Bool("q", false, "no progress output")
	if pos, err := parseArgs(fs, args); err != nil {
		return err
	} else if len(pos) > 0 {
		return fmt.Errorf("unexpected arguments %q", pos)
	}
	if *out == "" {
		fs.Usage()
		return fmt.Errorf("-out is required")
	}
	opts := synth.Options{N: *n, Classes: *classes, Width: *width, Height: *height, MaxObjects: *objects, Seed: *seed}
	start := time.Now()
	progress := newLineProgress(os.Stderr, "synth", *quiet)
	if err := synth.Write(*out, opts, progress.update); err != nil {
		return err
	}
	fmt.Printf("wrote %d %dx%d images of %d classes (%s) with boxes and masks to %s in %.1fs\n", opts.N, opts.Width,
		opts.Height, opts.Classes, strings.Join(synth.ClassNames[:opts.Classes], ", "), *out, time.Since(start).Seconds())
	return nil
}

// lineProgress reports "NAME: done/total images": rewritten in place on a terminal (at most ~3 times a second),
// one plain line per quarter otherwise (logs, CI), nothing when quiet.
type lineProgress struct {
	w        *os.File
	name     string
	quiet    bool
	terminal bool
	last     time.Time
	quarter  int
}

func newLineProgress(w *os.File, name string, quiet bool) *lineProgress {
	st, err := w.Stat()
	return &lineProgress{w: w, name: name, quiet: quiet, terminal: err == nil && st.Mode()&os.ModeCharDevice != 0}
}

func (p *lineProgress) update(done, total int) {
	if p.quiet || total <= 0 {
		return
	}
	if !p.terminal {
		if q := 4 * done / total; q > p.quarter {
			p.quarter = q
			fmt.Fprintf(p.w, "%s: %d/%d images\n", p.name, done, total)
		}
		return
	}
	if time.Since(p.last) < 300*time.Millisecond && done < total {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r%s: %d/%d images", p.name, done, total)
	if done == total {
		fmt.Fprintln(p.w)
	}
}
