#!/usr/bin/env bash
# Crash safety: `comity log append` is killed with SIGKILL at random moments, many times. After
# each restart the log must open and verify, its size must never decrease, and every entry whose
# batch was acknowledged ("committed <size>" on stderr, printed only after the commit is durable)
# must be there, in order, with the right contents.
# Usage: crash_test.sh COMITY_BINARY [ROUNDS]
COMITY=$1
ROUNDS=${2:-40}
GOVERIFY=
source "$(dirname "$0")/lib.sh"

L=$WORK/log
VKEY=$("$COMITY" log init "$L" --origin example.com/crash --disclose immediate)
size=0
kills_mid_run=0
RANDOM=4242
for round in $(seq "$ROUNDS"); do
  # Entry i is always "entry-i", so contents can be checked against the index alone.
  # Small batches: many commits (one fsync each) per run, so the kill lands anywhere in them.
  gen_entries "$size" $((size + 20000)) >"$WORK/input"
  "$COMITY" log append "$L" --batch 5 --progress <"$WORK/input" >"$WORK/final" 2>"$WORK/progress" &
  pid=$!
  sleep "0.$((RANDOM % 3))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  # The final size is printed only at the end: nothing on stdout means it died mid-run.
  [ -s "$WORK/final" ] || kills_mid_run=$((kills_mid_run + 1))
  acked=$({ grep '^committed ' "$WORK/progress" || true; } | tail -1 | cut -d' ' -f2)
  acked=${acked:-0}

  # Restart: opening checks the stored tiles against the stored root.
  new_size=$("$COMITY" log append "$L" </dev/null) || fail "round $round: the log does not reopen"
  [ "$new_size" -ge "$size" ] || fail "round $round: size went from $size down to $new_size"
  [ "$new_size" -ge "$acked" ] || fail "round $round: acknowledged $acked entries, only $new_size kept"
  "$COMITY" log verify "$L" --vkey "$VKEY" >/dev/null || fail "round $round: the log does not verify"
  if [ "$new_size" -gt "$size" ]; then
    diff <("$COMITY" log entries "$L" --from "$size") <(gen_entries "$size" "$new_size") >/dev/null \
      || fail "round $round: entries [$size, $new_size) differ from what was appended"
  fi
  size=$new_size
done
diff <("$COMITY" log entries "$L") <(gen_entries 0 "$size") >/dev/null || fail "final contents"
[ "$kills_mid_run" -ge $((ROUNDS / 2)) ] || fail "only $kills_mid_run of $ROUNDS runs were killed mid-way"
echo "crash test: $ROUNDS rounds, $kills_mid_run killed mid-run, final size $size, all acknowledged entries present"
