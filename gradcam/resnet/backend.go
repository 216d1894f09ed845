// Package resnet is the NEU steel-defect classifier: a small ResNet built with GoMLX, its im2col
// convolution (fast on the pure-Go backend), training, checkpoints and the embedded shipped model.
package resnet

import (
	"fmt"
	"log"
	"os"
	"sync"

	"github.com/gomlx/compute"

	// Registers the "xla" and "go" backends.
	_ "github.com/gomlx/gomlx/backends/default"
)

// GoBackendConfig is the pure-Go backend configuration used when XLA is unavailable.
// "ops_sequential" because the parallel op scheduler was seen to deadlock with GOEXPERIMENT=simd;
// ops such as Dot still use several cores internally.
const GoBackendConfig = "go:ops_sequential"

var (
	backendOnce sync.Once
	backendVal  compute.Backend
	backendErr  error
)

// NewBackend returns the compute backend (one per process, shared):
// $GOMLX_BACKEND when set; otherwise XLA, falling back to the pure-Go backend with one log line
// when XLA can't start (e.g. it can't download its PJRT plugin).
func NewBackend() (compute.Backend, error) {
	backendOnce.Do(func() {
		if cfg, ok := os.LookupEnv(compute.ConfigEnvVar); ok && cfg != "" {
			backendVal, backendErr = newBackendSafe(cfg)
			if backendErr != nil {
				backendErr = fmt.Errorf("backend %s=%q: %w", compute.ConfigEnvVar, cfg, backendErr)
			}
			return
		}
		b, err := newBackendSafe("xla")
		if err == nil {
			backendVal = b
			return
		}
		log.Printf("resnet: XLA backend unavailable (%v); using pure-Go backend %q", firstLine(err.Error()), GoBackendConfig)
		backendVal, backendErr = newBackendSafe(GoBackendConfig)
	})
	return backendVal, backendErr
}

// newBackendSafe turns the panics some backend constructors raise into errors.
func newBackendSafe(config string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	return compute.NewWithConfig(config)
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
