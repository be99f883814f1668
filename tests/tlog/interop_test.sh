#!/usr/bin/env bash
# An independent client accepts our logs: Go's golang.org/x/mod/sumdb/{note,tlog} verify an
# exported log (signature, tiles, every entry, inclusion and consistency proofs), and reject the
# same log once tampered with.
# Usage: interop_test.sh COMITY_BINARY GOVERIFY_BINARY TESTDATA_DIR
COMITY=$1
GOVERIFY=$2
TESTDATA=$3
source "$(dirname "$0")/lib.sh"
[ -x "$GOVERIFY" ] || fail "goverify not built ($GOVERIFY): build the tree (it needs golang-go and golang-golang-x-mod-dev)"

# The Go client itself accepts the Tessera-written reference log.
"$GOVERIFY" verify -dir "$TESTDATA/tlog/tiled-log-15" \
  -vkey example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx >/dev/null \
  || fail "goverify rejects the reference log"

L=$WORK/log
VKEY=$("$COMITY" log init "$L" --origin example.com/interop --disclose immediate)
# 70,000 entries of 0..300 bytes (three tile levels), in uneven batches, some UTF-8 and empty.
awk 'BEGIN { srand(7); for (i = 0; i < 70000; i++) {
  n = int(rand() * 300); s = "e" i ":"; while (length(s) < n) s = s "x\xc3\xa9";
  if (i % 997 == 0) s = ""; print s } }' >"$WORK/entries"
head -n 40000 "$WORK/entries" | "$COMITY" log append "$L" --batch 7777 >/dev/null
"$COMITY" log checkpoint "$L" >"$WORK/cp-old"
tail -n +40001 "$WORK/entries" | "$COMITY" log append "$L" --batch 3000 >/dev/null
"$COMITY" log export "$L" "$WORK/pub" >/dev/null

out=$("$GOVERIFY" verify -dir "$WORK/pub" -vkey "$VKEY" -old "$WORK/cp-old")
echo "$out"
[[ "$out" == "go-verify ok: example.com/interop size 70000 root "*", 70000 entries checked, "*" inclusion proofs, consistent with size 40000" ]] || fail "go verify: $out"
"$COMITY" log verify "$WORK/pub" --vkey "$VKEY" --old "$WORK/cp-old" >/dev/null || fail "comity verify"
# Both agree on the root.
[ "$(echo "$out" | sed 's/.* root \([^,]*\),.*/\1/')" = "$(sed -n 3p "$WORK/pub/checkpoint")" ] || fail "roots differ"
pass "go client verifies a 70,000-entry log"

# Partial disclosure: Go checks the bundles that are published, up to `disclosed`.
P=$WORK/partial
PV=$("$COMITY" log init "$P" --origin example.com/partial)
head -n 5000 "$WORK/entries" | "$COMITY" log append "$P" >/dev/null
"$COMITY" log disclose "$P" --size 1000 >/dev/null
"$COMITY" log export "$P" "$WORK/ppub" >/dev/null
"$GOVERIFY" verify -dir "$WORK/ppub" -vkey "$PV" | grep -qF "size 5000 root" || fail "go verify partial"
"$GOVERIFY" verify -dir "$WORK/ppub" -vkey "$PV" | grep -qF "1000 entries checked" || fail "go partial count"
pass "go client verifies a partially disclosed log"

# Tampering: each copy has one change; Go must refuse every one.
tamper() {
  local what=$1; shift
  rm -rf "$WORK/t" && cp -r "$WORK/pub" "$WORK/t"
  "$@"
  if "$GOVERIFY" verify -dir "$WORK/t" -vkey "$VKEY" >/dev/null 2>"$WORK/goerr"; then
    fail "go accepted a log with $what"
  fi
  if "$COMITY" log verify "$WORK/t" --vkey "$VKEY" >/dev/null 2>&1; then
    fail "comity accepted a log with $what"
  fi
  pass "refused: $what ($(head -c 120 "$WORK/goerr"))"
}
tamper "a flipped byte in a level-0 tile" flip_byte "$WORK/t/tile/0/100" 4000
tamper "a flipped byte in a level-1 tile" flip_byte "$WORK/t/tile/1/000" 17
tamper "a flipped byte in the top tile" flip_byte "$WORK/t/tile/2/000.p/1" 31
tamper "a flipped byte in the right-edge tile" flip_byte "$WORK/t/tile/0/273.p/112" 0
tamper "a flipped byte in an entry bundle" flip_byte "$WORK/t/tile/entries/200" 5000
tamper "a flipped byte in the last entry bundle" flip_byte "$WORK/t/tile/entries/273.p/112" 3
tamper "a flipped byte in the checkpoint root" flip_byte "$WORK/t/checkpoint" 30
tamper "a truncated tile" truncate -s 8000 "$WORK/t/tile/0/050"
tamper "a missing bundle" rm "$WORK/t/tile/entries/010"
tamper "a checkpoint of another key" cp "$WORK/ppub/checkpoint" "$WORK/t/checkpoint"
# A shrinking log: the older export checked against the newer checkpoint.
"$COMITY" log checkpoint "$L" >"$WORK/cp-new"
if "$GOVERIFY" verify -dir "$WORK/ppub" -vkey "$VKEY" -old "$WORK/cp-new" >/dev/null 2>&1; then fail "go: shrink"; fi
pass "all tampering refused by both verifiers"
