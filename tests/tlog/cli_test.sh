#!/usr/bin/env bash
# `comity log` end to end: every command, its output, and its refusals with clear messages.
# Usage: cli_test.sh COMITY_BINARY GOVERIFY_BINARY
COMITY=$1
GOVERIFY=$2
source "$(dirname "$0")/lib.sh"
[ -x "$GOVERIFY" ] || fail "goverify not built ($GOVERIFY): build the tree (it needs golang-go and golang-golang-x-mod-dev)"
L=$WORK/log

# init: prints the vkey; the key file is private; a second init is refused.
VKEY=$("$COMITY" log init "$L" --origin example.com/cli-test)
[[ "$VKEY" =~ ^example.com/cli-test\+[0-9a-f]{8}\+A ]] || fail "vkey: $VKEY"
[ "$(stat -c %a "$L/log.key")" = 600 ] || fail "log.key mode $(stat -c %a "$L/log.key")"
[ "$(stat -c %a "$L/comity.db")" = 600 ] || fail "comity.db mode"
[ "$("$COMITY" log vkey "$L")" = "$VKEY" ] || fail "log vkey differs from init"
expect_fail 1 "already holds a log key" "$COMITY" log init "$L" --origin example.com/other
expect_fail 2 "origin \"bad origin\" must be" "$COMITY" log init "$WORK/bad" --origin "bad origin"
expect_fail 2 "must be \`manual\` or \`immediate\`" "$COMITY" log init "$WORK/bad2" --origin a.b/c --disclose later
[ ! -e "$WORK/bad2/log.key" ] || fail "a refused init left a key behind"
pass init

# append: one entry per line (no trailing newline needed, empty lines are entries).
[ "$(printf 'one\ntwo\n\nfour' | "$COMITY" log append "$L")" = 4 ] || fail "append size"
[ "$("$COMITY" log entries "$L" | od -c | head -1)" = "$(printf 'one\ntwo\n\nfour\n' | od -c | head -1)" ] || fail entries
gen_entries 4 3000 | "$COMITY" log append "$L" --batch 700 --progress 2>"$WORK/progress" >"$WORK/size"
[ "$(cat "$WORK/size")" = 3000 ] || fail "size after append: $(cat "$WORK/size")"
[ "$(grep -c '^committed ' "$WORK/progress")" = 5 ] || fail "expected 5 acknowledged batches: $(cat "$WORK/progress")"
[ "$(tail -1 "$WORK/progress")" = "committed 3000" ] || fail "last ack"
# Nothing new: the size is unchanged and no checkpoint is made.
[ "$(printf '' | "$COMITY" log append "$L")" = 3000 ] || fail "empty append"
# An entry over 64 KiB is refused, with the line number; the lines before it are kept.
{ echo ok-1; echo ok-2; head -c 65536 /dev/zero | tr '\0' x; echo; echo never; } >"$WORK/big"
expect_fail 2 "stdin line 3: entry of more than 65535 bytes" "$COMITY" log append "$L" <"$WORK/big"
grep -qF "log size 3002" "$WORK/err" || fail "size after refused line: $(cat "$WORK/err")"
[ "$("$COMITY" log entries "$L" --from 3000 | tr '\n' ' ')" = "ok-1 ok-2 " ] || fail "lines before the long one"
# Exactly 65535 bytes is fine.
{ head -c 65535 /dev/zero | tr '\0' y; echo; } | "$COMITY" log append "$L" >/dev/null
expect_fail 2 "--batch must be between 1 and" "$COMITY" log append "$L" --batch 0 </dev/null
pass append

# checkpoint: a signed note for the committed size.
"$COMITY" log checkpoint "$L" >"$WORK/cp"
[ "$(sed -n 2p "$WORK/cp")" = 3003 ] || fail "checkpoint size"
[ "$(head -1 "$WORK/cp")" = example.com/cli-test ] || fail "checkpoint origin"
cp "$WORK/cp" "$WORK/cp-3003"

