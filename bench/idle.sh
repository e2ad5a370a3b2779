#!/usr/bin/env bash
# The daemon's memory between passes: `stancewatch run` over FEEDS feeds x
# ENTRIES entries (nginx on 127.0.0.1), one first pass with every page, then
# PASSES repeat passes (every feed answers 304) one second apart. After each
# pass it reads the daemon's resident memory from its /metrics endpoint
# (between passes, while the daemon sleeps) and prints it after the first
# pass and at a few points after, with the growth from pass 10 to the last.
#
#   bench/idle.sh [FEEDS] [PASSES]        (defaults: 1000 50; ENTRIES=20)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FEEDS=${1:-1000}
PASSES=${2:-50}
ENTRIES=${ENTRIES:-20}
BIN="$ROOT/target/release/stancewatch"
. "$ROOT/bench/lib.sh"
ensure_tools

WORK=$(mktemp -d)
DAEMON=""
trap '[ -n "$DAEMON" ] && kill "$DAEMON" 2>/dev/null; stop_nginx; rm -rf "$WORK"' EXIT
PORT=$(free_port)
python3 "$ROOT/bench/gen.py" "$WORK/www" "$FEEDS" "$ENTRIES"
start_nginx "$WORK/www"
METRICS=$(free_port)
# a one-second interval: every feed is due again at each pass
sw_config "$FEEDS" "$WORK/sw.toml" "[daemon]\nlisten = \"127.0.0.1:$METRICS\"\n"
sed -i 's/^interval = "15m"/interval = "1s"\njitter = "0s"/' "$WORK/sw.toml"
mkdir -p "$WORK/sw"

"$BIN" --log warn run --config "$WORK/sw.toml" &
DAEMON=$!

metric() { grep "^stancewatch_$1 " "$WORK/metrics" | awk '{print $2}'; }
last=0
declare -a rss
while [ "$last" -lt $((PASSES + 1)) ]; do
  sleep 0.1
  curl -sf -o "$WORK/metrics" "http://127.0.0.1:$METRICS/metrics" || continue
  n=$(metric passes_total)
  if [ "$n" != "$last" ]; then
    rss[$n]=$(metric resident_memory_bytes)
    last=$n
  fi
  kill -0 "$DAEMON" 2>/dev/null || { echo "the daemon died" >&2; exit 1; }
done
peak=$(metric peak_resident_memory_bytes)
kill -TERM "$DAEMON"
wait "$DAEMON" || true
DAEMON=""

mib() { echo "scale=1; $1 / 1048576" | bc; }
echo "stancewatch run: $FEEDS feeds x $ENTRIES entries, 1 first pass + $PASSES repeat passes"
echo "| after pass | resident memory between passes |"
echo "|---|---|"
for p in 1 2 10 25 $((PASSES + 1)); do
  [ -n "${rss[$p]:-}" ] && echo "| $p | $(mib "${rss[$p]}") MiB |"
done
max=0
for p in $(seq 1 $((PASSES + 1))); do
  [ -n "${rss[$p]:-}" ] && [ "${rss[$p]}" -gt "$max" ] && max=${rss[$p]}
done
echo
echo "largest between passes: $(mib "$max") MiB; peak during a pass: $(mib "$peak") MiB"
base=10
[ "$PASSES" -lt 10 ] && base=2
echo "growth from pass $base to pass $((PASSES + 1)): $(mib $(( ${rss[$((PASSES + 1))]} - ${rss[$base]} ))) MiB"
