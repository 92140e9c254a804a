#!/usr/bin/env python3
"""Generate archscan's benchmark images from real files on this machine (no network).

Python 3 standard library plus the `gzip` and `zstd` command-line tools. Every file inside
every image is a real, unmodified file from /usr, the Rust toolchain (~/.rustup), and for the
small-files image also ~/.cargo and ~/.pyenv; only the archive framing is written here,
following the same writers' layouts as fixtures/assemble.py.

Images (under bench/work/images/, which git ignores):

  big-docker25.tar      ~1 GiB, 8 uneven layers, `docker save` of Docker 25+ (OCI layout +
                        manifest.json, uncompressed layers named by diff ID)
  big-legacy.tar        the same layers as `docker save` of Docker <= 24 (<v1id>/layer.tar,
                        manifest.json written last)
  big-oci-gzip.tar      the same layers, gzip -6 (what Go's compress/gzip default gives, within
                        a few percent), as an oci-archive (skopeo/buildah layout)
  big-oci-zstd.tar      the same layers, zstd -3 (BuildKit's default level), oci-archive
  small-*.tar           the same four shapes from ~256 MiB of files chosen the same way
  files300k-docker25.tar  300,000 small files (< 32 KiB each) in 8 layers, uncompressed

The layers are realistic: directory entries for every parent, symlinks and hardlinks as they
are on disk, and the top layer removes files of lower layers (whiteouts, an opaque directory,
files replaced by non-ELF content), so the merged view differs from the union of the layers.

For every image, bench/work/images/expected.json records how many regular files of the
merged view start with the ELF magic (hardlinks count per path, as each is a path that can be
exec'd), so the benchmark can check that archscan counted every merged ELF.

Usage: make-images.py [--work bench/work] [--only big,small,files300k]
"""
import argparse
import hashlib
import json
import os
import random
import stat
import subprocess
import sys
import tarfile
import time

EPOCH = 1700000000
CREATED = "2023-11-14T22:13:20Z"
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_LAYER = {
    "none": "application/vnd.oci.image.layer.v1.tar",
    "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
    "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
}
# Shares of the image each of the 8 layers gets: uneven, as real images are (a base, a big
# toolchain layer, then smaller application layers).
WEIGHTS = [0.30, 0.22, 0.15, 0.11, 0.08, 0.06, 0.05, 0.03]
ELF_MAGIC = b"\x7fELF"
RUSTUP = os.path.expanduser("~/.rustup")
SEED = 20231114


def gojson(v):
    s = json.dumps(v, separators=(",", ":"), ensure_ascii=False)
    return s.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").encode()


def sha_bytes(b):
    return hashlib.sha256(b).hexdigest()


def sha_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 20)
            if not chunk:
                break
            h.update(chunk)
    return h.hexdigest()


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------
# Choosing files
# ------------------------------------------------------------------------------------------
def image_name(host_path):
    """Where a host file lives in the image: /usr as is, rustup where the official rust
    image puts RUSTUP_HOME, ~/.cargo and ~/.pyenv under /opt."""
    home = os.path.expanduser("~")
    if host_path.startswith(RUSTUP + "/"):
        return "usr/local/rustup/" + host_path[len(RUSTUP) + 1:]
    if host_path.startswith(home + "/"):
        return "opt/" + host_path[len(home) + 1:].lstrip(".")
    return host_path.lstrip("/")


def scan_tree(roots, max_size=None):
    """Every regular file and symlink under roots, grouped by parent directory:
    {dir: [(host_path, size, kind)]}, kind 'f' or 'l'."""
    groups = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for fn in sorted(filenames + [d for d in dirnames
                                          if os.path.islink(os.path.join(dirpath, d))]):
                full = os.path.join(dirpath, fn)
                try:
                    st = os.lstat(full)
                except OSError:
                    continue
                if stat.S_ISLNK(st.st_mode):
                    groups.setdefault(dirpath, []).append((full, 0, "l"))
                elif stat.S_ISREG(st.st_mode):
                    if max_size is not None and st.st_size >= max_size:
                        continue
                    if not os.access(full, os.R_OK):
                        continue
                    groups.setdefault(dirpath, []).append((full, st.st_size, "f"))
    return groups


