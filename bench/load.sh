#!/usr/bin/env bash
# Load harness: N feeds x M entries with linked article pages, served on
# 127.0.0.1 by Python's threaded HTTP server (Last-Modified / 304 capable),
# then one first pass and one repeat pass of `stancewatch check`, each timed
# with /usr/bin/time (wall, CPU, peak RSS); requests are counted from the
# server log.
#
#   bench/load.sh [FEEDS] [ENTRIES]      (defaults: 1000 20)
set -euo pipefail
FEEDS=${1:-1000}
ENTRIES=${2:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN="$ROOT/target/release/stancewatch"
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
[ -x "$BIN" ] || (cd "$ROOT" && cargo build --release --locked)

python3 "$ROOT/bench/gen.py" "$WORK/www" "$FEEDS" "$ENTRIES"

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$WORK/serve.py" <<'PY'
import functools, http.server, sys
class Server(http.server.ThreadingHTTPServer):
    request_queue_size = 1024
    daemon_threads = True
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
Server(("127.0.0.1", int(sys.argv[2])), handler).serve_forever()
PY
python3 "$WORK/serve.py" "$WORK/www" "$PORT" > "$WORK/server.log" 2>&1 &
SERVER=$!
for _ in $(seq 50); do python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/feeds/f0.xml')" 2>/dev/null && break; sleep 0.1; done

{
  printf '[state]\npath = "%s/state.db"\n[poll]\ninterval = "15m"\n' "$WORK"
  printf '[fetch]\nconcurrency = 64\nper_host = 64\n'
  printf '[email]\nfrom = "bench@localhost"\nto = ["bench@localhost"]\nmaildir = "%s/mail"\n' "$WORK"
  for f in $(seq 0 $((FEEDS - 1))); do printf '[[feeds]]\nurl = "http://127.0.0.1:%s/feeds/f%s.xml"\n' "$PORT" "$f"; done
} > "$WORK/config.toml"

measure() {
  local label=$1
  local before
  before=$(grep -c '"GET ' "$WORK/server.log" || true)
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$BIN" --log warn check --config "$WORK/config.toml" > "$WORK/$label.out"
  local after
  after=$(grep -c '"GET ' "$WORK/server.log" || true)
  read -r wall user sys rss < "$WORK/time"
  local n304
  n304=$(tail -n +$((before + 1)) "$WORK/server.log" | grep -c '" 304 ' || true)
  printf '%-12s wall %6ss  cpu %6ss  peak RSS %6s MiB  requests %6s (304: %s)\n' \
    "$label" "$wall" "$(echo "$user + $sys" | bc)" "$((rss / 1024))" "$((after - before))" "$n304"
}

echo "stancewatch load: $FEEDS feeds x $ENTRIES entries on 127.0.0.1 (threaded python3 http.server)"
measure first_pass
grep -E '^(feeds|entries|articles|shifts):' "$WORK/first_pass.out"
measure repeat_pass
grep -E '^(feeds|entries):' "$WORK/repeat_pass.out"
