//! Hostile and broken archives: every test builds its input here (in memory or
//! in a temporary directory it removes), runs the real `archscan` binary with a
//! deadline and checks that it never panics, never hangs, never writes, and
//! says why when it cannot judge an image (exit 2 naming the archive, the
//! member or layer, and the problem), or judges it with a warning when only one
//! file is damaged. The caps of `Limits` are checked through the library API
//! with lowered values. `write_hostile_inputs` (ignored) writes the full-scale
//! inputs for `scripts/hostile-measure.sh`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use archscan::digest::Digest;
use archscan::limits::Limits;
use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// Running the binary
// ---------------------------------------------------------------------------

/// Per-run deadline: generous for a debug build on a shared 2-core machine.
const DEADLINE: Duration = Duration::from_secs(60);

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    secs: f64,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout))
    }
    /// Every finding id of every image.
    fn rules(&self) -> Vec<String> {
        let v = self.json();
        // Schema 2: one document, the reports under `inputs`.
        let reports = v["inputs"].as_array().cloned().unwrap_or_default();
        let mut out = Vec::new();
        for r in &reports {
            for img in r["images"].as_array().into_iter().flatten() {
                for f in img["findings"].as_array().into_iter().flatten() {
                    if let Some(id) = f["rule"].as_str() {
                        out.push(id.to_string());
                    }
                }
            }
        }
        out
    }
    fn all(&self) -> String {
        format!(
            "exit {}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Runs archscan with `args`, in `cwd`, with extra environment; kills it and
/// fails at the deadline; fails on a panic, a signal or an unknown exit code.
fn run_with(args: &[&str], cwd: Option<&Path>, envs: &[(&str, &Path)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_archscan"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("NO_COLOR", "1");
    if let Some(dir) = cwd {
        cmd.current_dir(dir);
    }
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn archscan");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = out.read_to_end(&mut s);
        s
    });
    let err_t = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = err.read_to_end(&mut s);
        s
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            panic!("archscan {args:?} did not finish within {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let secs = start.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&out_t.join().unwrap()).into_owned();
    let stderr = String::from_utf8_lossy(&err_t.join().unwrap()).into_owned();
    let Some(code) = status.code() else {
        panic!("archscan {args:?} was killed by a signal ({status})\n{stderr}");
    };
    let run = Run {
        code,
        stdout,
        stderr,
        secs,
    };
    assert!(
        !run.stderr.contains("panicked"),
        "archscan {args:?} panicked\n{}",
        run.all()
    );
    assert!(
        (0..=2).contains(&run.code),
        "archscan {args:?} exited {}\n{}",
        run.code,
        run.all()
    );
    run
}

fn run(path: &Path, extra: &[&str]) -> Run {
    let p = path.to_str().unwrap();
    let mut args = vec![p, "--format", "json"];
    args.extend_from_slice(extra);
    run_with(&args, None, &[])
}

/// Runs the JSON and the text report; both must agree on the exit code.
fn run_both(path: &Path) -> Run {
    let j = run(path, &[]);
    let t = run_with(&[path.to_str().unwrap()], None, &[]);
    assert_eq!(
        j.code,
        t.code,
        "json and text disagree\n{}\n{}",
        j.all(),
        t.all()
    );
    j
}

/// Asserts exit 2 with a message naming the archive and containing every
/// one of `words` (case-insensitive), on stderr and in the JSON report.
fn expect_unreadable(r: &Run, archive: &Path, words: &[&str]) {
    assert_eq!(r.code, 2, "expected exit 2\n{}", r.all());
    let name = archive.to_str().unwrap();
    let lower = r.stderr.to_lowercase();
    assert!(
        r.stderr.contains(name),
        "stderr does not name the archive {name}\n{}",
        r.all()
    );
    for w in words {
        assert!(
            lower.contains(&w.to_lowercase()),
            "stderr does not say `{w}`\n{}",
            r.all()
        );
    }
}

// ---------------------------------------------------------------------------
// Temporary files
// ---------------------------------------------------------------------------

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A directory under the system temp dir, removed on drop.
struct Tmp(PathBuf);

impl Tmp {
    fn new(tag: &str) -> Tmp {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p =
            std::env::temp_dir().join(format!("archscan-hostile-{}-{tag}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Tmp(p)
    }
    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p
    }
}

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// ---------------------------------------------------------------------------
// Writing tars by hand (so that names no well-behaved writer allows can be made)
// ---------------------------------------------------------------------------

/// One tar entry.
#[derive(Clone)]
struct Ent {
    name: Vec<u8>,
    typeflag: u8,
    mode: u32,
    data: Vec<u8>,
    link: Vec<u8>,
}

fn file(name: &str, data: &[u8], mode: u32) -> Ent {
    Ent {
        name: name.as_bytes().to_vec(),
        typeflag: b'0',
        mode,
        data: data.to_vec(),
        link: Vec::new(),
    }
}
fn dir(name: &str) -> Ent {
    Ent {
        typeflag: b'5',
        ..file(name, b"", 0o755)
    }
}
fn symlink(name: &str, target: &str) -> Ent {
    Ent {
        typeflag: b'2',
        link: target.as_bytes().to_vec(),
        ..file(name, b"", 0o777)
    }
}
fn hardlink(name: &str, target: &str) -> Ent {
    Ent {
        typeflag: b'1',
        link: target.as_bytes().to_vec(),
        ..file(name, b"", 0o755)
    }
}
fn special(name: &str, typeflag: u8) -> Ent {
    Ent {
        typeflag,
        ..file(name, b"", 0o644)
    }
}

fn pad(out: &mut Vec<u8>) {
    let rem = out.len() % 512;
    if rem != 0 {
        out.resize(out.len() + 512 - rem, 0);
    }
}

/// A GNU header with raw name/link bytes (no validation) and a fixed checksum.
fn header(name: &[u8], typeflag: u8, mode: u32, size: u64, link: &[u8]) -> [u8; 512] {
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

fn push_entry(out: &mut Vec<u8>, e: &Ent) {
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
fn tar(entries: &[Ent]) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        push_entry(&mut out, e);
    }
    out.extend_from_slice(&[0u8; 1024]);
    out
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Comp {
    None,
    Gzip,
    Zstd,
}

fn compress(data: &[u8], c: Comp) -> Vec<u8> {
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

fn sha(bytes: &[u8]) -> Digest {
    Digest::sha256_of(bytes)
}

// ---------------------------------------------------------------------------
// Images
// ---------------------------------------------------------------------------

/// The platform of the machine the tests run on, OCI spelling.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        other => other,
    }
}

/// A real program from the host (`/bin/true`), its loader and the libraries it
/// needs, at the paths its headers name: an image that judges `ok`.
fn native_files() -> Vec<Ent> {
    let true_bytes = std::fs::read("/bin/true").expect("/bin/true");
    let mut out = vec![dir("bin"), file("bin/true", &true_bytes, 0o755)];
    let ident = archscan::identify::identify(
        &&true_bytes[..],
        true,
        &archscan::identify::IdentLimits::default(),
    );
    if let Some(archscan::identify::Ident::Elf(e)) = ident {
        let mut wanted: Vec<String> = e.interpreter.iter().cloned().collect();
        for lib in &e.needed {
            for d in [
                "/lib",
                "/usr/lib",
                "/lib64",
                "/lib/x86_64-linux-gnu",
                "/lib/aarch64-linux-gnu",
            ] {
                let p = format!("{d}/{lib}");
                if Path::new(&p).exists() {
                    wanted.push(p);
                    break;
                }
            }
        }
        for p in wanted {
            if let Ok(bytes) = std::fs::read(&p) {
                out.push(file(p.trim_start_matches('/'), &bytes, 0o755));
            }
        }
    }
    out
}

fn config(entrypoint: &[&str], layers: usize) -> Value {
    json!({
        "architecture": host_arch(),
        "os": "linux",
        "config": {"Entrypoint": entrypoint, "Env": ["PATH=/usr/local/bin:/usr/bin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": vec!["sha256:".to_string() + &"0".repeat(64); layers]},
        "history": vec![json!({"created_by": "hostile test"}); layers],
    })
}

fn to_json(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

/// A `docker save` (legacy) archive: config, `<n>/layer.tar`, then
/// `manifest.json` last, as Docker ≤ 24 writes it.
fn docker_archive(config: &[u8], layers: &[Vec<u8>]) -> Vec<u8> {
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
fn oci_archive(config: &[u8], layers: &[(Vec<u8>, &str)]) -> Vec<u8> {
    let mut entries = vec![file(
        "oci-layout",
        br#"{"imageLayoutVersion":"1.0.0"}"#,
        0o644,
    )];
    let mut descs = Vec::new();
    for (blob, mt) in layers {
        let d = sha(blob);
        entries.push(file(&d.blob_path(), blob, 0o644));
        descs.push(json!({"mediaType": mt, "digest": d.to_string(), "size": blob.len()}));
    }
    entries.push(file(&sha(config).blob_path(), config, 0o644));
    let manifest = to_json(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": sha(config).to_string(), "size": config.len()},
        "layers": descs,
    }));
    entries.push(file(&sha(&manifest).blob_path(), &manifest, 0o644));
    let index = json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": sha(&manifest).to_string(), "size": manifest.len(),
                       "annotations": {"org.opencontainers.image.ref.name": "hostile"}}],
    });
    entries.push(file("index.json", &to_json(&index), 0o644));
    tar(&entries)
}

