#!/usr/bin/env bash
# The federation end to end: two nodes (XA → XB) as `comity serve` processes on loopback, with
# durable commits (SQLite synchronous=FULL, or PostgreSQL synchronous_commit=on). N requests are
# drafted through XA's API (not timed), then submitted from C concurrent clients; each is
# sealed, sent, accepted by XB (stored, screened, logged) and its signed receipt recorded by XA.
# Reported: submitted requests per second until the last signed receipt, and the latency from
# submit to receipt (p50, p99, max): from the moment the client began the submit call (with an
# offered rate, the moment it was due: a submit that waited for a free client counts its wait)
# to the receipt's recording in XA's outbox (one machine, one clock); and, as before, from the
# message's writing in the outbox (its `created`) to the receipt.
#
#   bench/federation_bench.sh [BUILD_DIR] [DATABASE] [REQUESTS] [CONCURRENCY] [RATE]
#     DATABASE: sqlite (default) or a postgresql:// URL; with a URL, the two nodes use two
#     databases named <db>_xa and <db>_xb on that server (created, and dropped afterwards).
#     RATE: submits per second offered by the clients (default 0: as fast as they go, which
#     measures the most the pair can carry; latency is then mostly queueing). A rate below that
#     measures latency at that load.
set -euo pipefail
build=${1:-build}
database=${2:-sqlite}
requests=${3:-5000}
concurrency=${4:-64}
rate=${5:-0}
comity=$build/bin/comity
load=$build/bin/federation_load
[ -x "$load" ] || { echo "federation_bench: $load is missing (build with COMITY_BENCH=ON)" >&2; exit 1; }
work=$(mktemp -d "$(cd "$build" && pwd)/fed-bench.XXXXXX")
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$database" != sqlite ]; then
    for s in xa xb; do psql "$database" -qc "DROP DATABASE IF EXISTS ${dbname}_$s" >/dev/null 2>&1 || true; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT

