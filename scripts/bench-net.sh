#!/bin/sh
# bench-net.sh: requests/s of net/http over loopback, natively (Linux's
# stack) and in a XairrosX guest (gVisor's stack through services/netsvc),
# measured side by side in one run.
set -e
cd "$(dirname "$0")/.."
native=$(go run ./test/net/testdata/loopback -bench 500 | sed -n 's/.*: \([0-9]*\) requests\/s/\1/p')
guest=$(go test -count=1 -run XXX -bench HTTPLoopback -benchtime 1x ./test/net | awk '/req\/s/ {print $(NF-1)}')
echo "| HTTP loopback, 500 sequential GETs | requests/s |"
echo "|---|---|"
echo "| native (Linux host) | $native |"
echo "| XairrosX guest (QEMU TCG) | $guest |"
awk -v g="$guest" -v n="$native" 'BEGIN { if (n > 0) printf "| guest / native | %.4f |\n", g / n }'
