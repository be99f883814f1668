#!/usr/bin/env bash
# Durable commits of the node's storage on SQLite and PostgreSQL (bench/store_bench.cc), with a
# throw-away PostgreSQL cluster that keeps fsync on (scripts/pg-tmp.sh, PG_TMP_FSYNC=on) so that
# both backends pay for durability.
#
#   bench/store_durable.sh [BUILD_DIR] [store_bench arguments...]
set -euo pipefail
build=${1:-build}
shift || true
here=$(cd "$(dirname "$0")/.." && pwd)
bench=$build/bin/store_bench
[ -x "$bench" ] || { echo "store_durable: $bench is missing (build with COMITY_BENCH=ON)" >&2; exit 1; }
dir=$(cd "$build" && pwd)/store-bench-pg
"$here/scripts/pg-tmp.sh" stop "$dir" >/dev/null 2>&1 || true
rm -rf "$dir"
trap '"$here/scripts/pg-tmp.sh" stop "$dir" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
eval "$(PG_TMP_FSYNC=on "$here/scripts/pg-tmp.sh" start "$dir")"
echo "PostgreSQL $(psql "$COMITY_PG_URL" -Atc "SHOW server_version") with fsync=$(psql "$COMITY_PG_URL" -Atc "SHOW fsync"), synchronous_commit=on; SQLite synchronous=FULL; disk: $(df -P "$build" | awk 'NR == 2 { print $1 }')"
"$bench" --postgres "$COMITY_PG_URL" "$@"
