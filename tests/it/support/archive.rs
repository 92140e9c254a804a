//! The one archive builder of the tests. Tars are written by hand, header by
//! header, so that names, links, type flags and sizes no well-behaved writer
//! allows can be made; `header` gives the raw 512 bytes for tests that damage
//! them further. On top: gzip/zstd compression, and the two image archive
//! layouts (`docker save` and OCI) around an image config.

use std::io::Write;

use archscan::digest::Digest;
use serde_json::{json, Value};

use super::host_arch;

pub const MT_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const MT_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The `oci-layout` member every OCI archive starts with.
pub const OCI_LAYOUT: &[u8] = br#"{"imageLayoutVersion":"1.0.0"}"#;

// ---- tar entries -----------------------------------------------------------

/// One tar entry.
#[derive(Clone)]
pub struct Ent {
    pub name: Vec<u8>,
    pub typeflag: u8,
    pub mode: u32,
    pub data: Vec<u8>,
    pub link: Vec<u8>,
}

pub fn file(name: &str, data: &[u8], mode: u32) -> Ent {
    Ent {
        name: name.as_bytes().to_vec(),
        typeflag: b'0',
        mode,
        data: data.to_vec(),
        link: Vec::new(),
    }
}

pub fn dir(name: &str) -> Ent {
    Ent {
        typeflag: b'5',
        ..file(name, b"", 0o755)
    }
}

pub fn symlink(name: &str, target: &str) -> Ent {
    Ent {
        typeflag: b'2',
        link: target.as_bytes().to_vec(),
        ..file(name, b"", 0o777)
    }
}

pub fn hardlink(name: &str, target: &str) -> Ent {
    Ent {
        typeflag: b'1',
        link: target.as_bytes().to_vec(),
        ..file(name, b"", 0o755)
    }
}

/// A device, FIFO or other entry of type `typeflag`, without a body.
pub fn special(name: &str, typeflag: u8) -> Ent {
    Ent {
        typeflag,
        ..file(name, b"", 0o644)
    }
}

/// A PAX extended header (type `x`) whose body is `records`, as given.
pub fn pax_header(name: &str, records: &[u8]) -> Ent {
    Ent {
        typeflag: b'x',
        ..file(name, records, 0o644)
    }
}

// ---- tar bytes -------------------------------------------------------------

/// Zero-fills `out` to the next 512-byte block.
pub fn pad(out: &mut Vec<u8>) {
    let rem = out.len() % 512;
    if rem != 0 {
        out.resize(out.len() + 512 - rem, 0);
    }
}

/// A GNU header with raw name/link bytes (no validation) and a fixed checksum.
pub fn header(name: &[u8], typeflag: u8, mode: u32, size: u64, link: &[u8]) -> [u8; 512] {
    let mut h = tar::Header::new_gnu();
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_size(size);
    h.set_entry_type(tar::EntryType::new(typeflag));
    {
        let g = h.as_gnu_mut().unwrap();
        let n = name.len().min(100);
        g.name[..n].copy_from_slice(&name[..n]);
        let l = link.len().min(100);
        g.linkname[..l].copy_from_slice(&link[..l]);
    }
    h.set_cksum();
    let mut out = [0u8; 512];
    out.copy_from_slice(h.as_bytes());
    out
}

/// Appends one entry: GNU long name/link records first when a name is over
/// 100 bytes, then the header, the body and its padding.
pub fn push_entry(out: &mut Vec<u8>, e: &Ent) {
    for (flag, long) in [(b'L', &e.name), (b'K', &e.link)] {
        if long.len() > 100 {
            let mut body = long.clone();
            body.push(0);
            out.extend_from_slice(&header(
                b"././@LongLink",
                flag,
                0o644,
                body.len() as u64,
                b"",
            ));
            out.extend_from_slice(&body);
            pad(out);
        }
    }
    out.extend_from_slice(&header(
        &e.name,
        e.typeflag,
        e.mode,
        e.data.len() as u64,
        &e.link,
    ));
    out.extend_from_slice(&e.data);
    pad(out);
}

