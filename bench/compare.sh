#!/usr/bin/env bash
# stancewatch against urlwatch and rss2email over the same feeds.
#
#   bench/compare.sh [FEEDS...]        (default: 1000)
#   ENTRIES=20 RUNS=3 bench/compare.sh 100 1000 5000
#
# For each feed count: writes FEEDS feeds x ENTRIES entries with one article
# page per entry (bench/gen.py), serves them with nginx on 127.0.0.1 (ETag and
# Last-Modified, so a repeat poll can be a 304), and times, RUNS times each
# from a clean state:
#   stancewatch check      first pass (feeds + pages + analysis), repeat pass
#   urlwatch               first run, repeat run (fetches the feeds)
#   rss2email run --no-send first run, repeat run (fetches the feeds)
# with /usr/bin/time (wall, user+sys CPU, peak RSS) and counts the requests
# each run made from nginx's access log. Prints the medians and the ratios
# stancewatch / peer as a Markdown table.
#
# Installs what is missing: nginx and GNU time (apt-get, needs root), and
# urlwatch and rss2email into a venv under target/bench-venv (pip).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ENTRIES=${ENTRIES:-20}
RUNS=${RUNS:-3}
SIZES=("${@:-1000}")
BIN="$ROOT/target/release/stancewatch"
VENV="$ROOT/target/bench-venv"

. "$ROOT/bench/lib.sh"
ensure_tools
if [ ! -x "$VENV/bin/urlwatch" ] || [ ! -x "$VENV/bin/r2e" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "urlwatch==2.29" "rss2email==3.14"
fi

WORK=$(mktemp -d)
trap 'stop_nginx; rm -rf "$WORK"' EXIT
PORT=$(free_port)

requests() { wc -l < "$WORK/nginx/access.log"; }
n304() { awk '$9 == 304' "$WORK/nginx/access.log" | wc -l; }

# measure LABEL CMD... : appends "label wall cpu rss_kib requests n304" to $WORK/results
measure() {
  local label=$1
  shift
  local r0 s0
  r0=$(requests)
  s0=$(n304)
  /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$@" > "$WORK/out.txt" 2> "$WORK/err.txt" || {
    echo "$label failed:" >&2
    tail -20 "$WORK/err.txt" >&2
    exit 1
  }
  local wall user sys rss
  read -r wall user sys rss < <(tail -1 "$WORK/time")
  echo "$label $wall $(echo "$user + $sys" | bc) $rss $(($(requests) - r0)) $(($(n304) - s0))" >> "$WORK/results"
}

for N in "${SIZES[@]}"; do
  rm -rf "$WORK/www" "$WORK/results"
  python3 "$ROOT/bench/gen.py" "$WORK/www" "$N" "$ENTRIES"
  stop_nginx
  start_nginx "$WORK/www"

  sw_config "$N" "$WORK/stancewatch.toml"
  # urlwatch: one job per feed, reports to stdout
  for f in $(seq 0 $((N - 1))); do printf -- '---\nname: f%s\nurl: http://127.0.0.1:%s/feeds/f%s.xml\n' "$f" "$PORT" "$f"; done > "$WORK/urls.yaml"
  # rss2email: one [feed.*] section per feed
  mkdir -p "$WORK/r2e"
  {
    printf '[DEFAULT]\nto = bench@localhost\nfrom = bench@localhost\n'
    for f in $(seq 0 $((N - 1))); do printf '[feed.f%s]\nurl = http://127.0.0.1:%s/feeds/f%s.xml\n' "$f" "$PORT" "$f"; done
  } > "$WORK/r2e.cfg"

  for run in $(seq "$RUNS"); do
    rm -rf "$WORK/sw" "$WORK/urlwatch" "$WORK/r2e"
    mkdir -p "$WORK/sw" "$WORK/urlwatch" "$WORK/r2e"
    measure sw_first "$BIN" --log warn check --config "$WORK/stancewatch.toml"
    measure sw_repeat "$BIN" --log warn check --config "$WORK/stancewatch.toml"
    uw=("$VENV/bin/urlwatch" --urls "$WORK/urls.yaml" --config "$WORK/urlwatch/urlwatch.yaml"
        --hooks "$WORK/urlwatch/hooks.py" --cache "$WORK/urlwatch/cache.db")
    measure uw_first "${uw[@]}"
    measure uw_repeat "${uw[@]}"
    r2e=("$VENV/bin/r2e" -c "$WORK/r2e.cfg" -d "$WORK/r2e/data.json")
    measure r2e_first "${r2e[@]}" run --no-send
    measure r2e_repeat "${r2e[@]}" run --no-send
  done

  python3 - "$WORK/results" "$N" "$ENTRIES" "$RUNS" <<'PY'
import statistics, sys
path, n, entries, runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = {}
for line in open(path):
    label, wall, cpu, rss, req, n304 = line.split()
    rows.setdefault(label, []).append((float(wall), float(cpu), int(rss), int(req), int(n304)))
med = {k: tuple(statistics.median(x[i] for x in v) for i in range(5)) for k, v in rows.items()}
names = {"sw": "stancewatch check", "uw": "urlwatch", "r2e": "rss2email run --no-send"}
print(f"\n### {n} feeds x {entries} entries (medians of {runs} runs)\n")
print("| run | wall | CPU | peak RSS | requests (304) |")
print("|---|---|---|---|---|")
for tool in ("sw", "uw", "r2e"):
    for kind in ("first", "repeat"):
        w, c, r, q, s = med[f"{tool}_{kind}"]
        print(f"| {names[tool]}, {kind} | {w:.2f} s | {c:.2f} s | {r/1024:.1f} MiB | {q:.0f} ({s:.0f}) |")
print("\n| ratio stancewatch / peer | wall | CPU | peak RSS |")
print("|---|---|---|---|")
for tool in ("uw", "r2e"):
    for kind in ("first", "repeat"):
        a, b = med[f"sw_{kind}"], med[f"{tool}_{kind}"]
        print(f"| vs {names[tool]}, {kind} | {a[0]/b[0]:.3f} | {a[1]/b[1]:.3f} | {a[2]/b[2]:.3f} |")
PY
done