fn media_type(c: Comp) -> &'static str {
    match c {
        Comp::None => "application/vnd.oci.image.layer.v1.tar",
        Comp::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
        Comp::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
    }
}

/// An image with one layer of `entries` running `entrypoint`.
fn one_layer_image(entries: &[Ent], entrypoint: &[&str], c: Comp) -> Vec<u8> {
    docker_archive(
        &to_json(&config(entrypoint, 1)),
        &[compress(&tar(entries), c)],
    )
}

/// A small image that judges without native files: a script run by a script.
fn small_image() -> Vec<u8> {
    one_layer_image(
        &[
            dir("app"),
            file("app/run", b"#!/bin/sh\nexec /app/x\n", 0o755),
            file("app/data", &[7u8; 3000], 0o644),
            file("bin/sh", b"#!/app/run\n", 0o755),
        ],
        &["/app/run"],
        Comp::None,
    )
}

// ---------------------------------------------------------------------------
// Whole-input damage
// ---------------------------------------------------------------------------

// An empty file used to be taken as an empty rootfs tarball and judged (exit 0).
#[test]
fn empty_file_is_unreadable() {
    let t = Tmp::new("empty");
    let p = t.write("empty.tar", b"");
    let r = run_both(&p);
    expect_unreadable(&r, &p, &["empty"]);
}

#[test]
fn random_bytes_are_unreadable() {
    let t = Tmp::new("random");
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let prefixes: [&[u8]; 5] = [
        b"",
        &[0x1f, 0x8b, 8, 0],
        &[0x28, 0xb5, 0x2f, 0xfd],
        &[0xfd, b'7', b'z', b'X', b'Z', 0],
        b"BZh9",
    ];
    for (i, prefix) in prefixes.iter().enumerate() {
        for len in [1usize, 100, 511, 512, 513, 10_000, 100_000] {
            let mut data = prefix.to_vec();
            while data.len() < len.max(prefix.len()) {
                data.extend_from_slice(&next().to_le_bytes());
            }
            data.truncate(len.max(prefix.len()));
            let p = t.write(&format!("r{i}-{len}.bin"), &data);
            let r = run(&p, &[]);
            assert_eq!(
                r.code,
                2,
                "{} bytes with prefix {prefix:?}\n{}",
                len,
                r.all()
            );
            assert!(r.stderr.contains(p.to_str().unwrap()), "{}", r.all());
        }
    }
}

/// Every offset where a header, a body or a padding run starts in `tar`
/// (before the end blocks), plus a cut inside every header and body.
fn cut_points(data: &[u8]) -> (Vec<usize>, usize) {
    let mut cuts = Vec::new();
    let mut at = 0usize;
    loop {
        let block = &data[at..at + 512];
        if block.iter().all(|&b| b == 0) {
            break;
        }
        let h = tar::Header::from_byte_slice(block);
        let size = h.entry_size().unwrap() as usize;
        cuts.extend([at, at + 1, at + 256, at + 511, at + 512]);
        if size > 0 {
            cuts.extend([at + 512 + 1, at + 512 + size / 2, at + 512 + size - 1]);
        }
        at += 512 + size.div_ceil(512) * 512;
    }
    cuts.sort_unstable();
    cuts.dedup();
    (cuts, at)
}

// Truncation at a member boundary lost manifest.json silently: what was left
// was judged as a root filesystem (exit 0). It is now an incomplete archive.
#[test]
fn truncated_archives_at_every_boundary_are_unreadable() {
    let t = Tmp::new("trunc");
    let docker = small_image();
    let layer = compress(
        &tar(&[
            file("app/run", b"#!/bin/sh\n", 0o755),
            file("d", &[1; 700], 0o644),
        ]),
        Comp::None,
    );
    let oci = oci_archive(
        &to_json(&config(&["/app/run"], 1)),
        &[(layer, media_type(Comp::None))],
    );
    for (kind, whole) in [("docker", &docker), ("oci", &oci)] {
        let full = t.write(&format!("{kind}-full.tar"), whole);
        assert_judged(&run(&full, &[]), kind);
        let (cuts, end) = cut_points(whole);
        for cut in cuts {
            for outer in [Comp::None, Comp::Gzip] {
                let data = compress(&whole[..cut], outer);
                let p = t.write(&format!("{kind}-{cut}-{outer:?}.tar"), &data);
                let r = run(&p, &[]);
                assert_eq!(
                    r.code,
                    2,
                    "{kind} cut at {cut} of {end} ({outer:?}) was judged\n{}",
                    r.all()
                );
                assert!(r.stderr.contains(p.to_str().unwrap()), "{}", r.all());
            }
        }
        // Cut inside the end blocks: nothing is lost.
        let p = t.write(&format!("{kind}-endblocks.tar"), &whole[..end + 100]);
        assert_judged(&run(&p, &[]), "cut in the end blocks");
    }
}

#[test]
fn truncated_outer_compression_is_unreadable() {
    let t = Tmp::new("trunc-outer");
    let whole = small_image();
    for c in [Comp::Gzip, Comp::Zstd] {
        let packed = compress(&whole, c);
        for i in 1..16 {
            let cut = packed.len() * i / 16;
            let p = t.write(&format!("outer-{c:?}-{i}.tar"), &packed[..cut]);
            let r = run(&p, &[]);
            assert_eq!(r.code, 2, "{c:?} cut at {cut}\n{}", r.all());
            assert!(r.stderr.contains(p.to_str().unwrap()), "{}", r.all());
        }
    }
}

