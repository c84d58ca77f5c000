#!/usr/bin/env bash
# deps-contracts.sh installs what the contract VM tests need: the
# AssemblyScript compiler (npm package assemblyscript) into
# chain/contracts/node_modules, from the versions pinned in
# chain/contracts/package.json and package-lock.json. Idempotent; fast
# when the pinned version is already installed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/chain/contracts"
want="$(sed -n 's/.*"assemblyscript": *"\([^"]*\)".*/\1/p' "$dir/package.json" | head -n1)"

if ! command -v npm >/dev/null 2>&1; then
	echo "deps-contracts: installing nodejs and npm (apt)" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -q nodejs npm >/dev/null 2>&1 || {
		apt-get update -q >/dev/null
		apt-get install -y -q nodejs npm >/dev/null
	}
fi

have=""
if [ -f "$dir/node_modules/assemblyscript/package.json" ]; then
	have="$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$dir/node_modules/assemblyscript/package.json" | head -n1)"
fi
if [ -n "$want" ] && [ "$have" = "$want" ]; then
	exit 0
fi

echo "deps-contracts: installing assemblyscript $want into chain/contracts/node_modules" >&2
cd "$dir"
if [ -f package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
else
	npm install --no-audit --no-fund --loglevel=error
fi