def plan_layers(groups, total_bytes=None, total_files=None, streams=None):
    """Split files into 8 layers by WEIGHTS of bytes (or of files).

    Without `streams`, the directories are shuffled and dealt out in order. With `streams`
    (a list of directory-prefix lists, and per layer which stream it draws from), each layer
    takes the next files of its stream, so that layers look like a real image's: a base OS,
    a toolchain, libraries, then assorted application files."""
    budget = [w * (total_bytes if total_bytes else total_files) for w in WEIGHTS]
    dirs = sorted(groups)
    random.Random(SEED).shuffle(dirs)
    if streams is None:
        prefixes, order = [[""]], [0] * len(WEIGHTS)
    else:
        prefixes, order = streams
    claimed = set()
    stream_dirs = []
    for pre in prefixes:
        mine = []
        for p in pre:
            for d in sorted(groups) if p else dirs:
                if d not in claimed and (not p or d == p or d.startswith(p + "/")):
                    claimed.add(d)
                    mine.append(d)
        stream_dirs.append(iter([item for d in mine for item in groups[d]]))
    rest = iter([item for d in dirs if d not in claimed for item in groups[d]])
    layers = []
    for li, want in enumerate(budget):
        items = []
        acc = 0
        while acc < want:
            item = next(stream_dirs[order[li]], None) or next(rest, None)
            if item is None:
                break
            if total_bytes and items and acc + item[1] > want * 1.1:
                continue  # a file that would overshoot this layer's share is left out
            items.append(item)
            acc += item[1] if total_bytes else (item[2] == "f")
        layers.append(items)
    return layers


# ------------------------------------------------------------------------------------------
# Writing a layer
# ------------------------------------------------------------------------------------------
class LayerWriter:
    """Writes one layer tar from host files (sorted, parent directories first), recording
    what the merged-view ELF count needs."""

    def __init__(self, path):
        self.path = path
        self.tar = tarfile.open(path, "w", format=tarfile.PAX_FORMAT)
        self.dirs = set()
        self.elf_by_inode = {}
        # image path -> ("f", is_elf) | ("l", None) | ("d", None) | ("wh", None) | ("opq", None)
        self.entries = []

    def _norm(self, ti):
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = "root"
        ti.mtime = EPOCH
        return ti

    def _dir(self, name):
        if not name or name in self.dirs:
            return
        self._dir(os.path.dirname(name))
        ti = self._norm(tarfile.TarInfo(name + "/"))
        ti.type = tarfile.DIRTYPE
        ti.mode = 0o755
        self.tar.addfile(ti)
        self.dirs.add(name)
        self.entries.append((name, "d", None))

    def add_host(self, host_path, name=None):
        name = name or image_name(host_path)
        self._dir(os.path.dirname(name))
        try:
            ti = self.tar.gettarinfo(host_path, arcname=name)
        except OSError:
            return
        self._norm(ti)
        if ti.issym():
            self.tar.addfile(ti)
            self.entries.append((name, "l", None))
        elif ti.islnk():
            self.tar.addfile(ti)
            target = ti.linkname
            self.entries.append((name, "h", target))
        elif ti.isreg():
            try:
                with open(host_path, "rb") as f:
                    head = f.read(4)
                    f.seek(0)
                    self.tar.addfile(ti, f)
            except OSError:
                return
            self.entries.append((name, "f", head == ELF_MAGIC))

    def add_bytes(self, name, data, mode=0o644):
        self._dir(os.path.dirname(name))
        ti = self._norm(tarfile.TarInfo(name))
        ti.size = len(data)
        ti.mode = mode
        import io
        self.tar.addfile(ti, io.BytesIO(data))
        self.entries.append((name, "f", data[:4] == ELF_MAGIC))

    def whiteout(self, name):
        d, base = os.path.split(name)
        self._dir(d)
        ti = self._norm(tarfile.TarInfo(os.path.join(d, ".wh." + base)))
        ti.mode = 0o644
        self.tar.addfile(ti)
        self.entries.append((name, "wh", None))

    def opaque(self, dirname):
        self._dir(dirname)
        ti = self._norm(tarfile.TarInfo(dirname + "/.wh..wh..opq"))
        ti.mode = 0o644
        self.tar.addfile(ti)
        self.entries.append((dirname, "opq", None))

    def close(self):
        self.tar.close()


