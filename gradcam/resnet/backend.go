// Package resnet is the NEU steel-defect classifier: a small ResNet built with GoMLX, its im2col
// convolution (fast on the pure-Go backend), training, checkpoints and the embedded shipped model.
package resnet

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/gomlx/compute"

	// Registers the "xla" and "go" backends.
	_ "github.com/gomlx/gomlx/backends/default"
)

// GoBackendConfig is the pure-Go backend configuration used when XLA is unavailable: the default op
// scheduler (ops run in parallel when one graph executes at a time) with an unbounded worker pool. The
// bounded pool (the backend's default, 2*GOMAXPROCS workers) deadlocks when that many matmuls run at once:
// each holds a worker while its Saturate waits for free workers (docs/BENCH.md, bench/scheddeadlock).
// Model splits batches into Parts so that the scheduler has independent ops to run on every core.
const GoBackendConfig = "go:parallelism=-1"

// safeGoConfig adds parallelism=-1 to a configuration of the Go backend that runs ops in parallel with
// the default, deadlocking worker pool ("go", "go:ops_parallel"); other configurations are unchanged.
func safeGoConfig(cfg string) string {
	name, opts, _ := strings.Cut(cfg, ":")
	if name != "go" || strings.Contains(opts, "parallelism=") || strings.Contains(opts, "ops_sequential") {
		return cfg
	}
	if opts == "" {
		return GoBackendConfig
	}
	return cfg + ",parallelism=-1"
}

var (
	backendOnce sync.Once
	backendVal  compute.Backend
	backendErr  error
)

// NewBackend returns the compute backend (one per process, shared): $GOMLX_BACKEND when set (a Go
// backend configuration made safe by safeGoConfig); otherwise XLA, falling back to the pure-Go backend
// (GoBackendConfig) with one log line when XLA can't start (e.g. it can't download its PJRT plugin).
func NewBackend() (compute.Backend, error) {
	backendOnce.Do(func() {
		if cfg, ok := os.LookupEnv(compute.ConfigEnvVar); ok && cfg != "" {
			backendVal, backendErr = newBackendSafe(safeGoConfig(cfg))
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
		fmt.Fprintf(os.Stderr, "neucam: XLA unavailable (%s), using the pure-Go backend; set GOMLX_BACKEND to choose\n",
			shortReason(err.Error()))
		backendVal, backendErr = newBackendSafe(GoBackendConfig)
	})
	return backendVal, backendErr
}

// newBackendSafe turns the panics some backend constructors raise into errors. The Go backend prints
// "Go backend: parallelism set to N" on stdout when given parallelism=N; stdout is muted meanwhile so
// that commands writing results to stdout stay clean.
func newBackendSafe(config string) (b compute.Backend, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if strings.Contains(config, "parallelism=") {
		if null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0); err == nil {
			stdout := os.Stdout
			os.Stdout = null
			defer func() { os.Stdout = stdout; null.Close() }()
		}
	}
	return compute.NewWithConfig(config)
}

// shortReason keeps the innermost cause of a wrapped error message ("...: no such host"), at most 60 characters.
func shortReason(s string) string {
	s = firstLine(s)
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		s = s[i+2:]
	}
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

func firstLine(s string) string {
	for i, c := range s {
		if c == '\n' {
			return s[:i]
		}
	}
	return s
}
