#!/usr/bin/env bash
# make bench: Google Benchmark targets and end-to-end load scripts.
set -euo pipefail
build=${1:-build}
shopt -s nullglob
for b in "$build"/bin/bench_*; do echo "== $(basename "$b")"; "$b"; done