def merged_elf_count(layer_entries):
    """Applies the layers as a snapshotter does (opaque dirs, then whiteouts, then the
    layer's entries; a non-directory replacing a directory hides what was under it) and
    counts merged paths whose content starts with the ELF magic."""
    view = {}  # path -> True/False (file content is ELF), "dir", or "other"

    def remove_below(prefix):
        p = prefix.rstrip("/") + "/"
        for k in [k for k in view if k.startswith(p)]:
            del view[k]

    for entries in layer_entries:
        for name, kind, _ in entries:
            if kind == "opq":
                remove_below(name)
        for name, kind, _ in entries:
            if kind == "wh":
                view.pop(name, None)
                remove_below(name)
        for name, kind, extra in entries:
            if kind in ("wh", "opq"):
                continue
            if kind != "d" and view.get(name) == "dir":
                remove_below(name)
            if kind == "f":
                view[name] = extra
            elif kind == "h":
                view[name] = view.get(extra.strip("/")) is True
            elif kind == "d":
                view[name] = "dir"
            else:
                view[name] = "other"
    return sum(1 for v in view.values() if v is True)


def write_layers(work, tag, layers, removals=True):
    """Writes the 8 layer tars; the top layer also deletes and replaces lower files."""
    os.makedirs(os.path.join(work, "layers"), exist_ok=True)
    paths = []
    all_entries = []
    for i, items in enumerate(layers):
        p = os.path.join(work, "layers", f"{tag}-{i}.tar")
        w = LayerWriter(p)
        if i == 0:
            # The merged-/usr root links of a Debian base (/bin, /lib, /lib64, /sbin).
            for top in ("/bin", "/lib", "/lib64", "/sbin"):
                if os.path.islink(top):
                    w.add_host(top)
        for host, _size, _kind in sorted(items, key=lambda t: image_name(t[0])):
            w.add_host(host)
        if removals and i == len(layers) - 1:
            # What `RUN apt-get purge …`, `rm -rf` and `COPY` over a file leave in a top
            # layer: whiteouts of lower files (ELF and not), an opaque directory, and lower
            # ELF paths replaced by text files.
            rng = random.Random(SEED + i)
            lower = [(n, k, e) for ents in all_entries for (n, k, e) in ents if k == "f"]
            lower_elf = [n for n, _, e in lower if e]
            lower_other = [n for n, _, e in lower if not e]
            elf_victims = rng.sample(lower_elf, min(50, len(lower_elf)))
            gone = elf_victims[:35] + rng.sample(lower_other, min(25, len(lower_other)))
            for n in sorted(set(gone)):
                w.whiteout(n)
            for n in sorted(set(elf_victims[35:]) - set(gone)):
                w.add_bytes(n, b"# replaced by the top layer\n")
            # An opaque directory: the lower directory holding the most ELF files of
            # layer 1 is emptied and refilled with one script.
            counts = {}
            for n, k, e in all_entries[1]:
                if k == "f" and e:
                    counts[os.path.dirname(n)] = counts.get(os.path.dirname(n), 0) + 1
            if counts:
                d = max(sorted(counts), key=lambda k: counts[k])
                w.opaque(d)
                w.add_bytes(d + "/run.sh", b"#!/bin/sh\nexec true\n", 0o755)
        w.close()
        paths.append(p)
        all_entries.append(w.entries)
        log(f"  layer {tag}-{i}: {os.path.getsize(p) >> 20} MiB, {len(w.entries)} entries")
    return paths, merged_elf_count(all_entries), sum(len(e) for e in all_entries)


