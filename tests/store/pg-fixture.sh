#!/usr/bin/env bash
# The ctest fixture `postgres`: a throw-away PostgreSQL cluster for one test run.
#
#   tests/store/pg-fixture.sh start DIR   # FIXTURES_SETUP: a fresh cluster; DIR/env holds
#                                         # "export COMITY_PG_URL=..." for the tests
#   tests/store/pg-fixture.sh stop DIR    # FIXTURES_CLEANUP: stops it and removes DIR
#
# DIR is under the build tree; it and its parents must be traversable by the postgres user
# (scripts/pg-tmp.sh runs the server as postgres when started by root). Without PostgreSQL's
# server binaries the start fails, and with it every test that needs the fixture: run
# `make deps` (Debian package postgresql).
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}
root=$(cd "$(dirname "$0")/../.." && pwd)
pgtmp="$root/scripts/pg-tmp.sh"

case "$cmd" in
  start)
    # A cluster left behind by an interrupted run is stopped and thrown away.
    "$pgtmp" stop "$dir" >/dev/null 2>&1 || true
    rm -rf "$dir"
    "$pgtmp" start "$dir" >"$dir.env.tmp"
    mv "$dir.env.tmp" "$dir/env"
    cat "$dir/env"
    ;;
  stop)
    rm -f "$dir/env"
    "$pgtmp" stop "$dir"
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