# disclose: nothing is disclosed by default; only forward; never beyond committed.
"$COMITY" log export "$L" "$WORK/pub0" >/dev/null
[ "$(cat "$WORK/pub0/disclosed")" = 0 ] || fail "default disclosure"
[ ! -e "$WORK/pub0/tile/entries" ] || fail "bundles exported before disclosure"
"$COMITY" log verify "$WORK/pub0" --vkey "$VKEY" | grep -qF "0 entries disclosed" || fail "verify undisclosed"
[ "$("$COMITY" log disclose "$L" --size 1000)" = 1000 ] || fail disclose
expect_fail 1 "the disclosed size only moves forward" "$COMITY" log disclose "$L" --size 999
expect_fail 1 "only 3003 are committed" "$COMITY" log disclose "$L" --size 5000
expect_fail 2 "exactly one of --size or --all" "$COMITY" log disclose "$L"
[ "$("$COMITY" log disclose "$L" --all)" = 3003 ] || fail "disclose --all"
pass disclose

# export + verify (static directory, the log directory itself, HTTP and HTTPS).
"$COMITY" log export "$L" "$WORK/pub" | grep -qF "exported 13 tiles and 12 entry bundles (size 3003, 3003 disclosed)" || fail export
out=$("$COMITY" log verify "$WORK/pub" --vkey "$VKEY")
[[ "$out" == "verified example.com/cli-test: size 3003, root "*"; 13 tiles, 12 entry bundles (3003 entries disclosed)" ]] || fail "verify summary: $out"
"$COMITY" log verify "$L" --vkey "$VKEY" >/dev/null || fail "verify from the log directory"
"$GOVERIFY" verify -dir "$WORK/pub" -vkey "$VKEY" >/dev/null || fail "go verify"
start_server "$WORK/pub" "$WORK/port-http"
"$COMITY" log verify "http://127.0.0.1:$(cat "$WORK/port-http")/" --vkey "$VKEY" | grep -q "^verified" || fail "verify over http"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
start_server "$WORK/pub" "$WORK/port-https" "$WORK/cert.pem" "$WORK/key.pem"
HTTPS="https://127.0.0.1:$(cat "$WORK/port-https")"
"$COMITY" log verify "$HTTPS" --vkey "$VKEY" --ca-file "$WORK/cert.pem" | grep -q "^verified" || fail "verify over https"
expect_fail 1 "TLS handshake" "$COMITY" log verify "$HTTPS" --vkey "$VKEY"  # untrusted certificate
expect_fail 1 "404" "$COMITY" log verify "http://127.0.0.1:$(cat "$WORK/port-http")/nowhere/" --vkey "$VKEY"
expect_fail 2 "unsupported URL scheme" "$COMITY" log verify "ftp://example.com/log" --vkey "$VKEY"
pass "export and verify (dir, db, http, https)"

# Verification failures exit 1 with the first failure; bad input exits 2.
OTHER=$("$COMITY" log init "$WORK/other" --origin example.com/cli-test)
expect_fail 1 "not signed by any trusted key" "$COMITY" log verify "$WORK/pub" --vkey "$OTHER"
expect_fail 2 "invalid verifier key" "$COMITY" log verify "$WORK/pub" --vkey "example.com/cli-test+00000000+AAAA"
cp -r "$WORK/pub" "$WORK/tampered"
flip_byte "$WORK/tampered/tile/0/005" 100
expect_fail 1 "tile 0/005 does not match" "$COMITY" log verify "$WORK/tampered" --vkey "$VKEY"
rm -rf "$WORK/tampered"; cp -r "$WORK/pub" "$WORK/tampered"
flip_byte "$WORK/tampered/tile/entries/003" 10
expect_fail 1 "tile/entries/003" "$COMITY" log verify "$WORK/tampered" --vkey "$VKEY"
rm -rf "$WORK/tampered"; cp -r "$WORK/pub" "$WORK/tampered"
truncate -s 100 "$WORK/tampered/tile/0/011.p/187"
expect_fail 1 "100 bytes" "$COMITY" log verify "$WORK/tampered" --vkey "$VKEY"
pass "tampering refused"

