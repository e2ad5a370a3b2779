#!/usr/bin/env bash
# Runs every fuzz target for RUNS executions (default 1,000,000) on one core,
# starting from fuzz/seeds and the project's own fixtures, and prints each
# target's count.
# Built with debug assertions and without a sanitizer (the code is safe
# Rust; the assertions catch overflow). Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz`).
set -euo pipefail
cd "$(dirname "$0")"
runs="${1:-1000000}"
targets="${TARGETS:-feed extract analyze config render}"
cargo +nightly fuzz build -O -a -s none
for t in $targets; do
    mkdir -p "corpus/$t"
    log="artifacts/$t.log"
    mkdir -p artifacts
    start=$(date +%s)
    # seeds: a few inputs of its own and the project's fixtures
    case $t in
        feed) seeds=(seeds/feed ../config/demo/feeds) ;;
        extract) seeds=(../config/demo/pages ../tests/fixtures/dev) ;;
        analyze) seeds=(../seeds ../tests/fixtures/dev ../tests/fixtures/fuzz/analyze) ;;
        config) seeds=(../config) ;;
        *) seeds=("seeds/$t") ;;
    esac
    cargo +nightly fuzz run -O -a -s none "$t" "corpus/$t" "${seeds[@]}" -- \
        -runs="$runs" -max_len=16384 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1 || { echo "$t: FAILED, see fuzz/$log"; tail -30 "$log"; exit 1; }
    secs=$(( $(date +%s) - start ))
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    peak=$(grep -o 'stat::peak_rss_mb: *[0-9]*' "$log" | grep -o '[0-9]*$')
    echo "$t: $execs executions in ${secs}s, no crash, peak RSS ${peak} MB"
done
