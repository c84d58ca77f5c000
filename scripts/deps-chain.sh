#!/usr/bin/env bash
# deps-chain.sh installs what the chain node tests (go test ./chain/...)
# need besides the Go toolchain: the Go modules of CometBFT, IAVL and
# curve25519-voi (from the module proxy) and, because the node tests build
# the AssemblyScript example contracts, the AssemblyScript compiler, which
# scripts/deps-contracts.sh installs. Idempotent and fast when done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/scripts/deps-contracts.sh"
cd "$root"
go mod download github.com/cometbft/cometbft github.com/cosmos/iavl github.com/cosmos/cosmos-db \
	github.com/oasisprotocol/curve25519-voi github.com/spf13/viper
