#!/usr/bin/env bash
# Measures archscan (release) on the hostile inputs: wall time and peak memory
# of each run, against the bar of 5 s (30 s for decompression bombs) and
# 256 MiB. The inputs (10 GiB bombs, a million entries, deep JSON, link chains,
# damaged headers, one layer listed 5,000 times, 4,000 images on one large
# layer…) are written by the ignored test `write_hostile_inputs` in
# tests/it/hostile/full_scale.rs, so the suite and this script build the same bytes.
# Then the inputs that change or are not regular files: a 4 GiB sparse image
# cut to 4 KiB while `--verify` hashes it through the map (by name and behind
# `-` on stdin: exit 2, "the input changed while it was read", never SIGBUS),
# and the million-entry archive through a FIFO and through /dev/stdin.
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
# The judge's cost caps (missing libraries x LD_LIBRARY_PATH, ld.so.conf
# includes, a PATH of symlinked directories): tests/it/hostile/costs.rs.
HOSTILE_OUT="$out" cargo test --quiet --test it hostile::costs::write_cost_inputs \
    -- --ignored --exact >/dev/null
# The decoder memory budget (four layers whose zstd decoders each fill a
# 128 MiB window): tests/it/hostile/decoders.rs.
HOSTILE_OUT="$out" cargo test --quiet --test it hostile::decoders::write_decoder_inputs \
    -- --ignored --exact >/dev/null
bin="$target/release/archscan"

printf '%-30s %5s %9s %9s %9s  %s\n' case exit wall_s rss_mib input_mib verdict
fail=0

# Prints one case's line from GNU time's report: NAME LIMIT_S CODE STATS
# INPUT [EXPECT], where EXPECT is text stderr ($errf) must hold.
report() {
    local name=$1 limit_s=$2 code=$3 stats=$4 input=$5 expect=${6:-}
    local wall secs rss_kib rss_mib size_mib verdict
    wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$stats")"
    secs="$(echo "$wall" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')"
    rss_kib="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$stats")"
    rss_mib="$(awk -v k="$rss_kib" 'BEGIN { printf "%.1f", k / 1024 }')"
    size_mib="$(awk -v b="$input" 'BEGIN { printf "%.1f", b / 1048576 }')"
    verdict="ok"
    if [[ $code -gt 2 ]]; then verdict="CRASH (exit $code)"; fail=1; fi
    if [[ -n $expect ]] && ! grep -qF "$expect" "$errf"; then
        verdict="WRONG (stderr lacks \"$expect\")"; fail=1
    fi
    if awk -v s="$secs" -v l="$limit_s" 'BEGIN { exit !(s > l) }'; then
        verdict="SLOW (> ${limit_s} s)"; fail=1
    fi
    if awk -v r="$rss_mib" 'BEGIN { exit !(r > 256) }'; then
        verdict="BIG (> 256 MiB)"; fail=1
    fi
    printf '%-30s %5s %9.2f %9s %9s  %s\n' "$name" "$code" "$secs" "$rss_mib" "$size_mib" "$verdict"
}

stats="$(mktemp)"
errf="$(mktemp)"
trap 'rm -f "$stats" "$errf"; cleanup' EXIT
for f in "$out"/*; do
    name="$(basename "$f")"
    limit_s=5
    [[ $name == bomb-* ]] && limit_s=30
    set +e
    /usr/bin/time -v -o "$stats" "$bin" "$f" --format json >/dev/null 2>"$errf"
    code=$?
    set -e
    report "$name" "$limit_s" "$code" "$stats" "$(stat -c %s "$f")"
done

# Inputs that change or are not regular files (see tests/it/hostile/changing.rs).
work="$(mktemp -d)"
trap 'rm -rf "$work"; rm -f "$stats" "$errf"; cleanup' EXIT

# Runs "$@" (archscan on $cut, --verify hashing its 4 GiB sparse layer) in the
# background, waits until archscan has the file mapped, cuts it to 4 KiB.
run_and_cut() {
    local tpid cpid i
    set +e
    "$@" <&0 &
    tpid=$!
    for i in $(seq 1 1000); do
        cpid="$(pgrep -P "$tpid" | head -n 1)"
        if [[ -n $cpid ]] && grep -qF "$cut" "/proc/$cpid/maps" 2>/dev/null; then
            break
        fi
        sleep 0.01
    done
    sleep 0.1
    truncate -s 4096 "$cut"
    wait "$tpid"
    code=$?
    set -e
}

sparse="$out/sparse-layer-4g.tar"
cut="$work/cut.tar"
cp --sparse=always "$sparse" "$cut"
run_and_cut /usr/bin/time -v -o "$stats" "$bin" "$cut" --verify --format json >/dev/null 2>"$errf"
report "cut-while-mapped" 5 "$code" "$stats" "$(stat -c %s "$sparse")" "the input changed while it was read"
cp --sparse=always "$sparse" "$cut"
run_and_cut /usr/bin/time -v -o "$stats" "$bin" - --verify --format json <"$cut" >/dev/null 2>"$errf"
report "cut-while-mapped-stdin" 5 "$code" "$stats" "$(stat -c %s "$sparse")" "the input changed while it was read"

# A FIFO and /dev/stdin from a pipe carrying the million-entry archive.
big="$out/entries-1m.tar"
mkfifo "$work/fifo"
cat "$big" >"$work/fifo" &
set +e
/usr/bin/time -v -o "$stats" "$bin" "$work/fifo" --format json >/dev/null 2>"$errf"
code=$?
set -e
wait
report "fifo-entries-1m" 5 "$code" "$stats" "$(stat -c %s "$big")"
set +e
cat "$big" | /usr/bin/time -v -o "$stats" "$bin" /dev/stdin --format json >/dev/null 2>"$errf"
code=${PIPESTATUS[1]}
set -e
report "dev-stdin-pipe-entries-1m" 5 "$code" "$stats" "$(stat -c %s "$big")"
exit $fail