#[test]
fn truncated_layer_stream_names_the_layer() {
    let t = Tmp::new("trunc-layer");
    let mut files = vec![file("app/run", b"#!/bin/sh\n", 0o755)];
    for i in 0..50 {
        files.push(file(&format!("f{i}"), &vec![i as u8; 4000], 0o644));
    }
    let plain = tar(&files);
    for c in [Comp::Gzip, Comp::Zstd] {
        let packed = compress(&plain, c);
        for cut in [10, packed.len() / 2, packed.len() - 4] {
            let img = docker_archive(
                &to_json(&config(&["/app/run"], 1)),
                &[packed[..cut].to_vec()],
            );
            let p = t.write(&format!("{c:?}-{cut}.tar"), &img);
            let r = run_both(&p);
            expect_unreadable(&r, &p, &["layer 0", "0/layer.tar"]);
        }
    }
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

fn docker_with_manifest(manifest: &[u8], config: &[u8]) -> Vec<u8> {
    let layer = tar(&[file("app/run", b"#!/bin/sh\n", 0o755)]);
    tar(&[
        file(&format!("{}.json", sha(config).hex()), config, 0o644),
        file("0/layer.tar", &layer, 0o644),
        file("manifest.json", manifest, 0o644),
    ])
}

#[test]
fn broken_json_is_unreadable_and_says_why() {
    let t = Tmp::new("json");
    let cfg = to_json(&config(&["/app/run"], 1));
    let cfg_name = format!("{}.json", sha(&cfg).hex());
    let good =
        |c: &str| to_json(&json!([{"Config": c, "RepoTags": ["x:y"], "Layers": ["0/layer.tar"]}]));
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    let mut huge = b"[\"".to_vec();
    huge.resize(17 * 1024 * 1024, b'a');
    huge.extend_from_slice(b"\"]");
    // (name, manifest.json, config, words the error must say)
    type Case<'a> = (&'a str, Vec<u8>, Vec<u8>, &'a [&'a str]);
    let cases: Vec<Case> = vec![
        (
            "invalid",
            b"[{\"Config\": ".to_vec(),
            cfg.clone(),
            &["manifest.json", "invalid JSON"],
        ),
        (
            "deep",
            deep.into_bytes(),
            cfg.clone(),
            &["manifest.json", "deep"],
        ),
        ("huge", huge, cfg.clone(), &["manifest.json", "limit"]),
        (
            "object",
            b"{}".to_vec(),
            cfg.clone(),
            &["manifest.json", "expected a list"],
        ),
        ("null", b"null".to_vec(), cfg.clone(), &["manifest.json"]),
        (
            "layers-number",
            to_json(&json!([{"Config": cfg_name, "Layers": 5}])),
            cfg.clone(),
            &["Layers", "a number"],
        ),
        (
            "config-object",
            to_json(&json!([{"Config": {"a": 1}, "Layers": []}])),
            cfg.clone(),
            &["Config", "an object"],
        ),
        (
            "repotags-number",
            to_json(&json!([{"Config": cfg_name, "RepoTags": 7, "Layers": ["0/layer.tar"]}])),
            cfg.clone(),
            &["RepoTags"],
        ),
        (
            "config-list",
            good(&format!("{}.json", sha(b"[]").hex())),
            b"[]".to_vec(),
            &["config", "a list"],
        ),
        (
            "entrypoint-number",
            good(&format!(
                "{}.json",
                sha(br#"{"config":{"Entrypoint":1}}"#).hex()
            )),
            br#"{"config":{"Entrypoint":1}}"#.to_vec(),
            &["Entrypoint", "a number"],
        ),
        (
            "history-string",
            good(&format!("{}.json", sha(br#"{"history":"x"}"#).hex())),
            br#"{"history":"x"}"#.to_vec(),
            &["history"],
        ),
        (
            "config-invalid",
            good(&format!("{}.json", sha(b"{\"a\":").hex())),
            b"{\"a\":".to_vec(),
            &["invalid JSON"],
        ),
    ];
    for (name, manifest, config, words) in cases {
        for outer in [Comp::None, Comp::Zstd] {
            let data = compress(&docker_with_manifest(&manifest, &config), outer);
            let p = t.write(&format!("{name}-{outer:?}.tar"), &data);
            let r = run(&p, &[]);
            expect_unreadable(&r, &p, words);
        }
    }
}

#[test]
fn wrong_types_in_oci_index_are_unreadable() {
    let t = Tmp::new("oci-types");
    let layout = file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#, 0o644);
    let hex = "a".repeat(64);
    let cases: Vec<(&str, Value, &[&str])> = vec![
        (
            "manifests-string",
            json!({"schemaVersion": 2, "manifests": "x"}),
            &["manifests", "a string"],
        ),
        ("index-list", json!([1, 2]), &["index.json", "a list"]),
        ("desc-number", json!({"manifests": [5]}), &["digest"]),
        (
            "manifest-missing",
            json!({"manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": format!("sha256:{hex}")}]}),
            &["missing"],
        ),
    ];
    for (name, index, words) in cases {
        let data = tar(&[layout.clone(), file("index.json", &to_json(&index), 0o644)]);
        let p = t.write(&format!("{name}.tar"), &data);
        let r = run_both(&p);
        expect_unreadable(&r, &p, words);
    }
}

// ---------------------------------------------------------------------------
// Missing members, digests
// ---------------------------------------------------------------------------

#[test]
fn missing_config_or_layer_is_unreadable() {
    let t = Tmp::new("missing");
    let cfg = to_json(&config(&["/app/run"], 1));
    let layer = tar(&[file("app/run", b"#!/bin/sh\n", 0o755)]);
    let no_config = tar(&[
        file("0/layer.tar", &layer, 0o644),
        file(
            "manifest.json",
            &to_json(&json!([{"Config": "nope.json", "Layers": ["0/layer.tar"]}])),
            0o644,
        ),
    ]);
    let p = t.write("no-config.tar", &no_config);
    expect_unreadable(&run_both(&p), &p, &["nope.json", "missing"]);
    let no_layer = tar(&[
        file("c.json", &cfg, 0o644),
        file(
            "manifest.json",
            &to_json(&json!([{"Config": "c.json", "Layers": ["0/layer.tar"]}])),
            0o644,
        ),
    ]);
    let p = t.write("no-layer.tar", &no_layer);
    expect_unreadable(&run_both(&p), &p, &["0/layer.tar", "missing"]);
    // The same in an OCI archive: the layer blob is gone.
    let oci = oci_archive(&cfg, &[(layer.clone(), media_type(Comp::None))]);
    let mut entries = Vec::new();
    let mut at = 0;
    while at + 512 <= oci.len() && oci[at..at + 512].iter().any(|&b| b != 0) {
        let h = tar::Header::from_byte_slice(&oci[at..at + 512]);
        let size = h.entry_size().unwrap() as usize;
        let name = String::from_utf8_lossy(&h.path_bytes()).into_owned();
        if name != sha(&layer).blob_path() {
            entries.push(file(&name, &oci[at + 512..at + 512 + size], 0o644));
        }
        at += 512 + size.div_ceil(512) * 512;
    }
    let p = t.write("oci-no-layer.tar", &tar(&entries));
    expect_unreadable(&run_both(&p), &p, &[&sha(&layer).blob_path(), "missing"]);
}

#[test]
fn digest_mismatch_is_a_warning_naming_both_digests() {
    let t = Tmp::new("mismatch");
    let mut files = native_files();
    files.push(file("app/run", b"#!/bin/true\n", 0o755));
    let good = compress(&tar(&files), Comp::Gzip);
    files.push(file("extra", b"tampered", 0o644));
    let tampered = compress(&tar(&files), Comp::Gzip);
    let cfg = to_json(&config(&["/app/run"], 1));
    // Write the archive with the good layer's digest but the tampered bytes.
    let oci = oci_archive(&cfg, &[(good.clone(), media_type(Comp::Gzip))]);
    let name = sha(&good).blob_path();
    let mut entries = Vec::new();
    let mut at = 0;
    while oci[at..at + 512].iter().any(|&b| b != 0) {
        let h = tar::Header::from_byte_slice(&oci[at..at + 512]);
        let size = h.entry_size().unwrap() as usize;
        let n = String::from_utf8_lossy(&h.path_bytes()).into_owned();
        let body = if n == name {
            tampered.clone()
        } else {
            oci[at + 512..at + 512 + size].to_vec()
        };
        entries.push(file(&n, &body, 0o644));
        at += 512 + size.div_ceil(512) * 512;
    }
    let p = t.write("tampered.tar", &tar(&entries));
    let r = run_both(&p);
    assert!(r.code == 0 || r.code == 1, "{}", r.all());
    assert!(
        r.rules().contains(&"digest-mismatch".to_string()),
        "{}",
        r.all()
    );
    for d in [sha(&good).to_string(), sha(&tampered).to_string()] {
        assert!(
            r.stdout.contains(&d),
            "the report does not name {d}\n{}",
            r.all()
        );
    }
    assert!(r.stdout.contains(&name), "{}", r.all());
    // The config's digest is checked too.
    let cfg2 = to_json(&config(&["/app/run"], 1));
    let mut oci2 = oci_archive(&cfg2, &[(good, media_type(Comp::Gzip))]);
    // Same length, so the member's header stays right.
    let needle = b"hostile test";
    let pos = oci2
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    oci2[pos..pos + needle.len()].copy_from_slice(b"HOSTILE TEST");
    let p = t.write("config-tampered.tar", &oci2);
    let r = run_both(&p);
    assert!(
        r.rules().contains(&"digest-mismatch".to_string()),
        "{}",
        r.all()
    );
    assert!(r.stdout.contains(&sha(&cfg2).to_string()), "{}", r.all());
}

#[test]
fn bad_digests_never_become_paths() {
    let t = Tmp::new("digests");
    let bad = [
        "md5:d41d8cd98f00b204e9800998ecf8427e".to_string(),
        "sha256:../../../../etc/passwd".to_string(),
        "sha256:../../".to_string() + &"a".repeat(58),
        String::new(),
        "sha256:".to_string(),
        "sha256:".to_string() + &"A".repeat(64),
        "sha256:".to_string() + &"a".repeat(63) + "/",
        "sha256/".to_string() + &"a".repeat(64),
        "sha256:".to_string() + &"a".repeat(64) + "\n",
    ];
    let layout = file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#, 0o644);
    let cfg = to_json(&config(&["/bin/sh"], 1));
    let layer = tar(&[file("bin/sh", b"#!/bin/x\n", 0o755)]);
    for (i, d) in bad.iter().enumerate() {
        let mt = "application/vnd.oci.image.manifest.v1+json";
        // 1. In index.json.
        let index = json!({"manifests": [{"mediaType": mt, "digest": d}]});
        let a = tar(&[layout.clone(), file("index.json", &to_json(&index), 0o644)]);
        // 2. As the config of a good manifest.
        let manifest = to_json(&json!({"mediaType": mt,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d},
            "layers": []}));
        let index2 =
            json!({"manifests": [{"mediaType": mt, "digest": sha(&manifest).to_string()}]});
        let b = tar(&[
            layout.clone(),
            file(&sha(&manifest).blob_path(), &manifest, 0o644),
            file("index.json", &to_json(&index2), 0o644),
        ]);
        // 3. As a layer.
        let manifest3 = to_json(&json!({"mediaType": mt,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(&cfg).to_string()},
            "layers": [{"mediaType": media_type(Comp::None), "digest": d}]}));
        let index3 =
            json!({"manifests": [{"mediaType": mt, "digest": sha(&manifest3).to_string()}]});
        let c = tar(&[
            layout.clone(),
            file(&sha(&cfg).blob_path(), &cfg, 0o644),
            file("etc/passwd", &layer, 0o644),
            file(&sha(&manifest3).blob_path(), &manifest3, 0o644),
            file("index.json", &to_json(&index3), 0o644),
        ]);
        for (k, data) in [("index", a), ("config", b), ("layer", c)] {
            let p = t.write(&format!("{k}-{i}.tar"), &data);
            let r = run_both(&p);
            expect_unreadable(&r, &p, &["digest"]);
            // The same as an OCI layout directory.
            let dir = Tmp::new("digest-dir");
            let mut at = 0;
            while data[at..at + 512].iter().any(|&b| b != 0) {
                let h = tar::Header::from_byte_slice(&data[at..at + 512]);
                let size = h.entry_size().unwrap() as usize;
                let n = String::from_utf8_lossy(&h.path_bytes()).into_owned();
                dir.write(&n, &data[at + 512..at + 512 + size]);
                at += 512 + size.div_ceil(512) * 512;
            }
            let r = run(&dir.0, &[]);
            expect_unreadable(&r, &dir.0, &["digest"]);
        }
    }
}