# ------------------------------------------------------------------------------------------
# Archive shapes
# ------------------------------------------------------------------------------------------
def config_for(diff_ids, arch="amd64"):
    return gojson({
        "architecture": arch,
        "created": CREATED,
        "history": [{"created": CREATED, "created_by": f"COPY layer{i} / # buildkit"}
                    for i in range(len(diff_ids))],
        "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + d for d in diff_ids]},
        "config": {"Env": [PATH_ENV], "Entrypoint": ["/usr/bin/bash"], "WorkingDir": "/"},
    })


def chain_ids(diff_ids):
    out = []
    for d in diff_ids:
        out.append(d if not out else sha_bytes(f"sha256:{out[-1]} sha256:{d}".encode()))
    return out


def write_outer(path, members):
    """members: (name, bytes | host file path | None for a directory, mode, mtime)."""
    import io
    tmp = path + ".part"
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as t:
        for name, data, mode, mtime in members:
            ti = tarfile.TarInfo(name)
            ti.mode, ti.mtime, ti.uid, ti.gid = mode, mtime, 0, 0
            ti.uname = ti.gname = "root"
            if data is None:
                ti.type = tarfile.DIRTYPE
                t.addfile(ti)
            elif isinstance(data, bytes):
                ti.size = len(data)
                t.addfile(ti, io.BytesIO(data))
            else:
                ti.size = os.path.getsize(data)
                with open(data, "rb") as f:
                    t.addfile(ti, f)
    os.replace(tmp, path)
    log(f"  wrote {os.path.basename(path)} ({os.path.getsize(path) >> 20} MiB)")


def docker25(out, layer_files, diff_ids, repo):
    cfg = config_for(diff_ids)
    cfg_hex = sha_bytes(cfg)
    blobs = {cfg_hex: (cfg, EPOCH)}
    chains = chain_ids(diff_ids)
    parent = ""
    for i, d in enumerate(diff_ids):
        idsrc = {"created": "1970-01-01T00:00:00Z", "layer_id": "sha256:" + chains[i]}
        if parent:
            idsrc["parent"] = "sha256:" + parent
        v1id = sha_bytes(gojson(dict(sorted(idsrc.items()))))
        legacy = {"id": v1id}
        if parent:
            legacy["parent"] = parent
        legacy.update({"created": "1970-01-01T00:00:00Z", "os": "linux"})
        blobs[sha_bytes(gojson(legacy))] = (gojson(legacy), EPOCH)
        blobs[d] = (layer_files[i], EPOCH)
        parent = v1id
    platform = {"architecture": "amd64", "os": "linux"}
    manifest = gojson({
        "schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
        "config": {"mediaType": MT_OCI_CONFIG, "digest": "sha256:" + cfg_hex,
                   "size": len(cfg), "platform": platform},
        "layers": [{"mediaType": MT_LAYER["none"], "digest": "sha256:" + d,
                    "size": os.path.getsize(f)} for d, f in zip(diff_ids, layer_files)],
    })
    blobs[sha_bytes(manifest)] = (manifest, 0)
    index = gojson({"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": [{
        "mediaType": MT_OCI_MANIFEST, "digest": "sha256:" + sha_bytes(manifest),
        "size": len(manifest),
        "annotations": {"io.containerd.image.name": f"docker.io/{repo}:latest",
                        "org.opencontainers.image.ref.name": "latest"},
        "platform": platform}]})
    mjson = [{
        "Config": "blobs/sha256/" + cfg_hex, "RepoTags": [f"{repo}:latest"],
        "Layers": ["blobs/sha256/" + d for d in diff_ids],
        "LayerSources": {"sha256:" + d: {"mediaType": MT_LAYER["none"],
                                         "size": os.path.getsize(f), "digest": "sha256:" + d}
                         for d, f in sorted(zip(diff_ids, layer_files))},
    }]
    members = [("blobs/", None, 0o755, 0), ("blobs/sha256/", None, 0o755, 0)]
    for h in sorted(blobs):
        data, mt = blobs[h]
        members.append(("blobs/sha256/" + h, data, 0o644, mt))
    members += [
        ("index.json", index, 0o644, EPOCH),
        ("manifest.json", gojson(mjson) + b"\n", 0o644, 0),
        ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}', 0o644, 0),
        ("repositories", gojson({repo: {"latest": diff_ids[-1]}}) + b"\n", 0o644, 0),
    ]
    write_outer(out, members)