# Consistency with an older checkpoint, and a shrinking log.
printf 'later\n' | "$COMITY" log append "$L" >/dev/null
"$COMITY" log export "$L" "$WORK/pub" >/dev/null
"$COMITY" log verify "$WORK/pub" --vkey "$VKEY" --old "$WORK/cp-3003" | grep -qF "consistent with the earlier checkpoint of size 3003" || fail "--old"
"$GOVERIFY" verify -dir "$WORK/pub" -vkey "$VKEY" -old "$WORK/cp-3003" | grep -qF "consistent with size 3003" || fail "go --old"
"$COMITY" log checkpoint "$L" >"$WORK/cp-3004"
expect_fail 1 "the log shrank" "$COMITY" log verify "$WORK/pub0" --vkey "$VKEY" --old "$WORK/cp-3004"
expect_fail 1 "cannot read" "$COMITY" log verify "$WORK/pub" --vkey "$VKEY" --old "$WORK/missing"
pass "consistency"

# prove: inclusion and consistency proofs as JSON, checkable with the published root.
"$COMITY" log prove "$L" --index 42 >"$WORK/proof.json"
jq -e '.index == 42 and .size == 3004 and (.inclusion_proof | length) == 12 and (.entry | @base64d) == "entry-42"' "$WORK/proof.json" >/dev/null || fail "prove: $(cat "$WORK/proof.json")"
jq -e --arg root "$(sed -n 3p "$WORK/cp-3004")" '.root == $root and (.checkpoint | length) > 0' "$WORK/proof.json" >/dev/null || fail "prove root"
"$COMITY" log prove "$L" --from 3003 | jq -e '.old_size == 3003 and .old_root == "'"$(sed -n 3p "$WORK/cp-3003")"'"' >/dev/null || fail "prove --from"
"$COMITY" log prove "$L" --index 5 --size 10 | jq -e '.size == 10 and .checkpoint == null' >/dev/null || fail "prove --size"
expect_fail 2 "is not below the size" "$COMITY" log prove "$L" --index 3004
expect_fail 2 "beyond the committed size" "$COMITY" log prove "$L" --index 1 --size 4000
expect_fail 2 "exactly one of --index" "$COMITY" log prove "$L"
pass prove

# Missing, corrupt or foreign state is reported, not trusted.
expect_fail 1 "no log in $WORK/nowhere" "$COMITY" log checkpoint "$WORK/nowhere"
mkdir -p "$WORK/garbage" && head -c 8192 /dev/urandom >"$WORK/garbage/comity.db"
expect_fail 1 "not a database" "$COMITY" log checkpoint "$WORK/garbage"
cp "$WORK/other/log.key" "$WORK/wrong.key"
cp -r "$L" "$WORK/swapped" && rm "$WORK/swapped/log.key" && cp "$WORK/wrong.key" "$WORK/swapped/log.key"
expect_fail 1 "signed by another key" "$COMITY" log append "$WORK/swapped" </dev/null
chmod 644 "$WORK/swapped/log.key"
expect_fail 1 "accessible by group or others" "$COMITY" log append "$WORK/swapped" </dev/null
sqlite3 "$WORK/swapped/comity.db" "UPDATE tlog_tiles SET hashes = zeroblob(length(hashes)) WHERE level = 0 AND idx = 11"
chmod 600 "$WORK/swapped/log.key" && cp "$L/log.key" "$WORK/swapped/log.key"
expect_fail 1 "stored tiles hash to" "$COMITY" log append "$WORK/swapped" </dev/null
pass "corrupt state"

# A passphrase-protected key.
COMITY_KEY_PASSPHRASE=s3cret "$COMITY" log init "$WORK/locked" --origin example.com/locked >/dev/null
grep -q " argon2id " "$WORK/locked/log.key" || fail "key not protected"
expect_fail 1 "COMITY_KEY_PASSPHRASE" "$COMITY" log append "$WORK/locked" </dev/null
COMITY_KEY_PASSPHRASE=wrong expect_fail 1 "wrong passphrase" "$COMITY" log append "$WORK/locked" </dev/null
[ "$(echo x | COMITY_KEY_PASSPHRASE=s3cret "$COMITY" log append "$WORK/locked")" = 1 ] || fail "locked append"
pass passphrase