// A blob in an OCI layout directory that is a symlink out of the directory is
// never read (the host's /etc/passwd is not a layer of the image).
#[cfg(unix)]
#[test]
fn layout_blob_symlinked_out_of_the_directory_is_missing() {
    let t = Tmp::new("layout-escape");
    let cfg = to_json(&config(&["/bin/sh"], 1));
    let hex = "b".repeat(64);
    let mt = "application/vnd.oci.image.manifest.v1+json";
    let manifest = to_json(&json!({"mediaType": mt,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(&cfg).to_string()},
        "layers": [{"mediaType": media_type(Comp::None), "digest": format!("sha256:{hex}")}]}));
    t.write("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    t.write(&sha(&cfg).blob_path(), &cfg);
    t.write(&sha(&manifest).blob_path(), &manifest);
    t.write(
        "index.json",
        &to_json(&json!({"manifests": [{"mediaType": mt, "digest": sha(&manifest).to_string()}]})),
    );
    std::os::unix::fs::symlink("/etc/passwd", t.0.join(format!("blobs/sha256/{hex}"))).unwrap();
    let r = run(&t.0, &[]);
    expect_unreadable(&r, &t.0, &[&hex, "missing"]);
}

// ---------------------------------------------------------------------------
// Indexes
// ---------------------------------------------------------------------------

const MT_INDEX: &str = "application/vnd.oci.image.index.v1+json";