/// A complete tar (with the two end blocks).
pub fn tar(entries: &[Ent]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        push_entry(&mut out, e);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

/// The members of a tar this module wrote (plain headers, no long names),
/// up to its end blocks: (name, body).
pub fn members(data: &[u8]) -> Vec<(String, &[u8])> {
    let mut out = Vec::new();
    let mut at = 0;
    while at + 512 <= data.len() && data[at..at + 512].iter().any(|&b| b != 0) {
        let h = tar::Header::from_byte_slice(&data[at..at + 512]);
        let size = h.entry_size().unwrap() as usize;
        let name = String::from_utf8_lossy(&h.path_bytes()).into_owned();
        out.push((name, &data[at + 512..at + 512 + size]));
        at += 512 + size.div_ceil(512) * 512;
    }
    out
}

/// The layer blobs of a committed skopeo docker-archive fixture (a path
/// under the crate root), in archive order: skopeo stores each layer once,
/// as `<digest>.tar`, and makes each `<id>/layer.tar` a link to it.
pub fn fixture_layers(fixture: &str) -> Vec<Vec<u8>> {
    use std::io::Read;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let outer = std::fs::File::open(root.join(fixture)).unwrap();
    let mut layers = Vec::new();
    for e in tar::Archive::new(outer).entries().unwrap() {
        let mut e = e.unwrap();
        if !e.header().entry_type().is_file()
            || !e.path().unwrap().to_string_lossy().ends_with(".tar")
        {
            continue;
        }
        let mut layer = Vec::new();
        e.read_to_end(&mut layer).unwrap();
        layers.push(layer);
    }
    layers
}

// ---- compression -----------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Comp {
    None,
    Gzip,
    Zstd,
}

pub fn compress(data: &[u8], c: Comp) -> Vec<u8> {
    match c {
        Comp::None => data.to_vec(),
        Comp::Gzip => {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(data).unwrap();
            gz.finish().unwrap()
        }
        Comp::Zstd => zstd::encode_all(data, 1).unwrap(),
    }
}

/// The OCI layer media type for a layer compressed with `c`.
pub fn media_type(c: Comp) -> &'static str {
    match c {
        Comp::None => "application/vnd.oci.image.layer.v1.tar",
        Comp::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Comp::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

// ---- images ----------------------------------------------------------------

pub fn sha(bytes: &[u8]) -> Digest {
    Digest::sha256_of(bytes)
}

pub fn to_json(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// An image config for this machine's platform running `entrypoint`, with
/// `layers` layers (placeholder diff ids) and one history entry each.
pub fn config(entrypoint: &[&str], layers: usize) -> Value {
    json!({
        "architecture": host_arch(),
        "os": "linux",
        "config": {"Entrypoint": entrypoint, "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": vec!["sha256:".to_string() + &"0".repeat(64); layers]},
        "history": vec![json!({"created_by": "hostile test"}); layers],
    })
}

/// A `docker save` (legacy) archive: config, `<n>/layer.tar`, then
/// `manifest.json` last, as Docker ≤ 24 writes it.
pub fn docker_archive(config: &[u8], layers: &[Vec<u8>]) -> Vec<u8> {
    let mut entries = Vec::new();
    let cfg_name = format!("{}.json", sha(config).hex());
    entries.push(file(&cfg_name, config, 0o644));
    let mut names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let n = format!("{i}/layer.tar");
        entries.push(dir(&format!("{i}/")));
        entries.push(file(&n, l, 0o644));
        names.push(n);
    }
    let manifest = json!([{"Config": cfg_name, "RepoTags": ["hostile:latest"], "Layers": names}]);
    entries.push(file("manifest.json", &to_json(&manifest), 0o644));
    tar(&entries)
}

/// An OCI archive: `oci-layout`, blobs, then `index.json` last.
pub fn oci_archive(config: &[u8], layers: &[(Vec<u8>, &str)]) -> Vec<u8> {
    let mut entries = vec![file("oci-layout", OCI_LAYOUT, 0o644)];
    let mut descs = Vec::new();
    for (blob, mt) in layers {
        let d = sha(blob);
        entries.push(file(&d.blob_path(), blob, 0o644));
        descs.push(json!({"mediaType": mt, "digest": d.to_string(), "size": blob.len()}));
    }
    entries.push(file(&sha(config).blob_path(), config, 0o644));
    let manifest = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": MT_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha(config).to_string(), "size": config.len()},
        "layers": descs,
    }));
    entries.push(file(&sha(&manifest).blob_path(), &manifest, 0o644));
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": MT_MANIFEST,
                       "digest": sha(&manifest).to_string(), "size": manifest.len(),
                       "annotations": {"org.opencontainers.image.ref.name": "hostile"}}],
    });
    entries.push(file("index.json", &to_json(&index), 0o644));
    tar(&entries)
}

/// An image with one layer of `entries`, compressed with `c`, running
/// `entrypoint`, as a `docker save` archive.
pub fn one_layer_image(entries: &[Ent], entrypoint: &[&str], c: Comp) -> Vec<u8> {
    docker_archive(
        &to_json(&config(entrypoint, 1)),
        &[compress(&tar(entries), c)],
    )
}
