// Package neutest holds test helpers: Dir finds the NEU-DET data (../shared/neu-det next to the repository root,
// where CI puts it, or shared/neu-det inside it), Gradient draws a test image.
package neutest

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir walks up from the test's package folder to the NEU-DET folder; the test is skipped when there is none.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		for _, c := range []string{filepath.Join(dir, "shared", "neu-det"), filepath.Join(dir, "..", "shared", "neu-det")} {
			if st, err := os.Stat(filepath.Join(c, "images")); err == nil && st.IsDir() {
				return c
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("NEU-DET data not found (../shared/neu-det next to the repository)")
		}
		dir = parent
	}
}