def legacy(out, layer_files, diff_ids, repo):
    cfg = config_for(diff_ids)
    cfg_hex = sha_bytes(cfg)
    chains = chain_ids(diff_ids)
    members = {}
    parent = ""
    v1ids = []
    for i, f in enumerate(layer_files):
        idsrc = {"created": "1970-01-01T00:00:00Z", "layer_id": "sha256:" + chains[i]}
        if parent:
            idsrc["parent"] = "sha256:" + parent
        v1id = sha_bytes(gojson(dict(sorted(idsrc.items()))))
        meta = {"id": v1id}
        if parent:
            meta["parent"] = parent
        meta.update({"created": "1970-01-01T00:00:00Z", "os": "linux"})
        members[v1id + "/"] = (None, 0o755, EPOCH)
        members[v1id + "/VERSION"] = (b"1.0", 0o644, EPOCH)
        members[v1id + "/json"] = (gojson(meta), 0o644, EPOCH)
        members[v1id + "/layer.tar"] = (f, 0o644, EPOCH)
        v1ids.append(v1id)
        parent = v1id
    members[cfg_hex + ".json"] = (cfg, 0o644, EPOCH)
    manifest = [{"Config": cfg_hex + ".json", "RepoTags": [f"{repo}:latest"],
                 "Layers": [i + "/layer.tar" for i in v1ids]}]
    # moby writes manifest.json and repositories last (lexical order of the temp dir).
    members["manifest.json"] = (gojson(manifest) + b"\n", 0o644, 0)
    members["repositories"] = (gojson({repo: {"latest": v1ids[-1]}}) + b"\n", 0o644, 0)
    write_outer(out, [(n, d, m, t) for n, (d, m, t) in sorted(members.items())])


