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

mkdir -p "$WORK/www/feeds" "$WORK/www/pages"
python3 - "$WORK/www" "$FEEDS" "$ENTRIES" <<'PY'
import os, sys
root, feeds, entries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
actors = ["Kremlin spokesman Dmitry Peskov", "Prime Minister Giorgia Meloni", "Chancellor Friedrich Merz", "President Volodymyr Zelensky", "Defence Secretary John Healey"]
lines = ["said on Monday that Moscow could accept peacekeepers in Ukraine only if they came from neutral countries.",
         "said Italy would not send its soldiers to Ukraine as part of any post-war mission.",
         "said Germany backs the multinational force for Ukraine.",
         "said Ukraine would not withdraw from the parts of Donetsk region it still controls.",
         "said British troops would deploy to Ukraine only if a US backstop is agreed."]
filler = "Officials met again on Tuesday to discuss the next round of talks, and several delegations said progress had been slow. " * 6
for f in range(feeds):
    items = []
    for e in range(entries):
        k = (f * entries + e)
        name = f"p{k}.html"
        body = f"<p>{actors[k % 5]} {lines[k % 5]}</p><p>{filler}</p><p>Story {k}.</p>"
        with open(os.path.join(root, "pages", name), "w") as fh:
            fh.write(f"<!DOCTYPE html><html><head><title>Story {k}</title></head><body><nav>Home</nav><article><h1>Story {k} on Ukraine guarantees</h1>{body}</article><footer>(c) Demo</footer></body></html>")
        items.append(f"<item><title>Story {k}</title><link>/pages/{name}</link><guid isPermaLink=\"false\">s{k}</guid></item>")
    with open(os.path.join(root, "feeds", f"f{f}.xml"), "w") as fh:
        fh.write("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>Feed %d</title><link>http://127.0.0.1/</link><description>load</description>%s</channel></rss>" % (f, "".join(items)))
PY

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
