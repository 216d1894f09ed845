package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"testing"
)

func TestParseArgsFlagsAnywhere(t *testing.T) {
	for _, args := range [][]string{
		{"-out", "o", "a", "b"}, {"a", "-out", "o", "b"}, {"a", "b", "-out", "o"}, {"a", "-out=o", "--", "b"},
	} {
		fs := newFlags("x", "PATH...", "does x", "neucam x a")
		out := fs.String("out", "", "")
		pos, err := parseArgs(fs, args)
		if err != nil || *out != "o" || !slices.Equal(pos, []string{"a", "b"}) {
			t.Errorf("%q: out %q, positional %q, err %v", args, *out, pos, err)
		}
	}
	fs := newFlags("x", "PATH...", "does x", "neucam x a")
	fs.SetOutput(io.Discard)
	if _, err := parseArgs(fs, []string{"a", "-h"}); !errors.Is(err, flag.ErrHelp) || exitCode(err) != 0 {
		t.Errorf("-h: %v", err)
	}
	if _, err := parseArgs(fs, []string{"-nosuch"}); err == nil || exitCode(err) != 1 {
		t.Errorf("unknown flag: %v", err)
	}
}
