#!/usr/bin/env bash
# `archscan registry:REF` against a registry on this machine (issue 10's Speed section).
#
# Starts Debian's docker-registry on a free loopback port with its own storage under
# bench/work/registry, pushes a generated oci-archive (bench/make-images.py) into it with
# skopeo (blobs kept as they are), then measures, REPS times each (medians reported):
#
#   archscan   archscan --format json registry:REF
#   curl       every blob of the image downloaded in parallel to /dev/null (the network floor)
#   floor      the two-core decompression floor of those blobs: max(largest blob, all / 2),
#              from `gzip -dc` / `zstd -dc` of each blob file, as BENCHMARKS.md defines it
#   skopeo+archscan   skopeo copy docker://REF oci-archive:FILE, then archscan FILE
#
# and prints archscan / max(curl, floor) (goal <= 1.2) and archscan / (skopeo+archscan)
# (goal <= 0.5), with archscan's peak RSS (goal <= 128 MiB). A second table gives
# archscan's CPU time and the registry's during it: on these shared cores, their sum
# over two is the least wall time any schedule could reach.
#
# Usage: IMAGES='small-oci-gzip small-oci-zstd' REPS=3 bash bench/registry.sh
# Needs: docker-registry, skopeo, curl, python3, /usr/bin/time (scripts/install-test-deps.sh).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
WORK=${WORK:-$HERE/work}
IMG=$WORK/images
REPS=${REPS:-3}
IMAGES=${IMAGES:-"small-oci-gzip small-oci-zstd"}
ARCHSCAN=${ARCHSCAN:-$ROOT/target/release/archscan}
OUT=$WORK/registry-results.tsv

[ -x "$ARCHSCAN" ] || (cd "$ROOT" && cargo build --release --locked)
for t in docker-registry skopeo curl python3; do
    command -v "$t" > /dev/null || { echo "bench/registry.sh: $t is missing (scripts/install-test-deps.sh)" >&2; exit 2; }
done

REG=$WORK/registry
rm -rf "$REG"
mkdir -p "$REG"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
HOST=127.0.0.1:$PORT
cat > "$REG/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG/data
http:
  addr: $HOST
EOF
docker-registry serve "$REG/config.yml" > "$REG/log" 2>&1 &
REGPID=$!
trap 'kill $REGPID 2>/dev/null; rm -rf "$REG/copy"' EXIT
for _ in $(seq 100); do curl -fs "http://$HOST/v2/" > /dev/null && break; sleep 0.1; done

median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
# CPU seconds (user + system) the registry process has used so far.
registry_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$REGPID/stat"; }

printf 'image\twhat\trep\tseconds\tmax_rss_kib\tcpu_seconds\tregistry_cpu_seconds\n' > "$OUT"
{
    echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "host: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1)"
    echo "archscan: $("$ARCHSCAN" --version)"
    echo "registry: $(docker-registry --version)"
    echo "skopeo: $(skopeo --version)"
    echo "uptime at start: $(uptime)"
} | tee "$WORK/registry-run-info.txt" >&2

