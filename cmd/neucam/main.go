// Command neucam trains, evaluates and explains the NEU steel-defect classifier.
//
//	neucam train    -data DIR -out MODELDIR [flags]   train from scratch (resumes if interrupted)
//	neucam evaluate [flags] PATH...                    accuracy (+ localization with -methods)
//	neucam explain  [flags] PATH...                    HTML report, PNGs, results.json
//	neucam synth    -out DIR [-n N] [-classes K]        synthetic defects with exact masks
//
// Flags may come before or after the paths. Run "neucam <command> -h" for a command's description, an example
// and its flags.
package main

import (
	"fmt"
	"os"
	"sort"
)

// command is one subcommand; each lives in its own file and registers itself in commands.
type command struct {
	summary string
	run     func(args []string) error
}

// commands maps subcommand names to implementations. Adding a subcommand = a new file + one line here.
var commands = map[string]command{
	"train":    {"train the model from scratch (resumable)", runTrain},
	"evaluate": {"classify images and report accuracy (and, with -methods, how well maps find the GT boxes)", runEvaluate},
	"explain":  {"explain predictions with CAM heatmaps: HTML report, PNGs, results.json", runExplain},
	"synth":    {"write a synthetic defect dataset with exact masks (VOC layout)", runSynth},
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: neucam <command> [flags] [PATH...]\n\ncommands:\n")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintf(os.Stderr, "\nRun \"neucam <command> -h\" for a command's description, an example and its flags.\n")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	if a := os.Args[1]; a == "-h" || a == "-help" || a == "--help" || a == "help" {
		usage()
		return
	}
	cmd, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "neucam: unknown command %q\n\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := cmd.run(os.Args[2:]); err != nil {
		if code := exitCode(err); code != 0 {
			fmt.Fprintf(os.Stderr, "neucam %s: %v\n", os.Args[1], err)
			os.Exit(code)
		}
	}
}
