#!/usr/bin/env bash
# bench-chain.sh prints the chain node's benchmark tables (make bench):
#   1. signature checks of a 1,000-tx block: curve25519-voi batch vs
#      one-by-one (voi and stdlib crypto/ed25519), with ratios;
#   2. validation of a 1,000-transfer block in the ABCI app, MNIST int8
#      inference transactions and token-contract calls (interpreter and
#      compiler: gas/s) per second of block execution;
#   3. committed transfers per second and submit-to-commit latency on a
#      loopback testnet of 1 and of 4 validator processes.
# The VM-only contract gas/s tables are in scripts/bench-contracts.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

echo "== chain: signature verification of a 1,000-tx block"
go test -run '^$' -bench 'Block1000' -benchtime 10x ./chain/sigverify/ | tee "$tmp/sig.txt" | grep '^Benchmark' || true
awk '
	/voi-batch/     { batch = $3 }
	/voi-single/    { voi = $3 }
	/stdlib-single/ { std = $3 }
	END {
		if (batch == 0) { print "no result"; exit 1 }
		printf "\n%-28s %12s %10s\n", "method", "ms/block", "vs batch"
		printf "%-28s %12.2f %10s\n", "voi batch (ZIP-215)", batch/1e6, "1.00x"
		printf "%-28s %12.2f %9.2fx\n", "voi one by one", voi/1e6, voi/batch
		printf "%-28s %12.2f %9.2fx\n", "stdlib ed25519 one by one", std/1e6, std/batch
		printf "batch is %.2fx faster than stdlib one-by-one (target >= 3x)\n\n", std/batch
	}' "$tmp/sig.txt"

echo "== chain: block validation and inference in the ABCI app (one core)"
go test -run '^$' -bench 'ValidateBlock1000|InferTx|ContractCallTx' -benchtime 10x ./chain/app/ | grep '^Benchmark' || true
echo

echo "== chain: committed transfers on loopback testnets (all nodes on this machine)"
go test -run '^$' -bench 'CommittedTransfers' -benchtime 1x -timeout 15m ./chain/node/ | tee "$tmp/tps.txt" | grep '^Benchmark' || true
awk '
	/^BenchmarkCommittedTransfers/ {
		split($1, a, "="); n = a[2]; sub(/-.*/, "", n)
		for (i = 3; i < NF; i++) m[$(i+1)] = $i
		printf "%-12s %10s tx/s   p50 %6s ms   p99 %6s ms   blocks %s\n", n " validators", m["tx/s"], m["p50-ms"], m["p99-ms"], m["blocks"]
	}' "$tmp/tps.txt"
