# Shared helpers for the tlog shell tests (sourced). Usage: source lib.sh; needs $COMITY.
set -euo pipefail

WORK=$(mktemp -d "${TMPDIR:-/tmp}/comity-tlog-test.XXXXXX")
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# expect_fail CODE SUBSTRING cmd...: cmd must exit with CODE and print SUBSTRING on stderr.
expect_fail() {
  local want=$1 needle=$2; shift 2
  local rc=0
  "$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
  [ "$rc" = "$want" ] || fail "exit $rc (want $want) from: $* -- stderr: $(cat "$WORK/err")"
  grep -qF -- "$needle" "$WORK/err" || fail "stderr of '$*' lacks '$needle': $(cat "$WORK/err")"
}

# Lines "entry-<i>" for i in [from, to).
gen_entries() { awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i < b; i++) printf "entry-%d\n", i }'; }

# Flips the byte at OFFSET of FILE.
flip_byte() {
  local file=$1 off=$2
  local b
  b=$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')
  printf "$(printf '\\%03o' $(( (b ^ 1) & 255 )))" | dd of="$file" bs=1 seek="$off" conv=notrunc status=none
}

# start_server DIR PORTFILE [cert key]: serves DIR with goverify, waits for the port.
start_server() {
  local dir=$1 portfile=$2
  shift 2
  if [ $# -eq 2 ]; then
    "$GOVERIFY" serve -dir "$dir" -portfile "$portfile" -cert "$1" -key "$2" 2>/dev/null &
  else
    "$GOVERIFY" serve -dir "$dir" -portfile "$portfile" &
  fi
  PIDS+=($!)
  for _ in $(seq 100); do [ -s "$portfile" ] && return 0; sleep 0.1; done
  fail "server for $dir did not start"
}