for name in $IMAGES; do
    f=$IMG/$name.tar
    [ -f "$f" ] || { echo "skip $name: no $f (python3 bench/make-images.py --only small|big)" >&2; continue; }
    repo=bench/$name:1
    skopeo copy --quiet --dest-tls-verify=false "oci-archive:$f" "docker://$HOST/$repo"
    # The blob files (same bytes as the registry's) and the blob URLs.
    blobs=$(python3 -c "import json; e=json.load(open('$IMG/expected.json'))['$name.tar']; print(' '.join('$WORK/'+p for p in e['blobs']))")
    comp=$(python3 -c "import json; print(json.load(open('$IMG/expected.json'))['$name.tar']['compression'])")
    manifest=$(curl -fs -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$HOST/v2/${repo%:*}/manifests/1")
    urls=$(python3 -c "
import json, sys
m = json.loads(sys.argv[1])
ds = [m['config']['digest']] + [l['digest'] for l in m['layers']]
print(' '.join('http://$HOST/v2/${repo%:*}/blobs/' + d for d in ds))" "$manifest")
    cat $blobs > /dev/null
    for r in $(seq "$REPS"); do
        # archscan registry:REF, with its peak RSS
        t0=$(now)
        c0=$(registry_cpu)
        /usr/bin/time -q -f '%M %U %S' -o "$REG/rss" "$ARCHSCAN" --format json "registry:$HOST/$repo" > "$REG/report.json" || true
        t1=$(now)
        c1=$(registry_cpu)
        read -r rss user sys < "$REG/rss"
        printf '%s\tarchscan\t%s\t%s\t%s\t%s\t%s\n' "$name" "$r" "$(elapsed "$t0" "$t1")" "$rss" \
            "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')" "$(elapsed "$c0" "$c1")" >> "$OUT"
        # every blob in parallel
        t0=$(now)
        pids=()
        for u in $urls; do curl -fs -o /dev/null "$u" & pids+=($!); done
        wait "${pids[@]}"
        t1=$(now)
        printf '%s\tcurl\t%s\t%s\t-\t-\t-\n' "$name" "$r" "$(elapsed "$t0" "$t1")" >> "$OUT"
        # the decompression of each blob, serially
        tool=$([ "$comp" = gzip ] && echo gzip || echo zstd)
        largest=0
        total=0
        for b in $blobs; do
            t0=$(now)
            $tool -dc "$b" > /dev/null
            t1=$(now)
            s=$(elapsed "$t0" "$t1")
            total=$(awk -v a="$total" -v b="$s" 'BEGIN { print a + b }')
            largest=$(awk -v a="$largest" -v b="$s" 'BEGIN { print (b > a) ? b : a }')
        done
        floor=$(awk -v l="$largest" -v t="$total" 'BEGIN { h = t / 2; printf "%.3f", (l > h) ? l : h }')
        printf '%s\tfloor\t%s\t%s\t-\t-\t-\n' "$name" "$r" "$floor" >> "$OUT"
        # skopeo copy to an oci-archive, then archscan of the file
        rm -rf "$REG/copy"
        mkdir -p "$REG/copy"
        t0=$(now)
        skopeo copy --quiet --src-tls-verify=false "docker://$HOST/$repo" "oci-archive:$REG/copy/image.tar" > /dev/null
        "$ARCHSCAN" --format json "$REG/copy/image.tar" > /dev/null || true
        t1=$(now)
        printf '%s\tskopeo+archscan\t%s\t%s\t-\t-\t-\n' "$name" "$r" "$(elapsed "$t0" "$t1")" >> "$OUT"
    done
    python3 - "$REG/report.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
# JSON schema 2: one document, the input's report in inputs[0].
r = r["inputs"][0] if "inputs" in r else r
imgs = r["images"]
print(f"  checked: {len(imgs)} image(s), verdicts {[i['verdict'] for i in imgs]}, errors {r['errors'] + [i['error'] for i in imgs if i['error']]}", file=sys.stderr)
EOF
done
echo "uptime at end: $(uptime)" >> "$WORK/registry-run-info.txt"

python3 - "$OUT" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = {}
for r in rows:
    by.setdefault((r["image"], r["what"]), []).append(r)
images = sorted({r["image"] for r in rows})
print("| image | archscan registry: | curl, all blobs in parallel | two-core decompression floor | skopeo copy + archscan FILE | archscan / max(curl, floor) (≤ 1.2) | archscan / (skopeo + archscan) (≤ 0.5) | peak RSS |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for img in images:
    med = lambda w: statistics.median(float(r["seconds"]) for r in by[(img, w)])
    a, c, f, s = med("archscan"), med("curl"), med("floor"), med("skopeo+archscan")
    rss = max(int(r["max_rss_kib"]) for r in by[(img, "archscan")]) / 1024
    print(f"| {img} | {a:.2f} s | {c:.2f} s | {f:.2f} s | {s:.2f} s | {a / max(c, f):.2f} | {a / s:.2f} | {rss:.0f} MiB |")
# Where the time of `archscan registry:` goes on these two cores: its own CPU
# and the registry's while it ran. Their sum over two cores is the least wall
# time the pair could take here, whatever the overlap.
print()
print("| image | archscan CPU | registry CPU meanwhile | (archscan + registry CPU) / 2 / max(curl, floor) | archscan CPU / 2 / max(curl, floor) |")
print("|---|---:|---:|---:|---:|")
for img in images:
    med = lambda w, k: statistics.median(float(r[k]) for r in by[(img, w)])
    c, f = med("curl", "seconds"), med("floor", "seconds")
    a, g = med("archscan", "cpu_seconds"), med("archscan", "registry_cpu_seconds")
    print(f"| {img} | {a:.2f} s | {g:.2f} s | {(a + g) / 2 / max(c, f):.2f} | {a / 2 / max(c, f):.2f} |")
EOF
