#!/usr/bin/env bash
# Measures archscan (release) on the hostile inputs: wall time and peak memory
# of each run, against the bar of 5 s (30 s for decompression bombs) and
# 256 MiB. The inputs (10 GiB bombs, a million entries, deep JSON, link chains,
# damaged headers, one layer listed 5,000 times, 4,000 images on one large
# layer…) are written by the ignored test `write_hostile_inputs` in
# tests/it/hostile/full_scale.rs, so the suite and this script build the same bytes.
#
# Usage: scripts/hostile-measure.sh [OUTDIR]   (default: a fresh temp dir,
# removed afterwards). Needs /usr/bin/time (GNU time: apt-get install time).
set -euo pipefail

cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
keep=1
out="${1:-}"
if [[ -z "$out" ]]; then
    out="$(mktemp -d)"
    keep=0
fi
cleanup() { if [[ $keep == 0 ]]; then rm -rf "$out"; fi; }
trap cleanup EXIT

if [[ ! -x /usr/bin/time ]]; then
    echo "hostile-measure: /usr/bin/time is missing (apt-get install time)" >&2
    exit 2
fi

cargo build --release --quiet
# The inputs are written by the debug test binary (its builders are cheap).
HOSTILE_OUT="$out" cargo test --quiet --test it hostile::full_scale::write_hostile_inputs \
    -- --ignored --exact >/dev/null
bin="$target/release/archscan"

printf '%-30s %5s %9s %9s %9s  %s\n' case exit wall_s rss_mib input_mib verdict
fail=0
for f in "$out"/*; do
    name="$(basename "$f")"
    limit_s=5
    [[ $name == bomb-* ]] && limit_s=30
    stats="$(mktemp)"
    set +e
    /usr/bin/time -v -o "$stats" "$bin" "$f" --format json >/dev/null 2>&1
    code=$?
    set -e
    wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$stats")"
    secs="$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')"
    rss_kib="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$stats")"
    rm -f "$stats"
    rss_mib="$(awk -v k="$rss_kib" 'BEGIN { printf "%.1f", k / 1024 }')"
    size_mib="$(awk -v b="$(stat -c %s "$f")" 'BEGIN { printf "%.1f", b / 1048576 }')"
    verdict="ok"
    if [[ $code -gt 2 ]]; then verdict="CRASH (exit $code)"; fail=1; fi
    if awk -v s="$secs" -v l="$limit_s" 'BEGIN { exit !(s > l) }'; then
        verdict="SLOW (> ${limit_s} s)"; fail=1
    fi
    if awk -v r="$rss_mib" 'BEGIN { exit !(r > 256) }'; then
        verdict="BIG (> 256 MiB)"; fail=1
    fi
    printf '%-30s %5s %9.2f %9s %9s  %s\n' "$name" "$code" "$secs" "$rss_mib" "$size_mib" "$verdict"
done
exit $fail
