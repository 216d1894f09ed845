package resnet

import (
	"testing"

	"github.com/gomlx/compute"
)

func testBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := NewBackend()
	if err != nil {
		t.Fatalf("backend: %v", err)
	}
	return b
}