db_for() {  # the database URL of node $1 (xa, xb)
  if [ "$database" = sqlite ]; then echo ""; return; fi
  echo "${database%/*}/${dbname}_$1${query}"
}
if [ "$database" != sqlite ]; then
  base=${database%%\?*}
  query=""; [ "$base" != "$database" ] && query="?${database#*\?}"
  dbname=${base##*/}
  for s in xa xb; do
    psql "$database" -qc "DROP DATABASE IF EXISTS ${dbname}_$s" >/dev/null
    psql "$database" -qc "CREATE DATABASE ${dbname}_$s" >/dev/null
  done
fi

for s in XA XB; do
  lower=$(echo "$s" | tr A-Z a-z)
  args=(init "$work/$s" --state "$s" --listen 127.0.0.1:0 --disclose immediate)
  url=$(db_for "$lower"); [ -n "$url" ] && args+=(--database "$url")
  "$comity" "${args[@]}" >"$work/$s.init.json" 2>/dev/null
  # Handler threads for the concurrent clients and the peer's deliveries (limits.threads;
  # COMITY_BENCH_THREADS, default 16 as in a new node).
  sed -i "s/^threads = .*/threads = ${COMITY_BENCH_THREADS:-16}/" "$work/$s/comity.toml"
done
officer=$("$comity" user add "$work/XA" --name officer --role officer 2>/dev/null)

for s in XA XB; do
  "$comity" serve "$work/$s" --port-file "$work/$s.port" >"$work/$s.out" 2>"$work/$s.log" &
  pids+=($!)
done
for s in XA XB; do
  for _ in $(seq 1 600); do [ -s "$work/$s.port" ] && break; sleep 0.05; done
  [ -s "$work/$s.port" ] || { echo "federation_bench: $s did not start" >&2; cat "$work/$s.log" >&2; exit 1; }
done
xa=http://127.0.0.1:$(cat "$work/XA.port")
xb=http://127.0.0.1:$(cat "$work/XB.port")
fp() { curl -sf "$1/federation/v1/identity" | jq -r .fingerprints.identity; }
"$comity" peer add "$work/XA" --from-url "$xb" --fingerprint "$(fp "$xb")" 2>/dev/null
"$comity" peer add "$work/XB" --from-url "$xa" --fingerprint "$(fp "$xa")" 2>/dev/null

# CPU (ms, user + system) of XA, XB and every PostgreSQL process on this machine, for the CPU
# spent while submitting: taken when the load tool has drafted (its --mark file) and again
# when the last receipt is recorded.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f\n", ($14 + $15) * 1000 / hz }' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_cpu_ms() {
  local total=0 p
  for p in $(pgrep -x postgres 2>/dev/null); do total=$((total + $(cpu_ms "$p"))); done
  echo "$total"
}
# Context switches (voluntary and not) of every thread of a process so far.
switches() {
  cat /proc/"$1"/task/*/status 2>/dev/null |
    awk '/^(nonvoluntary|voluntary)_ctxt_switches:/ { s += $2 } END { print s + 0 }'
}
cpu_snapshot() {
  echo "$(cpu_ms "${pids[0]}") $(cpu_ms "${pids[1]}") $(pg_cpu_ms) $(switches "${pids[0]}") $(switches "${pids[1]}")"
}
( for _ in $(seq 1 60000); do [ -e "$work/drafted" ] && break; sleep 0.01; done
  cpu_snapshot >"$work/cpu_start" ) &
watcher=$!
"$load" --url "$xa" --token "$officer" --from XA --to XB --requests "$requests" \
  --concurrency "$concurrency" --rate "$rate" --times "$work/submits" --mark "$work/drafted" \
  --pause-ms 200 >"$work/load.json"
wait "$watcher"
deadline=$((SECONDS + 300))
while :; do
  depth=$(curl -sf "$xa/metrics" | awk '$1 == "comity_outbox_depth" { print $2 }')
  [ "$depth" = 0 ] && break
  [ $SECONDS -gt $deadline ] && { echo "federation_bench: outbox not drained ($depth left)" >&2; exit 1; }
  sleep 0.1
done
cpu_snapshot >"$work/cpu_end"

# created and delivered, µs, of every request message, and its request's id.
sql="SELECT created, delivered, request_id FROM outbox WHERE kind = 'request' AND delivered IS NOT NULL"
if [ "$database" = sqlite ]; then
  sqlite3 -separator ' ' "$work/XA/comity.db" "$sql" >"$work/times"
else
  psql "$(db_for xa)" -AtF ' ' -c "$sql" >"$work/times"
fi
n=$(wc -l <"$work/times")
[ "$n" = "$requests" ] || { echo "federation_bench: $n of $requests delivered" >&2; exit 1; }
awk '{ print $2 - $1 }' "$work/times" | sort -n >"$work/lat"
# From the officer's submit call (when the client began it, or, with an offered rate, when it
# was due) to the signed receipt: what the officer waits for, the submit itself included.
# Also from when it was sent (the client's own lateness left out), and the submit call alone.
: >"$work/lat_submit"; : >"$work/lat_sent"; : >"$work/lat_call"
awk -v w="$work" 'NR == FNR { began[$1] = $2; sent[$1] = $3; print $4 - $3 > (w "/lat_call"); next }
  ($3 in began) { print $2 - began[$3] > (w "/lat_submit"); print $2 - sent[$3] > (w "/lat_sent") }' \
  "$work/submits" "$work/times"
for f in lat_submit lat_sent lat_call; do sort -n -o "$work/$f" "$work/$f"; done
[ "$(wc -l <"$work/lat_submit")" = "$requests" ] || { echo "federation_bench: submit times missing" >&2; exit 1; }
first=$(awk 'NR == 1 || $1 < m { m = $1 } END { print m }' "$work/times")
last=$(awk '$2 > m { m = $2 } END { print m }' "$work/times")
pct() { awk -v p="$1" -v n="$n" 'NR == int((n - 1) * p / 100) + 1 { printf "%.1f", $1 / 1000 }' "${2:-$work/lat}"; }
achieved=$(awk -v n="$n" -v a="$first" -v b="$last" 'BEGIN { printf "%.0f", n / ((b - a) / 1e6) }')
submit=$(jq -r '.submit_seconds' "$work/load.json")
failed=$(curl -sf "$xa/metrics" | awk '/^comity_federation_deliveries_total/ && /outcome="failed"/ { s += $2 } END { print s + 0 }')
offered=$([ "$rate" = 0 ] && echo "as fast as they go" || echo "offering $rate/s")
echo "federation ($([ "$database" = sqlite ] && echo SQLite || echo PostgreSQL), durable commits, $n requests XA -> XB, $concurrency clients $offered):"
echo "  submitted until signed receipt: $achieved requests/s (submits alone: $(awk -v n="$n" -v s="$submit" 'BEGIN { printf "%.0f", n / s }')/s)"
echo "  latency submit -> receipt: p50 $(pct 50 "$work/lat_submit") ms, p99 $(pct 99 "$work/lat_submit") ms, max $(pct 100 "$work/lat_submit") ms; failed attempts: $failed"
[ "$rate" = 0 ] || echo "  latency submit sent -> receipt (the client's own lateness left out): p50 $(pct 50 "$work/lat_sent") ms, p99 $(pct 99 "$work/lat_sent") ms, max $(pct 100 "$work/lat_sent") ms"
echo "  of which the submit call (sent -> answered, the submit durable): p50 $(pct 50 "$work/lat_call") ms, p99 $(pct 99 "$work/lat_call") ms, max $(pct 100 "$work/lat_call") ms"
echo "  latency message written -> receipt: p50 $(pct 50) ms, p99 $(pct 99) ms, max $(pct 100) ms"
cpu_split() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.0f %.0f\n", $14 * 1000 / hz, $15 * 1000 / hz }' "/proc/$1/stat"; }
read -r xa_user xa_sys < <(cpu_split "${pids[0]}")
read -r xb_user xb_sys < <(cpu_split "${pids[1]}")
per() { awk -v u="$1" -v s="$2" -v n="$n" 'BEGIN { printf "%.2f ms (%.0f%% kernel)", (u + s) / n, 100 * s / (u + s + 1e-9) }'; }
echo "  CPU per request (whole run, drafting included): XA $(per "$xa_user" "$xa_sys"), XB $(per "$xb_user" "$xb_sys")"
# While submitting: what each part costs per request, and the throughput that all of it
# together allows on this machine's cores (the load tool's own CPU not counted).
read -r a0 b0 p0 sa0 sb0 <"$work/cpu_start"
read -r a1 b1 p1 sa1 sb1 <"$work/cpu_end"
[ "$database" = sqlite ] && p1=$p0  # another cluster on the machine is not this run's
awk -v n="$n" -v a=$((a1 - a0)) -v b=$((b1 - b0)) -v p=$((p1 - p0)) -v cores="$(nproc)" \
  -v pg="$([ "$database" = sqlite ] && echo 0 || echo 1)" 'BEGIN {
    t = (a + b + p) / n
    printf "  CPU per request while submitting: XA %.2f ms, XB %.2f ms", a / n, b / n
    if (pg) printf ", PostgreSQL %.2f ms (its processes on this machine)", p / n
    printf "; together %.2f ms: at most %.0f requests/s on %d cores\n", t, cores * 1000 / t, cores
  }'
# Threads handing work to each other cost CPU per request as well (bench/README.md, "CPU per
# request rises as the load falls"): how often the nodes' threads were switched out.
awk -v n="$n" -v a=$((sa1 - sa0)) -v b=$((sb1 - sb0)) 'BEGIN {
    printf "  context switches per request while submitting: XA %.1f, XB %.1f\n", a / n, b / n
  }'
counter() { curl -sf "$1/metrics" | awk -v m="$2" '$1 == m { print $2 }'; }
each() { awk -v a="$1" -v n="$n" 'BEGIN { printf "%.2f", a / n }'; }
echo "  durability syncs per request (whole run): XA $(each "$(counter "$xa" comity_durability_syncs_total)"), XB $(each "$(counter "$xb" comity_durability_syncs_total)")"
echo "  groups of writes per request (whole run): XA $(each "$(counter "$xa" comity_write_groups_total)"), XB $(each "$(counter "$xb" comity_write_groups_total)"); of which waited for more: XA $(each "$(counter "$xa" comity_write_lingers_total)"), XB $(each "$(counter "$xb" comity_write_lingers_total)")"
# How many messages each request to XB's inbox carried (batches: docs/federation.md).
posts=$(curl -sf "$xb/metrics" | awk '/^comity_http_requests_total/ && /route="\/federation\/v1\/inbox/ { s += $2 } END { print s + 0 }')
echo "  requests to XB's inbox: $posts, $(awk -v n="$n" -v p="$posts" 'BEGIN { printf "%.1f", n / (p + 1e-9) }') messages each"
if [ "$database" != sqlite ]; then
  echo "  round trips to PostgreSQL per request (whole run): XA $(each "$(counter "$xa" comity_database_round_trips_total)"), XB $(each "$(counter "$xb" comity_database_round_trips_total)")"
fi
echo "  (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
