#!/usr/bin/env bash
# Executes every notebook in notebooks/ headless with the GoNB kernel into a temporary folder (the committed
# notebooks keep their outputs), then checks that no cell failed and each notebook shows an image.
# With -update, the executed notebooks replace the committed ones and are exported to HTML too.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:$(go env GOPATH)/bin"
export GOEXPERIMENT=simd GOMLX_BACKEND=${GOMLX_BACKEND:-go:parallelism=-1}
update=false; [ "${1:-}" = "-update" ] && update=true
out=$(mktemp -d)
status=0
for nb in notebooks/*.ipynb; do
  name=$(basename "$nb")
  echo "== notebook $name"
  start=$(date +%s)
  if ! (cd notebooks && jupyter nbconvert --to notebook --execute --ExecutePreprocessor.timeout=1200 \
        --output-dir "$out" "$name" >"$out/$name.log" 2>&1); then
    tail -30 "$out/$name.log"; status=1; continue
  fi
  echo "   executed in $(( $(date +%s) - start )) s"
  /usr/bin/python3 scripts/check_notebook.py "$out/$name" || status=1
  if $update && [ $status = 0 ]; then
    cp "$out/$name" "$nb"
    jupyter nbconvert --to html --output-dir notebooks/html "$nb" >/dev/null 2>&1
  fi
done
rm -rf "$out"
exit $status
