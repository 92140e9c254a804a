#!/usr/bin/env python3
"""Summarise bench/run.sh's raw figures: medians per (image, tool, mode), the ratios against
issue 5's targets, growth from the 256 MiB to the 1 GiB images, and the "every merged ELF
counted" check. Prints Markdown (pasted into BENCHMARKS.md) and writes it to WORK/report.md.

Usage: report.py [WORK_DIR]   (default: bench/work next to this script)
"""
import csv
import json
import os
import statistics
import sys

work = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "work")
rows = list(csv.DictReader(open(os.path.join(work, "results.tsv")), delimiter="\t"))
expected = json.load(open(os.path.join(work, "images", "expected.json")))

runs = {}
for r in rows:
    runs.setdefault((r["image"], r["tool"], r["mode"]), []).append(r)


def med(image, tool, mode, field="wall_s"):
    rs = runs.get((image, tool, mode))
    if not rs:
        return None
    if field == "cpu_s":
        return statistics.median(float(r["user_s"]) + float(r["sys_s"]) for r in rs)
    if field == "load":
        return statistics.median(float(r["load1"]) for r in rs)
    return statistics.median(float(r[field]) for r in rs)


def first_tool(image, tool):
    """The mode a tool was measured in for an image (first seen)."""
    for (i, t, m) in runs:
        if i == image and t == tool:
            return m
    return None


images = []
for r in rows:
    if r["image"] not in images:
        images.append(r["image"])

out = []
p = out.append
p("### Figures (median of %s runs each)\n" % max(len(v) for v in runs.values()))
p("| image | command | mode | wall s | user+sys s | peak RSS MiB | load (1 min) |")
p("|---|---|---|---:|---:|---:|---:|")
for image in images:
    for (i, tool, mode) in runs:
        if i != image:
            continue
        p("| %s | %s | %s | %.2f | %.2f | %.0f | %.2f |" % (
            image, tool, mode, med(i, tool, mode), med(i, tool, mode, "cpu_s"),
            med(i, tool, mode, "maxrss_kb") / 1024, med(i, tool, mode, "load")))

p("\n### Targets (archscan in default mode: layer digests checked where decoded)\n")
p("| image | target | measured | met |")
p("|---|---|---|---|")


def check(image, what, value, limit, higher_is_better=False, fmt="%.2f"):
    if value is None:
        return
    ok = value >= limit if higher_is_better else value <= limit
    p("| %s | %s %s %s | %s | %s |" % (image, what, "≥" if higher_is_better else "≤", fmt % limit,
                                       fmt % value, "yes" if ok else "**no**"))


for image in images:
    a = med(image, "archscan", "default")
    if a is None:
        continue
    comp = expected.get(image + ".tar", {}).get("compression", "none")
    if image.startswith("files300k"):
        t = med(image, "tar -tvf", "serial")
        if t:
            check(image, "archscan / `tar -tvf` of the layers", a / t, 0.5)
    elif comp == "none":
        c = med(image, "cat", "-")
        if c:
            check(image, "archscan / `cat`", a / c, 0.5)
    else:
        tool = "gzip -dc" if comp == "gzip" else "zstd -dc"
        serial, largest = med(image, tool, "serial"), med(image, tool, "largest")
        if serial and largest:
            floor = max(largest, serial / 2)
            limit = 0.8 if comp == "gzip" else 1.1
            check(image, "archscan / two-core `%s` floor (%.2f s)" % (tool, floor), a / floor, limit)
            # The floor assumes two free cores; when another process holds one, archscan's
            # wall is its CPU time. What two free cores give, estimated from CPU time:
            cpu = med(image, "archscan", "default", "cpu_s")
            p("| %s | (info) cores archscan got: (user+sys)/wall = %.2f; on 2 free cores, est. "
              "(user+sys)/2 / floor = %.2f | - | - |" % (image, cpu / a, cpu / 2 / floor))
    need = 5 if comp != "none" else 10
    for peer in ("syft", "dive"):
        w = med(image, peer, "-")
        if w:
            check(image, "%s / archscan (speed-up)" % peer, w / a, need, higher_is_better=True,
                  fmt="%.1f")
    if image.startswith("big") or image.startswith("files300k"):
        check(image, "peak RSS MiB", med(image, "archscan", "default", "maxrss_kb") / 1024, 128,
              fmt="%.0f")
    s = med(image, "archscan-stdin", "default")
    if s:
        p("| %s | (info) `cat FILE \\| archscan -` wall | %.2f s | - |" % (image, s))

p("\n### Growth from the 256 MiB to the 1 GiB images (archscan, default mode)\n")
p("| shape | size ratio | wall small → big | wall ratio | RSS MiB small → big | RSS growth | met (≤ 10%) |")
p("|---|---:|---|---:|---|---:|---|")
for shape in ("docker25", "legacy", "oci-gzip", "oci-zstd"):
    s, b = "small-" + shape, "big-" + shape
    if med(s, "archscan", "default") is None or med(b, "archscan", "default") is None:
        continue
    size = os.path.getsize(os.path.join(work, "images", b + ".tar")) / os.path.getsize(
        os.path.join(work, "images", s + ".tar"))
    ws, wb = med(s, "archscan", "default"), med(b, "archscan", "default")
    rs, rb = med(s, "archscan", "default", "maxrss_kb") / 1024, med(b, "archscan", "default", "maxrss_kb") / 1024
    g = rb / rs - 1
    p("| %s | %.1f× | %.2f → %.2f s | %.1f× | %.0f → %.0f | %+.0f%% | %s |" % (
        shape, size, ws, wb, wb / ws, rs, rb, 100 * g, "yes" if g <= 0.10 else "**no**"))

p("\n### Every merged ELF counted\n")
p("| image | ELF files in the merged view (generator, by magic) | archscan `platforms` linux/* total | archscan `binaries` (elf) | met |")
p("|---|---:|---:|---:|---|")
for image in images:
    jpath = os.path.join(work, "json", image + ".json")
    exp = expected.get(image + ".tar")
    if not exp or not os.path.exists(jpath):
        continue
    rep = json.load(open(jpath))
    # JSON schema 2: the one input's report is under inputs[0].
    rep = (rep.get("inputs") or [{}])[0] if "inputs" in rep else rep
    imgs = rep.get("images") or [{}]
    plat = sum(v for k, v in imgs[0].get("platforms", {}).items() if k.startswith("linux/"))
    elf = sum(1 for b in imgs[0].get("binaries", []) if b.get("format") == "elf")
    ok = plat == exp["merged_elf"] == elf
    p("| %s | %d | %d | %d | %s |" % (image, exp["merged_elf"], plat, elf, "yes" if ok else "**no**"))

text = "\n".join(out) + "\n"
info = os.path.join(work, "run-info.txt")
if os.path.exists(info):
    text = "```\n" + open(info).read() + "```\n\n" + text
open(os.path.join(work, "report.md"), "w").write(text)
print(text)
