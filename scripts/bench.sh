#!/usr/bin/env bash
# make bench: Google Benchmark targets and end-to-end load scripts.
set -euo pipefail
build=${1:-build}
shopt -s nullglob
for b in "$build"/bin/bench_*; do echo "== $(basename "$b")"; "$b"; done
# The safeguards engine end to end (comity screen --batch) with Cedar as the peer.
echo "== screen_e2e"
"$(dirname "$0")/../bench/screen_e2e.sh" "$build"
# The store: durable commits and node requests on SQLite and on PostgreSQL (a cluster with fsync on).
echo "== store_durable"
"$(dirname "$0")/../bench/store_durable.sh" "$build"
# The transparency log: durable appends through the CLI, and the Go x/mod peer in the same run.
echo "== tlog_durable"
"$(dirname "$0")/../bench/tlog_durable.sh" "$build"
# The federation: two nodes on loopback, submit → signed receipt (SQLite; PostgreSQL too when
# $COMITY_PG_URL names a server: bench/federation_bench.sh BUILD postgresql://...).
echo "== federation"
"$(dirname "$0")/../bench/federation_bench.sh" "$build" sqlite
if [ -n "${COMITY_PG_URL:-}" ]; then
  "$(dirname "$0")/../bench/federation_bench.sh" "$build" "$COMITY_PG_URL"
fi
