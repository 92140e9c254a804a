#!/usr/bin/env python3
"""Generate a fleet of container images for bench/fleet.sh (no network).

Python 3 standard library only. Every file inside every image is a real, unmodified file of
this machine (/usr); only the archive framing is written here.

The fleet: four base images of realistic size, built from six distinct layers (one of them
shared by two bases, as a runtime image shares its distro's layer), and N application images,
each a base plus one small application layer of its own (a real program from /usr/bin as
/app/<name>, and a small config file). Every base carries the loader and libc its programs
need, so an honest image judges `ok`. A few application images (every 25th) are mislabelled:
their config says linux/arm64 while every binary is this machine's x86-64.

  base-alpine       1 layer,  ~8 MiB
  base-distroless   2 layers, ~4 + 10 MiB
  base-debian       1 layer,  ~30 MiB
  base-runtime      2 layers: base-debian's layer + ~30 MiB

Outputs, under WORK/fleet-N/ (bench/work is git-ignored):

  archives/app-NNNN.tar   one `docker save` archive per image, as Docker <= 24 writes it
                          (<v1id>/layer.tar uncompressed, manifest.json last) — only with
                          --archives (N archives repeat their base: ~30 MiB each)
  oci/                    one OCI image layout holding all N images (gzip layers, shared blobs,
                          one index.json entry per image, ref name app-NNNN)
  floor-legacy.tar        one `docker save` archive of ONE image listing every distinct layer
                          once (the floor for the archives: each distinct layer read once)
  floor-oci/              one OCI layout of ONE image listing every distinct gzip blob once
                          (the floor for the layout; blobs hard-linked from oci/)
  expected.json           per image: base, mislabelled or not

Usage: make-fleet.py --images N [--archives] [--work bench/work] [--scale 1.0]
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import random
import shutil
import stat
import subprocess
import sys
import tarfile

EPOCH = 1700000000
CREATED = "2023-11-14T22:13:20Z"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
SEED = 20231114
MIB = 1 << 20
MISLABEL_EVERY = 25


def gojson(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode()


def sha(b):
    return hashlib.sha256(b).hexdigest()


def host_libc_files():
    """The loader and libc at the paths this machine's programs name, with the merged-/usr
    symlinks (lib -> usr/lib, lib64 -> usr/lib64) as Debian has them."""
    out = []
    for p in ["/usr/lib/x86_64-linux-gnu/libc.so.6",
              "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
              "/usr/lib64/ld-linux-x86-64.so.2"]:
        if os.path.lexists(p):
            out.append(p)
    return out


def only_libc(path):
    """Does the program need nothing but libc (so every base can run it)?"""
    try:
        r = subprocess.run(["ldd", path], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    libs = [l.split()[0] for l in r.stdout.splitlines() if l.strip()]
    return r.returncode == 0 and libs and all(
        l.startswith(("linux-vdso", "libc.so", "/lib64/ld-linux")) for l in libs)


def candidates(roots):
    """Regular files and symlinks under roots, sorted (a stable pool to draw layers from)."""
    out = []
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for f in sorted(filenames):
                p = os.path.join(dirpath, f)
                try:
                    st = os.lstat(p)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode) and st.st_size <= 16 * MIB and os.access(p, os.R_OK):
                    out.append((p, st.st_size))
                elif stat.S_ISLNK(st.st_mode):
                    out.append((p, 0))
    return out


class Layer:
    """An uncompressed layer tar in memory, with its gzip blob made on demand."""

    def __init__(self, name, data):
        self.name = name
        self.tar = data
        self.diff_id = "sha256:" + sha(data)
        self._gz = None

    @property
    def gz(self):
        if self._gz is None:
            self._gz = gzip.compress(self.tar, compresslevel=6, mtime=0)
        return self._gz

    @property
    def gz_digest(self):
        return "sha256:" + sha(self.gz)


def tar_of(files, extra=()):
    """A layer of host files (path as in the image = path on the host) and extra
    (image path, bytes, mode) members; parents as directories, first."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        dirs = set()

        def parents(p):
            parts = p.strip("/").split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    ti = tarfile.TarInfo(d + "/")
                    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, EPOCH
                    t.addfile(ti)

        for link, target in [("lib", "usr/lib"), ("lib64", "usr/lib64")]:
            if any(f.startswith("/usr/" + link.split("/")[-1] + "/") for f in files):
                ti = tarfile.TarInfo(link)
                ti.type, ti.linkname, ti.mode, ti.mtime = tarfile.SYMTYPE, target, 0o777, EPOCH
                t.addfile(ti)
        for p in files:
            parents(p)
            st = os.lstat(p)
            ti = tarfile.TarInfo(p.strip("/"))
            ti.mtime = EPOCH
            ti.mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                ti.type, ti.linkname = tarfile.SYMTYPE, os.readlink(p)
                t.addfile(ti)
            else:
                ti.size = st.st_size
                with open(p, "rb") as f:
                    t.addfile(ti, f)
        for path, data, mode in extra:
            parents(path)
            ti = tarfile.TarInfo(path.strip("/"))
            ti.size, ti.mode, ti.mtime = len(data), mode, EPOCH
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def draw(pool, rng, target, taken):
    """Files from pool, not yet taken, adding up to about target bytes."""
    out, total = [], 0
    order = list(range(len(pool)))
    rng.shuffle(order)
    for i in order:
        p, size = pool[i]
        if p in taken:
            continue
        taken.add(p)
        out.append(p)
        total += size
        if total >= target:
            break
    return sorted(out)


