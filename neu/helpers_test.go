package neu

import (
	"os"
	"path/filepath"
	"testing"
)

// neuDir finds ../shared/neu-det by walking up from the package folder; the test is skipped without it.
func neuDir(t testing.TB) string {
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
			t.Skip("NEU-DET data (../shared/neu-det) not found")
		}
		dir = parent
	}
}

func readNEUXML(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(neuDir(t), "annotations", name+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
