package neu

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/neucam/neucam/internal/neutest"
)

func readNEUXML(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(neutest.Dir(t), "annotations", name+".xml"))
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