def config_of(layers, arch, entrypoint, name):
    return gojson({
        "architecture": arch,
        "os": "linux",
        "created": CREATED,
        "config": {
            "Entrypoint": [entrypoint],
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Labels": {"org.example.app": name},
        },
        "rootfs": {"type": "layers", "diff_ids": [l.diff_id for l in layers]},
        "history": [{"created": CREATED, "created_by": "fleet: " + l.name} for l in layers],
    })


def add_bytes(t, name, data, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime = len(data), mode, EPOCH
    t.addfile(ti, io.BytesIO(data))


def write_legacy(path, images):
    """`docker save` (Docker <= 24) of images: [(tag, config bytes, [Layer])]."""
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as t:
        written = set()
        manifest = []
        for tag, config, layers in images:
            parent = ""
            names = []
            for l in layers:
                v1 = sha((parent + " " + l.diff_id).encode())
                parent = v1
                if v1 not in written:
                    written.add(v1)
                    ti = tarfile.TarInfo(v1 + "/")
                    ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, EPOCH
                    t.addfile(ti)
                    add_bytes(t, v1 + "/VERSION", b"1.0")
                    add_bytes(t, v1 + "/layer.tar", l.tar)
                names.append(v1 + "/layer.tar")
            cfg_name = sha(config) + ".json"
            if cfg_name not in written:
                written.add(cfg_name)
                add_bytes(t, cfg_name, config)
            manifest.append({"Config": cfg_name, "RepoTags": [tag], "Layers": names})
        add_bytes(t, "manifest.json", gojson(manifest))


def write_blob(root, data):
    d = sha(data)
    p = os.path.join(root, "blobs", "sha256", d)
    if not os.path.exists(p):
        with open(p, "wb") as f:
            f.write(data)
    return "sha256:" + d


def write_oci(root, images, link_from=None):
    """An OCI layout of images: [(ref name, config bytes, [Layer])], gzip layers. With
    link_from, layer blobs are hard links to that layout's."""
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(root, "oci-layout"), "wb") as f:
        f.write(b'{"imageLayoutVersion":"1.0.0"}')
    descs = []
    for ref, config, layers in images:
        ldescs = []
        for l in layers:
            hexd = l.gz_digest.split(":")[1]
            dst = os.path.join(root, "blobs", "sha256", hexd)
            if link_from and not os.path.exists(dst):
                os.link(os.path.join(link_from, "blobs", "sha256", hexd), dst)
            else:
                write_blob(root, l.gz)
            ldescs.append({"mediaType": MT_GZIP, "digest": l.gz_digest, "size": len(l.gz)})
        cdig = write_blob(root, config)
        manifest = gojson({
            "schemaVersion": 2,
            "mediaType": MT_OCI_MANIFEST,
            "config": {"mediaType": MT_OCI_CONFIG, "digest": cdig, "size": len(config)},
            "layers": ldescs,
        })
        mdig = write_blob(root, manifest)
        descs.append({"mediaType": MT_OCI_MANIFEST, "digest": mdig, "size": len(manifest),
                      "annotations": {"org.opencontainers.image.ref.name": ref}})
    with open(os.path.join(root, "index.json"), "wb") as f:
        f.write(gojson({"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": descs}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--images", type=int, default=100)
    ap.add_argument("--archives", action="store_true", help="also one docker-save per image")
    ap.add_argument("--work", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "work"))
    ap.add_argument("--scale", type=float, default=1.0, help="base sizes times this")
    a = ap.parse_args()

    rng = random.Random(SEED)
    out = os.path.join(a.work, "fleet-%d" % a.images)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)

    libc = host_libc_files()
    pool = [c for c in candidates(["/usr/lib/x86_64-linux-gnu", "/usr/share", "/usr/bin",
                                   "/usr/sbin", "/usr/libexec"])
            if c[0] not in libc and "/go" not in c[0]]  # no Go toolchain trees in a distro base
    taken = set(libc)
    programs = [p for p, _ in candidates(["/usr/bin"])
                if not os.path.islink(p) and os.path.getsize(p) < 512 * 1024][:400]
    programs = [p for p in programs if only_libc(p)][:40]
    if not programs:
        sys.exit("make-fleet: no program of /usr/bin needs only libc")

    def layer(name, mib, core=False):
        files = draw(pool, rng, int(mib * a.scale * MIB), taken)
        if core:
            files = sorted(set(files) | set(libc))
        return Layer(name, tar_of(files))

    debian = layer("debian", 30, core=True)
    bases = {
        "alpine": [layer("alpine", 8, core=True)],
        "distroless": [layer("distroless-1", 4, core=True), layer("distroless-2", 10)],
        "debian": [debian],
        "runtime": [debian, layer("runtime", 30)],
    }
    base_names = sorted(bases)

    images, expected = [], {}
    for i in range(a.images):
        name = "app-%04d" % i
        base = base_names[i % len(base_names)]
        prog = programs[i % len(programs)]
        with open(prog, "rb") as f:
            body = f.read()
        cfg = gojson({"app": name, "replicas": i % 7, "pad": "x" * (i % 512)})
        app = Layer(name, tar_of([], [("/app/" + name, body, 0o755),
                                      ("/etc/" + name + ".json", cfg, 0o644)]))
        layers = bases[base] + [app]
        mislabelled = i % MISLABEL_EVERY == MISLABEL_EVERY - 1
        arch = "arm64" if mislabelled else "amd64"
        config = config_of(layers, arch, "/app/" + name, name)
        images.append((name, config, layers))
        expected[name] = {"base": base, "mislabelled": mislabelled}

    if a.archives:
        os.makedirs(os.path.join(out, "archives"))
        for name, config, layers in images:
            write_legacy(os.path.join(out, "archives", name + ".tar"),
                         [(name + ":latest", config, layers)])
    write_oci(os.path.join(out, "oci"), images)

    # The floors: every distinct layer once, in one image.
    distinct, seen = [], set()
    for _, _, layers in images:
        for l in layers:
            if l.diff_id not in seen:
                seen.add(l.diff_id)
                distinct.append(l)
    floor_cfg = config_of(distinct, "amd64", "/app/app-0000", "floor")
    write_legacy(os.path.join(out, "floor-legacy.tar"), [("floor:latest", floor_cfg, distinct)])
    write_oci(os.path.join(out, "floor-oci"), [("floor", floor_cfg, distinct)],
              link_from=os.path.join(out, "oci"))

    expected["_distinct_layers"] = len(distinct)
    expected["_distinct_bytes"] = sum(len(l.tar) for l in distinct)
    expected["_mislabelled"] = sum(1 for k, v in expected.items()
                                   if not k.startswith("_") and v["mislabelled"])
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    print("fleet-%d: %d images, %d distinct layers (%.1f MiB uncompressed), %d mislabelled"
          % (a.images, a.images, len(distinct), expected["_distinct_bytes"] / MIB,
             expected["_mislabelled"]), file=sys.stderr)


if __name__ == "__main__":
    main()
