#!/usr/bin/env bash
# The project's test command (README "Tests"; CI runs it via .ci/run): formatting, vet, unit tests (race detector
# on the packages that don't run GoMLX graphs), short fuzzing of the loaders, and the notebooks executed headless.
# Needs NEU-DET at ../shared/neu-det. Set SKIP_NOTEBOOKS=1 to skip the notebooks.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"
# SIMD matmul for the pure-Go backend; its parallel op scheduler with an unbounded worker pool (parallelism=-1 avoids
# the worker-pool deadlock, docs/BENCH.md).
export GOEXPERIMENT=simd
export GOMLX_BACKEND="${GOMLX_BACKEND:-go:parallelism=-1}"

step() { echo; echo "== $* ($(date +%T))"; }

step gofmt
bad=$(gofmt -l $(git ls-files '*.go' ':!third_party'))
if [ -n "$bad" ]; then echo "gofmt needed: $bad"; exit 1; fi

step go vet
go vet ./...

step "go test -race (pure-Go packages)"
go test -race -count=1 ./neu/... ./synth/... ./gradcam/render/... ./gradcam/metrics/... ./gradcam/lime/... ./gradcam/display/... ./gradcam/heatmap/...

step "go test (all packages)"
go test -count=1 -timeout 40m ./...

step "go test (our tests of the patched backend, third_party/gomlx-compute: a module of its own)"
(cd third_party/gomlx-compute && go vet -asmdecl ./internal/gobackend/dot/matmul/ && go test -count=1 ./...)

step "fuzz (a few seconds each, seed corpus in neu/testdata/fuzz)"
for f in FuzzParseVOC FuzzReadImage; do
  go test -run='^$' -fuzz="^$f\$" -fuzztime=5s ./neu/ >/dev/null
  echo "$f ok"
done

if [ "${SKIP_NOTEBOOKS:-0}" != 1 ]; then
  step notebooks
  scripts/run_notebooks.sh
fi
step "all checks passed"