def oci_archive(out, blob_files, diff_ids, compression):
    cfg = config_for(diff_ids)
    blob_hex = [sha_file(f) for f in blob_files]
    manifest = gojson({
        "schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
        "config": {"mediaType": MT_OCI_CONFIG, "digest": "sha256:" + sha_bytes(cfg),
                   "size": len(cfg)},
        "layers": [{"mediaType": MT_LAYER[compression], "digest": "sha256:" + h,
                    "size": os.path.getsize(f)} for h, f in zip(blob_hex, blob_files)],
    })
    blobs = {sha_bytes(cfg): cfg, sha_bytes(manifest): manifest}
    blobs.update(zip(blob_hex, blob_files))
    index = gojson({"schemaVersion": 2, "manifests": [{
        "mediaType": MT_OCI_MANIFEST, "digest": "sha256:" + sha_bytes(manifest),
        "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]})
    members = [("blobs/", None, 0o755, EPOCH), ("blobs/sha256/", None, 0o755, EPOCH)]
    members += [("blobs/sha256/" + h, blobs[h], 0o644, EPOCH) for h in sorted(blobs)]
    members += [("index.json", index, 0o644, EPOCH),
                ("oci-layout", b'{"imageLayoutVersion": "1.0.0"}', 0o644, EPOCH)]
    write_outer(out, members)


def compress(files, tool):
    out = []
    for f in files:
        dst = f + (".gz" if tool == "gzip" else ".zst")
        if not os.path.exists(dst) or os.path.getmtime(dst) < os.path.getmtime(f):
            cmd = ["gzip", "-6", "-n", "-c", f] if tool == "gzip" else ["zstd", "-3", "-q", "-c", f]
            with open(dst + ".part", "wb") as o:
                subprocess.run(cmd, stdout=o, check=True)
            os.replace(dst + ".part", dst)
        out.append(dst)
    return out


def build_set(work, tag, layers, shapes, expected):
    log(f"{tag}: writing layers")
    files, elf, entries = write_layers(work, tag, layers)
    diff_ids = [sha_file(f) for f in files]
    img = os.path.join(work, "images")
    os.makedirs(img, exist_ok=True)
    sizes = [os.path.getsize(f) for f in files]
    info = {"merged_elf": elf, "layer_entries": entries, "layer_bytes": sizes}
    if "docker25" in shapes:
        docker25(os.path.join(img, f"{tag}-docker25.tar"), files, diff_ids, f"bench/{tag}")
        expected[f"{tag}-docker25.tar"] = dict(info, shape="docker25", compression="none")
    if "legacy" in shapes:
        legacy(os.path.join(img, f"{tag}-legacy.tar"), files, diff_ids, f"bench/{tag}")
        expected[f"{tag}-legacy.tar"] = dict(info, shape="legacy", compression="none")
    for comp in ("gzip", "zstd"):
        if f"oci-{comp}" in shapes:
            log(f"{tag}: {comp} layers")
            blobs = compress(files, comp)
            oci_archive(os.path.join(img, f"{tag}-oci-{comp}.tar"), blobs, diff_ids, comp)
            expected[f"{tag}-oci-{comp}.tar"] = dict(
                info, shape="oci-archive", compression=comp,
                blob_bytes=[os.path.getsize(b) for b in blobs],
                blobs=[os.path.relpath(b, work) for b in blobs])
    for name in list(expected):
        if name.startswith(tag + "-"):
            expected[name]["layers"] = [os.path.relpath(f, work) for f in files]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "work"))
    ap.add_argument("--only", default="big,small,files300k")
    args = ap.parse_args()
    work = args.work
    os.makedirs(work, exist_ok=True)
    exp_path = os.path.join(work, "images", "expected.json")
    expected = {}
    if os.path.exists(exp_path):
        with open(exp_path) as f:
            expected = json.load(f)
    only = args.only.split(",")
    shapes = ["docker25", "legacy", "oci-gzip", "oci-zstd"]
    toolchain = os.path.join(RUSTUP, "toolchains", "stable-x86_64-unknown-linux-gnu")
    if not os.path.isdir(toolchain):
        toolchain = RUSTUP
    if "big" in only or "small" in only:
        log("scanning /usr and the Rust toolchain")
        groups = scan_tree(["/usr", toolchain])
        # Base OS (programs and shared libraries), the Rust toolchain, and the rest of /usr
        # shuffled; layer i draws from stream order[i].
        base = ["/usr/lib64", "/usr/bin", "/usr/sbin", "/usr/lib/x86_64-linux-gnu", "/usr/libexec",
                "/usr/lib/gcc", "/usr/lib/python3", "/usr/lib/python3.11"]
        rust = [toolchain + "/bin", toolchain + "/lib", toolchain + "/libexec"]
        streams = ([base, rust, [""]], [0, 1, 0, 2, 0, 2, 1, 2])
        if "big" in only:
            build_set(work, "big", plan_layers(groups, total_bytes=1 << 30, streams=streams),
                      shapes, expected)
        if "small" in only:
            build_set(work, "small", plan_layers(groups, total_bytes=256 << 20, streams=streams),
                      shapes, expected)
    if "files300k" in only:
        log("scanning small files")
        home = os.path.expanduser("~")
        groups = scan_tree(["/usr", RUSTUP, home + "/.cargo", home + "/.pyenv"], max_size=32 * 1024)
        regular = sum(1 for items in groups.values() for (_, _, k) in items if k == "f")
        log(f"  {regular} candidate small files")
        build_set(work, "files300k", plan_layers(groups, total_files=300_000), ["docker25"], expected)
    os.makedirs(os.path.dirname(exp_path), exist_ok=True)
    with open(exp_path, "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
    log(f"wrote {exp_path}")


if __name__ == "__main__":
    main()
