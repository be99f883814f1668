#!/usr/bin/env bash
# Runs every libFuzzer target in BUILD_DIR/bin/fuzz_* for SECONDS each, starting from its seed
# corpus in fuzz/corpus/<name>/. A crash fails the run; the reproducer is left in fuzz/.
set -euo pipefail
build=$(cd "${1:?build dir}" && pwd)  # absolute: each fuzzer runs from fuzz/
seconds=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
shopt -s nullglob
targets=("$build"/bin/fuzz_*)
if [ ${#targets[@]} -eq 0 ]; then echo "no fuzz targets"; exit 0; fi
for t in "${targets[@]}"; do
  name=$(basename "$t"); name=${name#fuzz_}
  seeds="$root/fuzz/corpus/$name"
  work=$(mktemp -d)
  [ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null || true
  dict=()
  [ -f "$root/fuzz/$name.dict" ] && dict=(-dict="$root/fuzz/$name.dict")
  echo "== fuzz $name for ${seconds}s"
  (cd "$root/fuzz" && "$t" "${dict[@]}" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
     -rss_limit_mb=2048 -print_final_stats=1 "$work") 2>&1 | tail -n 12
  rc=${PIPESTATUS[0]}
  rm -rf "$work"
  if [ "$rc" -ne 0 ]; then echo "fuzzer $name failed (exit $rc)"; exit 1; fi
done
