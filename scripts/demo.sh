#!/usr/bin/env bash
# make demo: the network at work — `comity demo` starts four nodes (XA, XB, XD, XF) on this
# machine, wires them as peers and exchanges requests in all directions, screened, reviewed,
# answered, signed and logged (docs/federation.md, "The demo"); the nodes keep serving until
# Ctrl-C. With --screen-only: the screening walkthrough instead — every public treaty
# conformance request screened with the shipped rule base and profiles, each explained decision
# printed (the case, what it is about, the outcome, every finding with its article and message).
#
#   scripts/demo.sh [path/to/comity] [comity demo options...]
#   scripts/demo.sh --screen-only [path/to/comity]
set -euo pipefail
screen_only=0
if [ "${1:-}" = --screen-only ]; then screen_only=1; shift; fi
comity=${1:-build/bin/comity}
[ $# -gt 0 ] && shift
if [ "$screen_only" = 0 ]; then
  exec "$comity" demo "$@"
fi
root=$(cd "$(dirname "$0")/.." && pwd)
cases="$root/../shared/conformance/cases"
[ -d "$cases" ] || cases="$root/tests/conformance/cases"
command -v jq >/dev/null || { echo "demo: jq is required (make deps installs it)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$comity" --version
echo
"$comity" rules check "$root/rules"
echo
bold="" plain=""
if [ -t 1 ]; then bold=$(tput bold 2>/dev/null || true) plain=$(tput sgr0 2>/dev/null || true); fi
n=0
for c in "$cases"/*.json; do
  n=$((n + 1))
  name=$(jq -r .name "$c")
  why=$(jq -r .why "$c")
  expected=$(jq -r '.expect.outcome | join(" or ")' "$c")
  jq -c .request "$c" > "$work/request.json"
  echo "================================================================================"
  echo "${bold}$n. $name${plain}"
  echo "   $why"
  echo "   (expected: $expected)"
  echo
  "$comity" screen --format text --profiles "$root/profiles" --rules "$root/rules" \
    "$work/request.json" | sed 's/^/   /; s/^ *$//'
  echo
done
echo "Screened $n requests. \`comity rules explain <rule>\` explains any rule above;"
echo "\`comity screen --profiles profiles REQUEST.json\` prints a decision as JSON."
