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
# The federation: two nodes on loopback, submit → signed receipt: the most the pair carries (64
# clients as fast as they go), then the latency at an offered 1,000 requests/s; on SQLite and on
# PostgreSQL ($COMITY_PG_URL, or a throw-away cluster with fsync on, over its Unix socket).
echo "== federation"
fed="$(dirname "$0")/../bench/federation_bench.sh"
"$fed" "$build" sqlite 10000 64
"$fed" "$build" sqlite 10000 64 1000
pg_url=${COMITY_PG_URL:-}
if [ -z "$pg_url" ]; then
  pgdir=$(cd "$build" && pwd)/fed-bench-pg
  here=$(cd "$(dirname "$0")/.." && pwd)
  "$here/scripts/pg-tmp.sh" stop "$pgdir" >/dev/null 2>&1 || true
  rm -rf "$pgdir"
  trap '"$here/scripts/pg-tmp.sh" stop "$pgdir" >/dev/null 2>&1 || true; rm -rf "$pgdir"' EXIT
  eval "$(PG_TMP_FSYNC=on "$here/scripts/pg-tmp.sh" start "$pgdir")"
  # The nodes reach the cluster on this machine through its Unix socket (PGHOST, a directory:
  # percent-encoded as the URL's host), as a node next to its database would.
  pg_url="postgresql://comity@${PGHOST//\//%2F}:$PGPORT/comity_test"
fi
"$fed" "$build" "$pg_url" 10000 64
"$fed" "$build" "$pg_url" 10000 64 1000
