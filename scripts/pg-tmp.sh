#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for tests, from Debian's postgresql package.
#
#   eval "$(scripts/pg-tmp.sh start DIR)"   # exports COMITY_PG_URL (and PGHOST/PGPORT)
#   scripts/pg-tmp.sh stop DIR
#
# The cluster listens only on a Unix socket inside DIR and on a free loopback port; it runs as
# the `postgres` system user when started by root (initdb refuses root). Nothing outside DIR is
# touched, so a CI run can start and stop as many as it needs. The cluster runs with fsync=off for
# speed (commits are not durable); PG_TMP_FSYNC=on gives a durable one, for benchmarks. Its
# collation is C (byte order), as SQLite's.
set -euo pipefail
cmd=${1:?start|stop}
dir=${2:?directory}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "pg-tmp: PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    # Parent directories must be traversable by the postgres user.
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_pg "$bin/initdb" -D "$dir/data" -A trust -U comity --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null \
      || echo $((20000 + RANDOM % 20000)))
    as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${PG_TMP_FSYNC:-off} -c max_connections=200" >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    echo "$port" > "$dir/port"
    # A cluster started again keeps its database.
    if ! as_pg "$bin/psql" -h "$dir" -p "$port" -U comity -d comity_test -qAtc "SELECT 1" >/dev/null 2>&1; then
      as_pg "$bin/createdb" -h "$dir" -p "$port" -U comity comity_test
    fi
    echo "export PGHOST=$dir PGPORT=$port"
    echo "export COMITY_PG_URL=postgresql://comity@127.0.0.1:$port/comity_test"
    ;;
  stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
      as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