# Witness: cosign a growing log, refuse nothing consistent, catch a split view.
WV=$("$COMITY" log witness init "$WORK/w" --name witness.example/w1)
[[ "$WV" =~ ^witness.example/w1\+[0-9a-f]{8}\+B ]] || fail "witness vkey $WV"  # type 0x04
expect_fail 1 "already holds the witness" "$COMITY" log witness init "$WORK/w" --name witness.example/w2
expect_fail 2 "must be a key name" "$COMITY" log witness init "$WORK/w3" --name "two words"
"$COMITY" log witness cosign "$WORK/w" "$WORK/pub" --vkey "$VKEY" >"$WORK/cosigned"
grep -q "^— witness.example/w1 " "$WORK/cosigned" || fail "no cosignature: $(cat "$WORK/cosigned")"
gen_entries 0 300 | "$COMITY" log append "$L" >/dev/null
"$COMITY" log witness cosign "$WORK/w" "http://127.0.0.1:$(cat "$WORK/port-http")/" --vkey "$VKEY" >/dev/null  # same size again: still fine
"$COMITY" log witness cosign "$WORK/w" "$L" --vkey "$VKEY" | sed -n 2p | grep -qx 3304 || fail "cosign grown log"
# A fork: a second log with the same key and origin but a different history.
"$COMITY" log init "$WORK/fork" --origin example.com/cli-test --key "$L/log.key" >/dev/null
gen_entries 0 3400 | sed 's/^entry-7$/rewritten/' | "$COMITY" log append "$WORK/fork" >/dev/null
expect_fail 1 "split view detected" "$COMITY" log witness cosign "$WORK/w" "$WORK/fork" --vkey "$VKEY"
grep -qF "SPLIT VIEW of example.com/cli-test" "$WORK/err" || fail "split view report"
grep -qF "does not extend the tree of size 3304" "$WORK/err" || fail "split view detail"
"$COMITY" log witness evidence "$WORK/w" >"$WORK/evidence.json"
jq -e 'length == 1 and .[0].origin == "example.com/cli-test" and (.[0].first_checkpoint | test("\n3304\n")) and (.[0].second_checkpoint | test("\n3400\n"))' "$WORK/evidence.json" >/dev/null || fail "evidence: $(cat "$WORK/evidence.json")"
# The honest log is still cosigned afterwards.
"$COMITY" log witness cosign "$WORK/w" "$L" --vkey "$VKEY" >/dev/null || fail "cosign after split view"
expect_fail 1 "no witness in" "$COMITY" log witness cosign "$WORK/nowitness" "$L" --vkey "$VKEY"
expect_fail 2 "is not a valid key file" "$COMITY" log init "$WORK/fork2" --origin a.b/c --key "$WORK/cp"
pass "witness"
# Two appenders at once on one log: both finish, nothing is lost or reordered within a writer,
# and the log verifies. Each opened the log before the other appended: an append re-reads the
# stored (size, root) under the write lock and reloads its right edge when another wrote.
before=$("$COMITY" log append "$L" </dev/null)
gen_entries 0 3000 | sed 's/^/a-/' | "$COMITY" log append "$L" --batch 50 >/dev/null &
p1=$!
gen_entries 0 3000 | sed 's/^/b-/' | "$COMITY" log append "$L" --batch 50 >/dev/null &
p2=$!
wait "$p1" || fail "first concurrent appender failed"
wait "$p2" || fail "second concurrent appender failed"
[ "$("$COMITY" log append "$L" </dev/null)" = $((before + 6000)) ] || fail "concurrent appends lost entries"
"$COMITY" log entries "$L" --from "$before" >"$WORK/both"
diff <(grep '^a-' "$WORK/both") <(gen_entries 0 3000 | sed 's/^/a-/') >/dev/null || fail "writer a's entries"
diff <(grep '^b-' "$WORK/both") <(gen_entries 0 3000 | sed 's/^/b-/') >/dev/null || fail "writer b's entries"
"$COMITY" log verify "$L" --vkey "$VKEY" >/dev/null || fail "verify after concurrent appends"
pass "concurrent appenders"
echo "all cli tests passed"