#[test]
fn index_cycles_end() {
    let t = Tmp::new("cycle");
    // Two indexes naming each other (their digests cannot match their bytes,
    // which is a digest-mismatch note on top).
    let da = format!("sha256:{}", "a".repeat(64));
    let db = format!("sha256:{}", "b".repeat(64));
    let ia = to_json(
        &json!({"mediaType": MT_INDEX, "manifests": [{"mediaType": MT_INDEX, "digest": db}]}),
    );
    let ib = to_json(
        &json!({"mediaType": MT_INDEX, "manifests": [{"mediaType": MT_INDEX, "digest": da}]}),
    );
    let data = tar(&[
        file("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#, 0o644),
        file(&format!("blobs/sha256/{}", "a".repeat(64)), &ia, 0o644),
        file(&format!("blobs/sha256/{}", "b".repeat(64)), &ib, 0o644),
        file(
            "index.json",
            &to_json(&json!({"manifests": [{"mediaType": MT_INDEX, "digest": da}]})),
            0o644,
        ),
    ]);
    let p = t.write("cycle.tar", &data);
    let r = run_both(&p);
    assert!(r.secs < 20.0);
    assert!(r.stdout.contains("cycle") || r.code == 2, "{}", r.all());
}

#[test]
fn deep_index_nesting_stops_at_the_limit() {
    let t = Tmp::new("deep-index");
    let mut entries = vec![file(
        "oci-layout",
        br#"{"imageLayoutVersion":"1.0.0"}"#,
        0o644,
    )];
    // 50 nested indexes, the innermost naming a manifest that is absent.
    let mut child = format!("sha256:{}", "c".repeat(64));
    let mut child_type = "application/vnd.oci.image.manifest.v1+json";
    for _ in 0..50 {
        let doc = to_json(&json!({"mediaType": MT_INDEX,
            "manifests": [{"mediaType": child_type, "digest": child}]}));
        let d = sha(&doc);
        entries.push(file(&d.blob_path(), &doc, 0o644));
        child = d.to_string();
        child_type = MT_INDEX;
    }
    entries.push(file(
        "index.json",
        &to_json(&json!({"manifests": [{"mediaType": MT_INDEX, "digest": child}]})),
        0o644,
    ));
    let p = t.write("deep.tar", &tar(&entries));
    let r = run_both(&p);
    expect_unreadable(&r, &p, &["nested", "limit"]);
}

// ---------------------------------------------------------------------------
// Bombs
// ---------------------------------------------------------------------------

/// A compressed tar holding one file of `size` zero bytes (and an
/// entrypoint script after it), made by repeating one compressed member or
/// frame of zeros, so that building it costs little (zstd frames of zeros
/// are a few RLE blocks).
fn bomb(size: u64, c: Comp) -> Vec<u8> {
    const CHUNK: usize = 8 << 20;
    let mut out = compress(&header(b"zeros", b'0', 0o644, size, b""), c);
    let zeros = compress(&vec![0u8; CHUNK], c);
    let mut left = size;
    while left >= CHUNK as u64 {
        out.extend_from_slice(&zeros);
        left -= CHUNK as u64;
    }
    let mut tail = vec![0u8; left as usize];
    pad(&mut tail);
    push_entry(&mut tail, &file("app/run", b"#!/bin/sh\n", 0o755));
    tail.extend_from_slice(&[0u8; 1024]);
    out.extend_from_slice(&compress(&tail, c));
    out
}

fn gzip_bomb(size: u64) -> Vec<u8> {
    bomb(size, Comp::Gzip)
}

fn zstd_bomb(size: u64) -> Vec<u8> {
    bomb(size, Comp::Zstd)
}

/// Bomb size in the test suite (a debug build inflates slowly); the measure
/// script uses 10 GiB through `write_hostile_inputs`.
const TEST_BOMB: u64 = if cfg!(debug_assertions) {
    16 << 20
} else {
    1 << 30
};

#[test]
fn compression_bombs_finish() {
    let t = Tmp::new("bomb");
    let cfg = to_json(&config(&["/app/run"], 1));
    for (name, blob) in [
        ("gzip", gzip_bomb(TEST_BOMB)),
        ("zstd", zstd_bomb(TEST_BOMB)),
    ] {
        let p = t.write(&format!("layer-{name}.tar"), &docker_archive(&cfg, &[blob]));
        let r = run(&p, &[]);
        assert_judged(&r, &format!("{name} layer bomb"));
    }
    // The outer archive as a bomb: a member of zeros before the image.
    let img = small_image();
    let mut outer = header(b"zeros", b'0', 0o644, TEST_BOMB, b"").to_vec();
    outer.resize(outer.len() + TEST_BOMB as usize, 0);
    outer.extend_from_slice(&img);
    // (zstd only: a gzip encoder in a debug build is too slow for this size.)
    let p = t.write("outer.tar.zst", &compress(&outer, Comp::Zstd));
    let r = run(&p, &[]);
    assert_judged(&r, "zstd outer bomb");
}

/// A zstd frame header asking for a 2 TiB window (and one empty raw block).
fn zstd_huge_window() -> Vec<u8> {
    vec![0x28, 0xb5, 0x2f, 0xfd, 0x00, 0xf8, 0x01, 0x00, 0x00]
}

#[test]
fn zstd_frames_with_absurd_windows_are_refused() {
    let t = Tmp::new("window");
    let cfg = to_json(&config(&["/app/run"], 1));
    let p = t.write("layer.tar", &docker_archive(&cfg, &[zstd_huge_window()]));
    let r = run_both(&p);
    expect_unreadable(&r, &p, &["layer 0", "0/layer.tar"]);
    // A real encoder's frame with a 1 GiB window (zstd --long=30).
    let mut enc = zstd::stream::Encoder::new(Vec::new(), 1).unwrap();
    enc.window_log(30).unwrap();
    enc.long_distance_matching(true).unwrap();
    enc.write_all(&tar(&[file("app/run", b"#!/bin/sh\n", 0o755)]))
        .unwrap();
    let long = enc.finish().unwrap();
    let p = t.write("layer-long.tar", &docker_archive(&cfg, &[long]));
    let r = run(&p, &[]);
    expect_unreadable(&r, &p, &["layer 0"]);
    // The outer archive.
    let p = t.write("outer.tar.zst", &zstd_huge_window());
    let r = run_both(&p);
    expect_unreadable(&r, &p, &[]);
}

// ---------------------------------------------------------------------------
// Tar headers
// ---------------------------------------------------------------------------

/// One PAX record, `"<len> <key>=<value>\n"`, with its length right.
fn pax_record(key: &str, value: &str) -> String {
    let body = format!(" {key}={value}\n");
    let mut len = body.len() + 1;
    while (len.to_string().len() + body.len()) != len {
        len += 1;
    }
    format!("{len}{body}")
}

/// A header whose size field is replaced by `field` (12 raw bytes), checksum fixed.
fn header_with_size_field(name: &[u8], field: &[u8; 12]) -> [u8; 512] {
    let mut h = header(name, b'0', 0o644, 0, b"");
    h[124..136].copy_from_slice(field);
    let mut t = tar::Header::new_old();
    t.as_mut_bytes().copy_from_slice(&h);
    t.set_cksum();
    h.copy_from_slice(t.as_bytes());
    h
}

fn base256(n: u64) -> [u8; 12] {
    let mut f = [0u8; 12];
    f[0] = 0x80;
    f[4..].copy_from_slice(&n.to_be_bytes());
    f
}

#[test]
fn absurd_tar_sizes_and_checksums_are_unreadable() {
    let t = Tmp::new("sizes");
    let fields: Vec<(&str, [u8; 12])> = vec![
        ("2p60", base256(1 << 60)),
        ("2p64-1", base256(u64::MAX)),
        ("neg", [0xff; 12]),
        ("garbage", *b"zz9 \x01\x02xx\xffq\0\0"),
        ("octal-max", *b"77777777777\0"),
    ];
    for (name, field) in &fields {
        let mut body = header_with_size_field(b"app/run", field).to_vec();
        body.extend_from_slice(&[b'#'; 1024]);
        // In a layer (mapped and streamed) and as the outer archive itself.
        for c in [Comp::None, Comp::Gzip] {
            let img = docker_archive(&to_json(&config(&["/app/run"], 1)), &[compress(&body, c)]);
            let p = t.write(&format!("layer-{name}-{c:?}.tar"), &img);
            let r = run_both(&p);
            expect_unreadable(&r, &p, &["layer 0"]);
            let p = t.write(&format!("outer-{name}-{c:?}.tar"), &compress(&body, c));
            let r = run_both(&p);
            expect_unreadable(&r, &p, &[]);
        }
    }
    // A bad checksum.
    let mut layer = tar(&[file("app/run", b"#!/bin/sh\n", 0o755)]);
    layer[10] ^= 0x40;
    let img = docker_archive(&to_json(&config(&["/app/run"], 1)), &[layer.clone()]);
    let p = t.write("bad-cksum.tar", &img);
    expect_unreadable(&run_both(&p), &p, &["layer 0", "checksum"]);
    // PAX size records: huge, negative, malformed lengths.
    for (name, rec) in [
        ("pax-huge", pax_record("size", "18446744073709551615")),
        ("pax-2p60", pax_record("size", "1152921504606846976")),
        ("pax-neg", pax_record("size", "-10")),
        ("pax-path-nul", pax_record("path", "a\0b/../../../x")),
        ("pax-badlen", "999999 path=x\n".to_string()),
        ("pax-zero", "0 path=x\n".to_string()),
        ("pax-nospace", "12path=x\n".to_string()),
    ] {
        let mut l = Vec::new();
        push_entry(
            &mut l,
            &Ent {
                typeflag: b'x',
                ..file("pax", rec.as_bytes(), 0o644)
            },
        );
        push_entry(&mut l, &file("app/run", b"#!/bin/sh\n", 0o755));
        l.extend_from_slice(&[0; 1024]);
        let img = docker_archive(&to_json(&config(&["/app/run"], 1)), &[l]);
        let p = t.write(&format!("{name}.tar"), &img);
        let r = run_both(&p);
        if r.code != 2 {
            assert_judged(&r, name);
        } else {
            assert!(r.stderr.contains("layer 0"), "{name}\n{}", r.all());
        }
    }
}

#[test]
fn huge_long_names_are_refused() {
    let t = Tmp::new("names");
    let cfg = to_json(&config(&["/app/run"], 1));
    let long = "d/".repeat(40_000) + "x";
    for (name, e) in [
        ("gnu-name", file(&long, b"x", 0o644)),
        ("gnu-link", symlink("l", &long)),
        (
            "pax",
            Ent {
                typeflag: b'x',
                ..file("pax", &vec![b'a'; 2 << 20], 0o644)
            },
        ),
    ] {
        let l = tar(&[e, file("app/run", b"#!/bin/sh\n", 0o755)]);
        for c in [Comp::None, Comp::Zstd] {
            let img = docker_archive(&cfg, &[compress(&l, c)]);
            let p = t.write(&format!("{name}-{c:?}.tar"), &img);
            let r = run_both(&p);
            expect_unreadable(&r, &p, &["layer 0", "limit"]);
        }
    }
    // A long name just under the cap is fine.
    let ok = "d/".repeat(1000) + "x";
    let l = tar(&[
        file(&ok, b"x", 0o644),
        file("app/run", b"#!/bin/sh\n", 0o755),
    ]);
    let p = t.write("ok.tar", &docker_archive(&cfg, &[l]));
    assert_judged(&run(&p, &[]), "a long name under the cap");
}

/// A gzip layer of `n` empty files (all named alike), built by repeating one
/// compressed member, and the entrypoint script.
fn many_entries(n: usize) -> Vec<u8> {
    const PER: usize = 4096;
    let hdr = header(b"e", b'0', 0o644, 0, b"");
    let mut block = Vec::with_capacity(PER * 512);
    for _ in 0..PER {
        block.extend_from_slice(&hdr);
    }
    repeated_gzip(&block, n / PER)
}

/// A gzip layer made of `copies` identical gzip members of `block` (tar
/// entries without an end), then one member with a script and the end of
/// the tar: a small input that decompresses to very many entries.
fn repeated_gzip(block: &[u8], copies: usize) -> Vec<u8> {
    let member = compress(block, Comp::Gzip);
    let mut out = Vec::with_capacity(member.len() * copies);
    for _ in 0..copies {
        out.extend_from_slice(&member);
    }
    out.extend_from_slice(&compress(
        &tar(&[file("app/run", b"#!/bin/sh\n", 0o755)]),
        Comp::Gzip,
    ));
    out
}

/// A gzip layer of `n` empty files whose names are each just under the
/// 64 KiB name cap (a repeated compressed member again): a small input whose
/// index would hold `n` × 64 KiB of names.
fn long_names(n: usize) -> Vec<u8> {
    const PER: usize = 64;
    let name = "n/".repeat(30_000) + "x";
    let mut block = Vec::new();
    for _ in 0..PER {
        push_entry(&mut block, &file(&name, b"", 0o644));
    }
    repeated_gzip(&block, n / PER)
}

/// A zstd stream of a tar of `n` JSON-looking members of 16 MiB each
/// (distinct names), as separate frames so that one body frame is reused: a
/// streamed archive keeps its JSON members, so this would hold n × 16 MiB.
fn json_members(n: usize) -> Vec<u8> {
    let size = 16 * 1024 * 1024 - 1;
    let mut body = b"[".to_vec();
    body.resize(size, b' ');
    pad(&mut body);
    let body = compress(&body, Comp::Zstd);
    let mut out = Vec::new();
    for i in 0..n {
        let h = header(
            format!("doc{i}.json").as_bytes(),
            b'0',
            0o644,
            size as u64,
            b"",
        );
        out.extend_from_slice(&compress(&h, Comp::Zstd));
        out.extend_from_slice(&body);
    }
    out.extend_from_slice(&compress(&[0u8; 1024], Comp::Zstd));
    out
}

#[test]
fn many_empty_entries_finish() {
    let t = Tmp::new("entries");
    let img = docker_archive(
        &to_json(&config(&["/app/run"], 1)),
        &[many_entries(100_000)],
    );
    let p = t.write("entries.tar", &img);
    let r = run(&p, &[]);
    assert_judged(&r, "100k entries");
}

// ---------------------------------------------------------------------------
// Links, names, whiteouts, special files
// ---------------------------------------------------------------------------

/// The JSON of the first image.
fn image0(r: &Run) -> Value {
    let v = r.json();
    v["inputs"][0]["images"][0].clone()
}

/// The image was judged (exit 0 or 1, no error): one damaged file or an odd
/// entry must not stop the scan.
fn assert_judged(r: &Run, what: &str) {
    assert!(
        r.code == 0 || r.code == 1,
        "{what}: not judged\n{}",
        r.all()
    );
    assert!(image0(r)["error"].is_null(), "{what}\n{}", r.all());
}

#[test]
fn link_cycles_and_long_chains_end() {
    let t = Tmp::new("links");
    let mut chain = vec![file("bin/real", b"#!/bin/sh\n", 0o755)];
    for i in 0..10_000 {
        let next = if i == 9_999 {
            "/bin/real".to_string()
        } else {
            format!("/l/{}", i + 1)
        };
        chain.push(symlink(&format!("l/{i}"), &next));
    }
    let cases: Vec<(&str, Vec<Ent>, &str)> = vec![
        ("chain", chain, "/l/0"),
        (
            "sym-cycle",
            vec![
                symlink("a", "b"),
                symlink("b", "/a"),
                symlink("self", "self"),
            ],
            "/a",
        ),
        ("self", vec![symlink("self", "./self")], "/self"),
        (
            "dir-cycle",
            vec![symlink("d", "d/d/d"), symlink("e", "../e/../e")],
            "/d/x",
        ),
        (
            "hard-cycle",
            vec![
                hardlink("h1", "h2"),
                hardlink("h2", "h1"),
                hardlink("h3", "h3"),
            ],
            "/h1",
        ),
    ];
    for (name, entries, ep) in cases {
        for c in [Comp::None, Comp::Gzip] {
            let p = t.write(
                &format!("{name}-{c:?}.tar"),
                &one_layer_image(&entries, &[ep], c),
            );
            let r = run_both(&p);
            assert_ne!(r.code, 2, "{name}\n{}", r.all());
            assert!(r.secs < 30.0, "{name} took {}s", r.secs);
        }
    }
    // Hardlink cycles among the members of the outer archive.
    let data = tar(&[
        hardlink("manifest.json", "x.json"),
        hardlink("x.json", "manifest.json"),
    ]);
    let p = t.write("outer-hard-cycle.tar", &data);
    let r = run_both(&p);
    assert!(r.code != 0 || r.stdout.contains("rootfs"), "{}", r.all());
}

#[test]
fn escaping_names_and_targets_resolve_inside_the_image() {
    let t = Tmp::new("escape");
    let entries = vec![
        file("../../../../etc/passwd", b"not the host's\n", 0o644),
        file("/abs/file", b"x", 0o644),
        symlink("bin/self", "/proc/self/exe"),
        symlink("bin/up", "../../../../../../../../bin/true"),
        symlink("bin/passwd", "../../../../../etc/passwd"),
        hardlink("bin/hard", "../../../../bin/true"),
    ];
    for ep in [
        "/bin/self",
        "/bin/up",
        "/bin/hard",
        "/bin/passwd",
        "../../../../proc/self/exe",
    ] {
        for c in [Comp::None, Comp::Gzip] {
            let p = t.write("e.tar", &one_layer_image(&entries, &[ep], c));
            let r = run_both(&p);
            assert_eq!(r.code, 1, "{ep} must not be found on the host\n{}", r.all());
            let img = image0(&r);
            let ep_json = img["entrypoint"].to_string();
            assert!(
                r.rules().iter().any(|x| x == "entrypoint-missing"
                    || x == "no-shebang"
                    || x == "not-executable"),
                "{ep}: {ep_json}\n{}",
                r.all()
            );
            assert!(!r.stdout.contains("x86-64"), "{}", r.all());
        }
    }
    // The escaping names are kept inside the image, clamped at its root.
    let p = t.write(
        "e.tar",
        &one_layer_image(&entries, &["/etc/passwd"], Comp::None),
    );
    let r = run(&p, &[]);
    assert_eq!(
        image0(&r)["entrypoint"]["resolved"],
        "/etc/passwd",
        "{}",
        r.all()
    );
    assert!(
        r.rules()
            .iter()
            .any(|x| x == "no-shebang" || x == "not-executable"),
        "{}",
        r.all()
    );
}

#[test]
fn whiteouts_of_dot_dot_and_root_are_harmless() {
    let t = Tmp::new("whiteouts");
    let cfg = to_json(&config(&["/app/run"], 2));
    let base = tar(&[
        dir("app"),
        file("app/run", b"#!/bin/sh\n", 0o755),
        file("etc/x", b"x", 0o644),
    ]);
    let top = tar(&[
        file("app/.wh..", b"", 0o644),
        file("app/.wh.", b"", 0o644),
        file(".wh..", b"", 0o644),
        file("app/.wh...", b"", 0o644),
        file("app/.wh..wh..wh..opq", b"", 0o644),
        file("../../.wh.nothing", b"", 0o644),
        file("/.wh.etc", b"", 0o644),
    ]);
    for c in [Comp::None, Comp::Gzip] {
        let img = docker_archive(&cfg, &[compress(&base, c), compress(&top, c)]);
        let p = t.write(&format!("w-{c:?}.tar"), &img);
        let r = run_both(&p);
        assert_judged(&r, "odd whiteouts");
        assert_eq!(
            image0(&r)["entrypoint"]["resolved"],
            "/app/run",
            "{}",
            r.all()
        );
    }
    // An opaque marker at the root hides every lower layer.
    let top = tar(&[file(".wh..wh..opq", b"", 0o644)]);
    let img = docker_archive(&cfg, &[base.clone(), top]);
    let p = t.write("opq-root.tar", &img);
    let r = run_both(&p);
    assert_eq!(r.code, 1, "{}", r.all());
    assert!(r.rules().contains(&"entrypoint-missing".to_string()));
}

#[test]
fn devices_and_fifos_are_never_opened() {
    let t = Tmp::new("devices");
    let entries = vec![
        special("dev/null", b'3'),
        special("dev/sda", b'4'),
        special("run/fifo", b'6'),
        special("odd/contiguous", b'7'),
        special("odd/volume", b'V'),
        special("odd/sparse", b'S'),
    ];
    for ep in ["/dev/null", "/dev/sda", "/run/fifo", "/odd/volume"] {
        for c in [Comp::None, Comp::Gzip] {
            let p = t.write("d.tar", &one_layer_image(&entries, &[ep], c));
            let r = run_both(&p);
            assert_ne!(r.code, 2, "{ep}\n{}", r.all());
        }
    }
}

// ---------------------------------------------------------------------------
// Damaged executables
// ---------------------------------------------------------------------------

fn elf_header(phoff: u64, phnum: u16, shoff: u64, shnum: u16) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2; // 64-bit
    h[5] = 1; // little-endian
    h[6] = 1;
    h[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    h[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h[32..40].copy_from_slice(&phoff.to_le_bytes());
    h[40..48].copy_from_slice(&shoff.to_le_bytes());
    h[52..54].copy_from_slice(&64u16.to_le_bytes());
    h[54..56].copy_from_slice(&56u16.to_le_bytes());
    h[56..58].copy_from_slice(&phnum.to_le_bytes());
    h[58..60].copy_from_slice(&64u16.to_le_bytes());
    h[60..62].copy_from_slice(&shnum.to_le_bytes());
    h
}

/// Program headers that point past the end: PT_INTERP, PT_DYNAMIC, PT_NOTE.
fn elf_with_bad_segments() -> Vec<u8> {
    let mut v = elf_header(64, 3, u64::MAX - 10, 0xffff);
    for (ptype, off, size) in [
        (3u32, u64::MAX - 4, 1u64 << 40),
        (2, 1 << 50, 1 << 50),
        (4, 100, u64::MAX),
    ] {
        let mut ph = vec![0u8; 56];
        ph[..4].copy_from_slice(&ptype.to_le_bytes());
        ph[8..16].copy_from_slice(&off.to_le_bytes());
        ph[32..40].copy_from_slice(&size.to_le_bytes());
        ph[40..48].copy_from_slice(&size.to_le_bytes());
        v.extend_from_slice(&ph);
    }
    v
}

fn pe_with_bad_offsets() -> Vec<u8> {
    let mut v = vec![0u8; 128];
    v[..2].copy_from_slice(b"MZ");
    v[0x3c..0x40].copy_from_slice(&0xffff_fff0u32.to_le_bytes());
    v
}

fn pe_truncated_optional_header() -> Vec<u8> {
    let mut v = vec![0u8; 0x40];
    v[..2].copy_from_slice(b"MZ");
    v[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
    v.extend_from_slice(b"PE\0\0");
    v.extend_from_slice(&0x8664u16.to_le_bytes());
    v.extend_from_slice(&0xffffu16.to_le_bytes()); // sections
    v.extend_from_slice(&[0u8; 12]);
    v.extend_from_slice(&0xfff0u16.to_le_bytes()); // optional header size
    v.extend_from_slice(&0x22u16.to_le_bytes());
    v.extend_from_slice(&0x20bu16.to_le_bytes());
    v
}

fn fat_macho(nfat: u32, offset: u32) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend_from_slice(&0xcafe_babeu32.to_be_bytes());
    v.extend_from_slice(&nfat.to_be_bytes());
    for _ in 0..3 {
        v.extend_from_slice(&0x0100_0007u32.to_be_bytes());
        v.extend_from_slice(&3u32.to_be_bytes());
        v.extend_from_slice(&offset.to_be_bytes());
        v.extend_from_slice(&u32::MAX.to_be_bytes());
        v.extend_from_slice(&12u32.to_be_bytes());
    }
    v
}

fn thin_macho_truncated() -> Vec<u8> {
    0xfeed_facfu32.to_le_bytes().to_vec()
}

#[test]
fn damaged_executables_are_judged_without_panics() {
    let t = Tmp::new("damaged");
    let mut shebang = b"#!".to_vec();
    shebang.resize(1 << 20, b'a');
    shebang.extend_from_slice(b"\n");
    let mut shebang_nl = b"#!/bin/sh ".to_vec();
    shebang_nl.resize(1 << 20, b' ');
    let bins: Vec<(&str, Vec<u8>)> = vec![
        ("elf-bad-segments", elf_with_bad_segments()),
        (
            "elf-huge-counts",
            elf_header(u64::MAX, 0xffff, u64::MAX, 0xffff),
        ),
        ("elf-header-only", b"\x7fELF\x02\x01\x01".to_vec()),
        ("elf-32-bad", {
            let mut v = elf_header(0xffff_ffff, 0xffff, 0, 0);
            v[4] = 1;
            v
        }),
        ("pe-bad-lfanew", pe_with_bad_offsets()),
        ("pe-truncated", pe_truncated_optional_header()),
        ("fat-2p32-1", fat_macho(u32::MAX, u32::MAX)),
        ("fat-3-past-end", fat_macho(3, 0xffff_ff00)),
        ("fat-3-offset-0", fat_macho(3, 0)),
        ("macho-thin-4", thin_macho_truncated()),
        ("shebang-1mib", shebang),
        ("shebang-blank-1mib", shebang_nl),
        ("shebang-empty", b"#!".to_vec()),
        ("shebang-nul", b"#!\0/bin/sh\n".to_vec()),
    ];
    for (name, bytes) in &bins {
        let entries = vec![
            file("app/bin", bytes, 0o755),
            file("app/lib.so", bytes, 0o644),
        ];
        let mut codes = Vec::new();
        for c in [Comp::None, Comp::Gzip, Comp::Zstd] {
            let p = t.write(
                &format!("{name}-{c:?}.tar"),
                &one_layer_image(&entries, &["/app/bin"], c),
            );
            let r = run_both(&p);
            assert_ne!(
                r.code,
                2,
                "{name} ({c:?}): one bad file must not stop the scan\n{}",
                r.all()
            );
            codes.push((r.code, image0(&r)["verdict"].clone()));
        }
        assert!(
            codes.windows(2).all(|w| w[0] == w[1]),
            "{name}: mapped and streamed scans disagree: {codes:?}"
        );
    }
}

/// A damaged library is reported as such (`damaged-file`, a warning) and
/// the image is still judged.
#[test]
fn damaged_library_is_a_warning_finding() {
    let t = Tmp::new("damaged-finding");
    let entries = vec![
        file("app/run", b"#!/bin/sh\nexit 0\n", 0o755),
        file("bin/sh", &elf_with_bad_segments(), 0o755),
        file("app/lib.so", &elf_with_bad_segments(), 0o644),
    ];
    let p = t.write(
        "damaged.tar",
        &one_layer_image(&entries, &["/app/run"], Comp::None),
    );
    let r = run_both(&p);
    assert_ne!(r.code, 2, "{}", r.all());
    let findings = image0(&r)["findings"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let damaged = |path: &str| {
        findings
            .iter()
            .find(|f| f["rule"] == "damaged-file" && f["path"] == path)
            .map(|f| f["severity"].as_str().unwrap_or("").to_string())
    };
    assert_eq!(
        damaged("/app/lib.so").as_deref(),
        Some("warning"),
        "{}",
        r.all()
    );
    // The shell the entrypoint script runs is what the kernel execs.
    assert_eq!(damaged("/bin/sh").as_deref(), Some("error"), "{}", r.all());
}

// ---------------------------------------------------------------------------
// Never writes
// ---------------------------------------------------------------------------

fn listing(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| e.path().display().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn scans_never_write() {
    let inputs = Tmp::new("nw-inputs");
    let cwd = Tmp::new("nw-cwd");
    let tmp = Tmp::new("nw-tmp");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/amd64-ok.tar");
    let mut paths = vec![
        inputs.write("small.tar", &small_image()),
        inputs.write("small.tar.zst", &compress(&small_image(), Comp::Zstd)),
        inputs.write(
            "escape.tar",
            &one_layer_image(
                &[
                    file("../../../x", b"x", 0o755),
                    symlink("bin/e", "/proc/self/exe"),
                ],
                &["/bin/e"],
                Comp::Gzip,
            ),
        ),
        inputs.write("random.tar", &[0x5a; 4096]),
    ];
    if fixture.exists() {
        paths.push(fixture);
    }
    let before_inputs = listing(&inputs.0);
    for p in &paths {
        for fmt in ["json", "text"] {
            let r = run_with(
                &[p.to_str().unwrap(), "--format", fmt],
                Some(&cwd.0),
                &[("TMPDIR", &tmp.0), ("TMP", &tmp.0), ("TEMP", &tmp.0)],
            );
            assert!(r.code <= 2);
        }
        // Reading stdin too.
        let data = std::fs::read(p).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_archscan"))
            .args(["-", "--format", "json"])
            .current_dir(&cwd.0)
            .env("TMPDIR", &tmp.0)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(&data);
        });
        let status = child.wait().unwrap();
        let _ = writer.join();
        assert!(status.code().is_some_and(|c| c <= 2), "stdin: {status}");
    }
    assert_eq!(
        listing(&cwd.0),
        vec![cwd.0.display().to_string()],
        "the working directory changed"
    );
    assert_eq!(
        listing(&tmp.0),
        vec![tmp.0.display().to_string()],
        "TMPDIR changed"
    );
    assert_eq!(
        listing(&inputs.0),
        before_inputs,
        "the inputs' directory changed"
    );
}

// ---------------------------------------------------------------------------
// Every cap of `Limits`, lowered, through the library
// ---------------------------------------------------------------------------

fn walk_err(data: &[u8], limits: &Limits) -> String {
    use archscan::archive::tar::{walk, SliceInput, StreamInput};
    let a = walk(&mut SliceInput::new(data), limits, |_, _| Ok(()))
        .expect_err("slice walk should fail")
        .to_string();
    let b = walk(&mut StreamInput::new(data), limits, |_, _| Ok(()))
        .expect_err("stream walk should fail")
        .to_string();
    assert_eq!(a, b, "slice and stream walks disagree");
    a
}

#[test]
fn limit_entries() {
    let data = tar(&[
        file("a", b"", 0o644),
        file("b", b"", 0o644),
        file("c", b"", 0o644),
    ]);
    let limits = Limits {
        entries: 2,
        ..Limits::default()
    };
    let e = walk_err(&data, &limits);
    assert!(e.contains("more than 2 entries (limit)"), "{e}");
}

#[test]
fn limit_name_bytes() {
    let data = tar(&[file(&"n".repeat(300), b"", 0o644)]);
    let limits = Limits {
        name_bytes: 200,
        ..Limits::default()
    };
    let e = walk_err(&data, &limits);
    assert!(
        e.contains("GNU long name of 301 bytes is over the limit of 200"),
        "{e}"
    );
    let data = tar(&[symlink("l", &"t".repeat(300))]);
    let e = walk_err(&data, &limits);
    assert!(e.contains("GNU long link name"), "{e}");
}

#[test]
fn limit_pax_bytes() {
    let data = tar(&[
        Ent {
            typeflag: b'x',
            ..file("p", &[b'a'; 3000], 0o644)
        },
        file("a", b"", 0o644),
    ]);
    let limits = Limits {
        pax_bytes: 1000,
        ..Limits::default()
    };
    let e = walk_err(&data, &limits);
    assert!(
        e.contains("PAX header of 3000 bytes is over the limit of 1000"),
        "{e}"
    );
}

#[test]
fn limit_layer_bytes() {
    use archscan::layers::scan::{scan_slice, Hashing};
    let layer = tar(&[
        file("big", &vec![1u8; 1 << 20], 0o644),
        file("after", b"x", 0o644),
    ]);
    let limits = Limits {
        layer_bytes: 64 * 1024,
        ..Limits::default()
    };
    for c in [Comp::Gzip, Comp::Zstd] {
        let e = scan_slice(
            &compress(&layer, c),
            &limits,
            &archscan::meter::Meter::default(),
            Hashing::Never,
        )
        .unwrap_err()
        .0;
        assert!(e.contains("more than 65536 bytes (limit)"), "{c:?}: {e}");
    }
}

#[test]
fn limit_index_bytes() {
    use archscan::layers::scan::{scan_slice, Hashing};
    let entries: Vec<Ent> = (0..100)
        .map(|i| file(&format!("{i:0>200}"), b"", 0o644))
        .collect();
    let layer = tar(&entries);
    let limits = Limits {
        index_bytes: 10_000,
        ..Limits::default()
    };
    for c in [Comp::None, Comp::Gzip] {
        let e = scan_slice(
            &compress(&layer, c),
            &limits,
            &archscan::meter::Meter::default(),
            Hashing::Never,
        )
        .unwrap_err()
        .0;
        assert!(
            e.contains("more than 10000 bytes") && e.contains("limit"),
            "{c:?}: {e}"
        );
    }
    assert!(scan_slice(
        &layer,
        &Limits::default(),
        &archscan::meter::Meter::default(),
        Hashing::Never
    )
    .is_ok());
    // JSON members kept from a stream count too.
    let docs: Vec<Ent> = (0..10)
        .map(|i| file(&format!("{i}.json"), &[b'{'; 3000], 0o644))
        .collect();
    let e = catalog_of(&tar(&docs), &limits).err().unwrap_or_default();
    assert!(e.contains("more than 10000 bytes"), "{e}");
}

fn catalog_of(data: &[u8], limits: &Limits) -> Result<archscan::image::Catalog, String> {
    let src = archscan::source::Source::from_stream(
        "mem",
        Box::new(data),
        limits,
        &Default::default(),
        &Default::default(),
    )
    .map_err(|e| e.to_string())?;
    archscan::image::catalog(&src, limits).map_err(|e| e.to_string())
}

fn unreadable_errors(c: &archscan::image::Catalog) -> Vec<String> {
    c.images
        .iter()
        .filter_map(|p| match p {
            archscan::image::Planned::Unreadable(u) => Some(u.error.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn limit_json_bytes_and_depth() {
    let img = small_image();
    let errors = |limits: &Limits| match catalog_of(&img, limits) {
        Ok(c) => unreadable_errors(&c).join("\n"),
        Err(e) => e,
    };
    let limits = Limits {
        json_bytes: 100,
        ..Limits::default()
    };
    let errs = errors(&limits);
    assert!(
        errs.contains("over the 100-byte limit for a JSON document"),
        "{errs}"
    );
    let limits = Limits {
        json_depth: 2,
        ..Limits::default()
    };
    let errs = errors(&limits);
    assert!(errs.contains("levels deep, over the limit of 2"), "{errs}");
}

#[test]
fn limit_index_depth_and_manifests() {
    let mut entries = vec![file(
        "oci-layout",
        br#"{"imageLayoutVersion":"1.0.0"}"#,
        0o644,
    )];
    let mut child = format!("sha256:{}", "c".repeat(64));
    let mut ty = "application/vnd.oci.image.manifest.v1+json";
    for _ in 0..5 {
        let doc = to_json(
            &json!({"mediaType": MT_INDEX, "manifests": [{"mediaType": ty, "digest": child}]}),
        );
        entries.push(file(&sha(&doc).blob_path(), &doc, 0o644));
        child = sha(&doc).to_string();
        ty = MT_INDEX;
    }
    entries.push(file(
        "index.json",
        &to_json(&json!({"manifests": [{"mediaType": MT_INDEX, "digest": child}]})),
        0o644,
    ));
    let data = tar(&entries);
    let limits = Limits {
        index_depth: 2,
        ..Limits::default()
    };
    let errs = unreadable_errors(&catalog_of(&data, &limits).unwrap()).join("\n");
    assert!(
        errs.contains("indexes nested more than 2 deep (limit)"),
        "{errs}"
    );
    let limits = Limits {
        manifests: 3,
        ..Limits::default()
    };
    let errs = unreadable_errors(&catalog_of(&data, &limits).unwrap()).join("\n");
    assert!(errs.contains("more than 3 manifests (limit)"), "{errs}");
}

#[test]
fn limit_link_hops() {
    use archscan::layers::merge::{MergedFs, Resolved};
    use archscan::layers::scan::{scan_slice, Hashing};
    let mut entries = vec![file("end", b"x", 0o644)];
    for i in 0..10 {
        let next = if i == 9 {
            "end".to_string()
        } else {
            format!("l{}", i + 1)
        };
        entries.push(symlink(&format!("l{i}"), &next));
    }
    let idx = scan_slice(
        &tar(&entries),
        &Limits::default(),
        &archscan::meter::Meter::default(),
        Hashing::Never,
    )
    .unwrap();
    let fs = MergedFs::merge(vec![std::sync::Arc::new(idx)], 5);
    assert!(matches!(fs.resolve("/l0"), Resolved::TooManyLinks { .. }));
    assert!(matches!(fs.resolve("/l5"), Resolved::Found { .. }));
}

#[test]
fn limit_ident_caps() {
    use archscan::identify::{identify, Capture, Ident, IdentLimits};
    // A shebang longer than the cap is cut at the cap.
    let mut script = b"#!/".to_vec();
    script.resize(10_000, b'a');
    script.extend_from_slice(b"\n");
    let limits = IdentLimits {
        shebang: 100,
        ..IdentLimits::default()
    };
    match identify(&&script[..], true, &limits) {
        Some(Ident::Script(s)) => assert!(s.interpreter.len() <= 100, "{}", s.interpreter.len()),
        other => panic!("{other:?}"),
    }
    // A streamed capture keeps at most head + tail + extra.
    let limits = IdentLimits {
        head: 1024,
        tail: 1024,
        extra: 4096,
        ..IdentLimits::default()
    };
    let elf = std::fs::read("/bin/true").unwrap();
    let mut cap = Capture::new(elf.len() as u64, true, &limits);
    for piece in elf.chunks(1000) {
        cap.feed(piece);
    }
    let _ = cap.finish();
    // Fat Mach-O slice counts are capped by max_items.
    let limits = IdentLimits {
        max_items: 2,
        ..IdentLimits::default()
    };
    let fat = fat_macho(3, 0);
    match identify(&&fat[..], true, &limits) {
        Some(Ident::Macho(m)) => assert_eq!(m.slices.len(), 2),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Full-scale inputs for scripts/hostile-measure.sh
// ---------------------------------------------------------------------------

/// Writes the hostile inputs at full scale into `$HOSTILE_OUT` (10 GiB bombs,
/// a million entries). Run by `scripts/hostile-measure.sh`.
#[test]
#[ignore]
fn write_hostile_inputs() {
    let Some(out) = std::env::var_os("HOSTILE_OUT") else {
        eprintln!("HOSTILE_OUT is not set: nothing written");
        return;
    };
    let out = PathBuf::from(out);
    std::fs::create_dir_all(&out).unwrap();
    let w = |name: &str, data: &[u8]| std::fs::write(out.join(name), data).unwrap();
    let cfg = to_json(&config(&["/app/run"], 1));
    const BOMB: u64 = 10 << 30;
    w(
        "bomb-gzip-layer-10g.tar",
        &docker_archive(&cfg, &[gzip_bomb(BOMB)]),
    );
    w(
        "bomb-zstd-layer-10g.tar",
        &docker_archive(&cfg, &[zstd_bomb(BOMB)]),
    );
    // Outer bombs: the same streams with the image after the zeros.
    w("bomb-gzip-outer-10g.tar.gz", &gzip_bomb(BOMB));
    w("bomb-zstd-outer-10g.tar.zst", &zstd_bomb(BOMB));
    w(
        "entries-1m.tar",
        &docker_archive(&cfg, &[many_entries(1 << 20)]),
    );
    w("empty.tar", b"");
    w(
        "random.bin",
        &(0..1_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect::<Vec<_>>(),
    );
    let small = small_image();
    w("truncated-half.tar", &small[..small.len() / 2]);
    w(
        "truncated-half.tar.gz",
        &compress(&small, Comp::Gzip)[..200],
    );
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);
    w(
        "json-deep.tar",
        &docker_with_manifest(deep.as_bytes(), &cfg),
    );
    let mut huge = b"[\"".to_vec();
    huge.resize(17 * 1024 * 1024, b'a');
    huge.extend_from_slice(b"\"]");
    w("json-huge.tar", &docker_with_manifest(&huge, &cfg));
    w(
        "zstd-window.tar",
        &docker_archive(&cfg, &[zstd_huge_window()]),
    );
    let mut chain = vec![file("bin/real", b"#!/bin/sh\n", 0o755)];
    for i in 0..10_000 {
        let next = if i == 9_999 {
            "/bin/real".to_string()
        } else {
            format!("/l/{}", i + 1)
        };
        chain.push(symlink(&format!("l/{i}"), &next));
    }
    w(
        "symlink-chain-10k.tar",
        &one_layer_image(&chain, &["/l/0"], Comp::Gzip),
    );
    let mut shebang = b"#!".to_vec();
    shebang.resize(1 << 20, b'a');
    w(
        "shebang-1mib.tar",
        &one_layer_image(
            &[file("app/run", &shebang, 0o755)],
            &["/app/run"],
            Comp::Gzip,
        ),
    );
    w(
        "fat-macho-2p32.tar",
        &one_layer_image(
            &[file("app/run", &fat_macho(u32::MAX, 0), 0o755)],
            &["/app/run"],
            Comp::None,
        ),
    );
    w(
        "elf-bad.tar",
        &one_layer_image(
            &[file("app/run", &elf_with_bad_segments(), 0o755)],
            &["/app/run"],
            Comp::Zstd,
        ),
    );
    let long = "d/".repeat(40_000) + "x";
    w(
        "long-name.tar",
        &one_layer_image(&[file(&long, b"", 0o644)], &["/app/run"], Comp::None),
    );
    w(
        "long-names-many.tar",
        &docker_archive(&cfg, &[long_names(20_000)]),
    );
    w("json-members-many.tar.zst", &json_members(64));
    let mut size = header_with_size_field(b"app/run", &base256(1 << 60)).to_vec();
    size.extend_from_slice(&[0; 1024]);
    w("size-2p60.tar", &size);
}

/// Writes small seed inputs for the fuzz targets into `$FUZZ_SEEDS/<target>/`
/// (see fuzz/README.md).
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let Some(out) = std::env::var_os("FUZZ_SEEDS") else {
        eprintln!("FUZZ_SEEDS is not set: nothing written");
        return;
    };
    let out = PathBuf::from(out);
    let w = |target: &str, name: &str, data: &[u8]| {
        let d = out.join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(name), data).unwrap();
    };
    let layer = tar(&[
        dir("bin"),
        file("bin/run", b"#!/bin/sh -e\r\n", 0o755),
        file(&("long/".repeat(30) + "name"), b"x", 0o644),
        symlink("bin/sh", "busybox"),
        symlink(&("l/".repeat(60) + "x"), &("../".repeat(40) + "t")),
        hardlink("bin/hard", "bin/run"),
        file("etc/.wh.gone", b"", 0o644),
        file("opt/.wh..wh..opq", b"", 0o644),
        file(
            "etc/ld.so.conf",
            b"include /etc/ld.so.conf.d/*.conf\n",
            0o644,
        ),
        special("dev/null", b'3'),
        special("run/fifo", b'6'),
    ]);
    let mut pax = Vec::new();
    push_entry(
        &mut pax,
        &Ent {
            typeflag: b'x',
            ..file("pax", pax_record("path", "pax/long/name").as_bytes(), 0o644)
        },
    );
    push_entry(&mut pax, &file("short", b"#!/x\n", 0o755));
    pax.extend_from_slice(&[0; 1024]);
    for (name, data) in [("layer.tar", &layer), ("pax.tar", &pax)] {
        w("tarwalk", name, data);
        w("layer_scan", name, data);
    }
    w("layer_scan", "layer.tar.gz", &compress(&layer, Comp::Gzip));
    w("layer_scan", "layer.tar.zst", &compress(&layer, Comp::Zstd));
    let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
    xz.write_all(&layer).unwrap();
    w("layer_scan", "layer.tar.xz", &xz.finish().unwrap());
    let elf = std::fs::read("/bin/true").unwrap();
    let mut merge = vec![128u8];
    let second = tar(&[
        symlink("bin", "usr/bin"),
        file("usr/bin/true", &elf[..4096], 0o755),
        file("bin/.wh.sh", b"", 0o644),
    ]);
    let mut first = layer.clone();
    first.truncate(first.len() - 1024);
    merge.extend_from_slice(&first);
    merge.extend_from_slice(&second);
    w("merge", "two-layers", &merge);
    let cfg = to_json(&config(&["/bin/run"], 1));
    let docker = docker_archive(&cfg, std::slice::from_ref(&layer));
    let oci = oci_archive(
        &cfg,
        &[(compress(&layer, Comp::Gzip), media_type(Comp::Gzip))],
    );
    w("catalog", "docker.tar", &docker);
    w("catalog", "oci.tar", &oci);
    w("catalog", "docker.tar.zst", &compress(&docker, Comp::Zstd));
    w("catalog", "oci.tar.gz", &compress(&oci, Comp::Gzip));
    let ident = |name: &str, bytes: &[u8]| {
        let mut v = vec![1u8, 13];
        v.extend_from_slice(bytes);
        w("identify", name, &v);
    };
    ident("true", &elf);
    ident("script-crlf", b"#!/usr/bin/env python3\r\nprint(1)\n");
    ident("fat", &fat_macho(2, 4096));
    ident("pe", &pe_truncated_optional_header());
    ident("elf-bad", &elf_with_bad_segments());
}
