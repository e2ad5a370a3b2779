#!/usr/bin/env bash
# The state on PostgreSQL against SQLite, and two daemons against one.
#
#   bench/postgres.sh [FEEDS]          (default: 1000)
#   ENTRIES=20 RUNS=3 bench/postgres.sh 1000
#
# Serves FEEDS feeds x ENTRIES entries (bench/gen.py) with nginx on
# 127.0.0.1, starts a throwaway PostgreSQL cluster on a free loopback port
# (Debian's postgresql, installed if missing; run as root, the cluster runs
# as `postgres`), and times, RUNS times each from a clean state:
#   sqlite    stancewatch check, first pass and repeat pass, on a file
#   postgres  the same on the database
#   daemons   `stancewatch run` on an empty database: one alone, then two
#             side by side; the time until every first pass has finished
# Prints the medians as a Markdown table.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ENTRIES=${ENTRIES:-20}
RUNS=${RUNS:-3}
N=${1:-1000}
BIN="$ROOT/target/release/stancewatch"

. "$ROOT/bench/lib.sh"
ensure_tools
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort | tail -1)

WORK=$(mktemp -d)
chmod 755 "$WORK"
PG=$WORK/pg
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
  as_pg "$PGBIN/pg_ctl" -D "$PG/data" -m immediate stop >/dev/null 2>&1 || true
  stop_nginx
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$PG"
[ "$(id -u)" = 0 ] && chown postgres "$PG"
as_pg "$PGBIN/initdb" -D "$PG/data" -A trust -U postgres >/dev/null
PGPORT=$(free_port)
as_pg "$PGBIN/pg_ctl" -D "$PG/data" -l "$PG/log" -w \
  -o "-p $PGPORT -k $PG -c listen_addresses=127.0.0.1 -c max_connections=50" start >/dev/null
psql_() { "$PGBIN/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres -Atq -c "$1"; }
URL="postgresql://postgres@127.0.0.1:$PGPORT/postgres"

python3 "$ROOT/bench/gen.py" "$WORK/www" "$N" "$ENTRIES"
start_nginx "$WORK/www"
sw_config "$N" "$WORK/sqlite.toml"
sed "s|^path = .*|url = \"$URL\"|" "$WORK/sqlite.toml" > "$WORK/pg.toml"

fresh_db() {
  psql_ "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"
}

# timed LABEL CMD...: appends "LABEL seconds" to $WORK/results
timed() {
  local label=$1
  shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null 2> "$WORK/err.txt" || { echo "$label failed:" >&2; tail -20 "$WORK/err.txt" >&2; exit 1; }
  t1=$(date +%s.%N)
  echo "$label $(echo "$t1 - $t0" | bc)" >> "$WORK/results"
}

# daemons LABEL K: K daemons on an empty database; the time until each has
# logged the end of its first pass
daemons() {
  local label=$1 k=$2 pids=() t0 t1 i
  fresh_db
  t0=$(date +%s.%N)
  for i in $(seq "$k"); do
    STANCEWATCH_LOG=info "$BIN" run --config "$WORK/pg.toml" > /dev/null 2> "$WORK/d$i.log" &
    pids+=($!)
  done
  for i in $(seq "$k"); do
    until grep -q "pass finished" "$WORK/d$i.log"; do sleep 0.05; done
  done
  t1=$(date +%s.%N)
  kill -TERM "${pids[@]}"
  wait "${pids[@]}" || true
  echo "$label $(echo "$t1 - $t0" | bc)" >> "$WORK/results"
  local read=0 n
  for i in $(seq "$k"); do
    n=$(grep "pass finished" "$WORK/d$i.log" | head -1 | sed 's/.*entries=\([0-9]*\).*/\1/')
    echo "  $label daemon $i read $n entries" >&2
    read=$((read + n))
  done
  [ "$read" = $((N * ENTRIES)) ] || { echo "$label: $read entries read, not $((N * ENTRIES))" >&2; exit 1; }
}

for run in $(seq "$RUNS"); do
  rm -rf "$WORK/sw"
  mkdir -p "$WORK/sw"
  timed sqlite_first "$BIN" --log warn check --config "$WORK/sqlite.toml"
  timed sqlite_repeat "$BIN" --log warn check --config "$WORK/sqlite.toml"
  fresh_db
  rm -rf "$WORK/sw/mail"
  timed postgres_first "$BIN" --log warn check --config "$WORK/pg.toml"
  timed postgres_repeat "$BIN" --log warn check --config "$WORK/pg.toml"
  daemons one_daemon 1
  daemons two_daemons 2
done

python3 - "$WORK/results" "$N" "$ENTRIES" "$RUNS" <<'PY'
import statistics, sys
path, n, entries, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = {}
for line in open(path):
    label, secs = line.split()
    rows.setdefault(label, []).append(float(secs))
m = {k: statistics.median(v) for k, v in rows.items()}
print(f"\n### {n} feeds x {entries} entries (medians of {runs} runs)\n")
print("| run | SQLite | PostgreSQL | ratio |")
print("|---|---|---|---|")
for kind in ("first", "repeat"):
    a, b = m[f"sqlite_{kind}"], m[f"postgres_{kind}"]
    print(f"| check, {kind} pass | {a:.2f} s | {b:.2f} s | {b/a:.3f} |")
a, b = m["one_daemon"], m["two_daemons"]
print(f"\n| first pass on PostgreSQL | one daemon | two daemons | ratio |")
print("|---|---|---|---|")
print(f"| until every first pass ended | {a:.2f} s | {b:.2f} s | {b/a:.3f} |")
PY
