#!/usr/bin/env bash
# bench-contracts.sh: contract VM benchmarks for `make bench`. Runs the Go
# benchmarks of chain/contracts (AssemblyScript workloads through chain/vm)
# and prints tables: gas per second on wazero's interpreter and compiler,
# the cost of gas metering against the same code run unmetered, and the
# deploy-time cost of Prepare. BENCHTIME overrides -benchtime (default 2s).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
"$root/scripts/deps-contracts.sh"

out="$(go test -run '^$' -bench 'BenchmarkGas|BenchmarkMetering|BenchmarkPrepare' \
	-benchtime "${BENCHTIME:-2s}" ./chain/contracts/)"
echo "$out" | grep -E '^(goos|goarch|cpu):' || true
echo

echo "$out" | awk '
/^Benchmark/ {
	name = $1; sub(/-[0-9]+$/, "", name)
	ns = ""; gas = ""; gasop = ""
	for (i = 2; i < NF; i++) {
		if ($(i+1) == "ns/op") ns = $i
		if ($(i+1) == "gas/s") gas = $i
		if ($(i+1) == "gas/op") gasop = $i
	}
	split(name, p, "/")
	if (p[1] == "BenchmarkGas") { gs[p[2] "/" p[3]] = gas; gop[p[3]] = gasop; nsop[p[2] "/" p[3]] = ns; work[p[3]] = 1 }
	if (p[1] == "BenchmarkMetering") { met[p[2] "/" p[3]] = ns }
	if (p[1] == "BenchmarkPrepare") { prep[p[2]] = ns }
}
END {
	printf "Contract execution (gas/s; one call = instantiate + alloc + method)\n"
	printf "%-16s %10s %16s %16s %14s %14s %10s\n", "workload", "gas/call", "interp gas/s", "compiler gas/s", "interp us", "compiler us", "speedup"
	nw = split("work token-transfer", ws, " ")
	for (k = 1; k <= nw; k++) {
		w = ws[k]; if (!(w in work)) continue
		i = gs["interpreter/" w]; c = gs["compiler/" w]
		printf "%-16s %10d %16.3g %16.3g %14.1f %14.1f %9.1fx\n", w, gop[w], i, c, nsop["interpreter/" w]/1000, nsop["compiler/" w]/1000, (i > 0 ? c/i : 0)
	}
	printf "\nMetering overhead (bench.ts work, same wasm unmetered vs Prepare-instrumented)\n"
	printf "%-12s %14s %14s %10s\n", "engine", "raw us", "metered us", "ratio"
	split("interpreter compiler", eng, " ")
	for (k = 1; k <= 2; k++) {
		e = eng[k]; r = met[e "/raw"]; m = met[e "/metered"]
		if (r > 0) printf "%-12s %14.1f %14.1f %9.2fx\n", e, r/1000, m/1000, m/r
	}
	printf "\nPrepare (validate + float/SIMD/threads check + instrument)\n"
	printf "%-12s %12s\n", "contract", "ms"
	nc = split("token registry aigate", cs, " ")
	for (k = 1; k <= nc; k++) if (cs[k] in prep) printf "%-12s %12.2f\n", cs[k], prep[cs[k]]/1e6
}'
