#!/usr/bin/env bash
# build.sh compiles the example contracts (or the given sources) to
# WebAssembly; it is a wrapper around build.mjs, which documents the
# arguments and the compiler flags:
#   chain/contracts/build.sh OUTDIR [SOURCE.ts[,FLAG...]...]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
if [ ! -f "$here/node_modules/assemblyscript/package.json" ]; then
	echo "build.sh: AssemblyScript is not installed; run scripts/deps-contracts.sh" >&2
	exit 1
fi
exec node "$here/build.mjs" "$@"
