#!/bin/sh
# bench-ai.sh: what `make bench` runs for the AI engine. It measures the
# engine and ONNX Runtime (onnxruntime-node) side by side in one run and
# prints the ratio table (xairrosx ai bench), then the Go kernel benchmarks.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps-ai.sh
go build -o /tmp/xairrosx-bench ./cmd/xairrosx
/tmp/xairrosx-bench ai bench "$@"
echo
go test -run '^$' -bench . -benchtime 2000x ./ai/kernels
go test -run '^$' -bench . ./ai/runtime
