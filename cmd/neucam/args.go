package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// errHelp is returned when -h/-help was asked for: the usage was printed and the command exits 0.
var errHelp = flag.ErrHelp

// newFlags returns a flag set whose -h prints "usage: neucam NAME SYNOPSIS", the description, an example and the
// flags, and whose errors are returned rather than exiting.
func newFlags(name, synopsis, description, example string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: neucam %s %s\n\n%s\n\nexample:\n  %s\n\nflags:\n", name, synopsis,
			strings.TrimSpace(description), example)
		fs.PrintDefaults()
	}
	return fs
}

// parseArgs parses flags and positional arguments in any order ("DIR -out x" and "-out x DIR" alike); "--" ends
// the flags. It returns the positional arguments.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// exitCode maps a command's error to the process status: 0 for -h.
func exitCode(err error) int {
	if errors.Is(err, errHelp) {
		return 0
	}
	return 1
}

// stdoutIsTerminal reports whether standard output is an interactive terminal (progress bars only there).
func stdoutIsTerminal() bool {
	st, err := os.Stdout.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
