#!/usr/bin/env bash
# bench/ab.sh — two archscan builds on the same images, alternating run by run
# so that both see the same machine: REPS runs each, per image, medians of
# wall time, CPU time (user+sys) and peak RSS, and after/before ratios.
# For a refactor that must not change speed ("the ratios hold").
#
# Usage: BEFORE=/path/to/old/archscan AFTER=/path/to/new/archscan bash bench/ab.sh
#        (images from bench/make-images.py; IMAGES='a.tar b.tar' REPS=9 to narrow)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
A=${BEFORE:?BEFORE=path of the old archscan}
B=${AFTER:?AFTER=path of the new archscan}
IMG=$HERE/work/images
REPS=${REPS:-5}
out=$HERE/work/ab.tsv
: > "$out"
for img in ${IMAGES:-big-docker25.tar big-legacy.tar big-oci-gzip.tar big-oci-zstd.tar files300k-docker25.tar small-docker25.tar}; do
  cat "$IMG/$img" > /dev/null
  for r in $(seq "$REPS"); do
    for side in before after; do
      bin=$A; [ $side = after ] && bin=$B
      /usr/bin/time -f "%e %U %S %M" -o /tmp/ab-time.$$ "$bin" --format json "$IMG/$img" > /dev/null 2>/tmp/ab-err.$$ || true
      read -r wall user sys rss < <(tail -1 /tmp/ab-time.$$)
      echo -e "$img\t$side\t$wall\t$(echo "$user + $sys" | bc)\t$rss" >> "$out"
    done
  done
done
python3 - "$out" <<'PY'
import sys, statistics as st, collections
rows=[l.split('\t') for l in open(sys.argv[1]).read().split('\n') if l]
d=collections.defaultdict(lambda: collections.defaultdict(list))
for img,side,wall,cpu,rss in rows:
    d[img][side].append((float(wall),float(cpu),int(rss)))
print(f"{'image':28} {'wall before':>11} {'wall after':>10} {'ratio':>6} {'cpu before':>10} {'cpu after':>9} {'ratio':>6} {'rss before':>10} {'rss after':>9}")
for img in d:
    b=d[img]['before']; a=d[img]['after']
    m=lambda xs,i: st.median(x[i] for x in xs)
    print(f"{img:28} {m(b,0):11.3f} {m(a,0):10.3f} {m(a,0)/m(b,0):6.2f} {m(b,1):10.2f} {m(a,1):9.2f} {m(a,1)/m(b,1):6.2f} {m(b,2)//1024:8} MiB {m(a,2)//1024:7} MiB")
PY
