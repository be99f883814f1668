#!/usr/bin/env bash
# The transparency log's benchmarks, with the Go x/mod/sumdb/tlog peer measured in the same run:
#   1. durable: `comity log append` of 1,000,000 entries of 100..300 bytes (one transaction and
#      about one fsync per 10,000-entry batch; fsyncs counted with strace when available);
#   2. in memory: bench_tlog (append + hash, inclusion proofs from tiles);
#   3. the Go peer (bench/go): append and inclusion proofs with x/mod in memory;
# then the ratios. Usage: bench/tlog_durable.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
comity=$build/bin/comity
work=$(mktemp -d "$(cd "$build" && pwd)/tlog-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

# Deterministic entries: JSON-ish lines of 100..300 bytes.
awk 'BEGIN { srand(11); for (i = 0; i < 1000000; i++) { n = 100 + int(rand() * 201);
  s = "{\"i\":" i ",\"pad\":\""; while (length(s) + 2 < n) s = s "abcdefghijklmnopqrstuvwxyz";
  print substr(s, 1, n - 2) "\"}" } }' >"$work/entries"

"$comity" log init "$work/log" --origin bench.example/log >/dev/null
start=$(date +%s.%N)
size=$("$comity" log append "$work/log" <"$work/entries")
end=$(date +%s.%N)
[ "$size" = 1000000 ] || { echo "append ended at size $size" >&2; exit 1; }
durable=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", 1000000 / (e - s) }')
echo "durable append (comity log append, 1,000,000 entries of 100-300 bytes, batches of 10,000): $durable entries/s"
if command -v strace >/dev/null; then
  "$comity" log init "$work/log2" --origin bench.example/log >/dev/null
  syncs=$(strace -f -c -e trace=fsync,fdatasync "$comity" log append "$work/log2" <"$work/entries" 2>&1 >/dev/null |
    awk '$NF == "total" { print $4 }')
  echo "  fsync/fdatasync calls for 100 batches: $syncs"
fi
"$comity" log export "$work/log" "$work/pub" >/dev/null
"$comity" log disclose "$work/log" --all >/dev/null
start=$(date +%s.%N)
"$comity" log verify "$work/log" --vkey "$("$comity" log vkey "$work/log")" >/dev/null
end=$(date +%s.%N)
echo "full verification of the 1,000,000-entry log: $(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }') s"

# In memory, ours.
"$build/bin/bench_tlog" --benchmark_filter='BM_LogAppendInMemory/1048576|BM_InclusionProofFromTiles' \
  --benchmark_format=json >"$work/bench.json" 2>/dev/null
ours_append=$(jq '[.benchmarks[] | select(.name | startswith("BM_LogAppendInMemory")) | .items_per_second][0] | floor' "$work/bench.json")
ours_proofs=$(jq '[.benchmarks[] | select(.name | startswith("BM_InclusionProofFromTiles")) | .items_per_second][0] | floor' "$work/bench.json")

# The Go peer.
env GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE="$(cd "$build" && pwd)/go-cache" GOFLAGS= CGO_ENABLED=0 \
  go build -o "$work/tlogpeer" "$root/bench/go/main.go"
"$work/tlogpeer" -n 1048576 -proofs 200000 >"$work/go.txt"
go_append=$(awk '/append:/ { print $4 }' "$work/go.txt")
go_proofs=$(awk '/proofs:/ { print $5 }' "$work/go.txt")

echo "in memory, append + hash (2^20 leaves): comity $ours_append leaves/s, Go x/mod $go_append leaves/s, ratio $(awk -v a="$ours_append" -v b="$go_append" 'BEGIN { printf "%.2f", a / b }')"
echo "in memory, inclusion proofs (2^20 leaves): comity $ours_proofs proofs/s (from tiles), Go x/mod $go_proofs proofs/s, ratio $(awk -v a="$ours_proofs" -v b="$go_proofs" 'BEGIN { printf "%.2f", a / b }')"
echo "(wall-clock time for all figures; load average now: $(cut -d' ' -f1-3 /proc/loadavg))"
