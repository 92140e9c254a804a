//! Inputs that change or are not regular files: a mapped archive cut while
//! archscan reads it (a copy still being written, `archscan - < f` with `f`
//! truncated) used to kill the process with SIGBUS; pipes, FIFOs,
//! `/dev/stdin` and `<(…)` were "empty" because their size is 0; a directory
//! that cannot be read passed as UNKNOWN with exit 0.

use std::fs::File;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::*;
use crate::support::run::BIN;

// ---- inputs cut while mapped -------------------------------------------------

/// A `docker save` archive whose one layer holds one file of `size` zero
/// bytes, written sparse: a few KiB on disk, `size` bytes for `--verify` to
/// hash. The layer is the last member, so cutting the file anywhere past its
/// first KiB cuts the layer.
fn sparse_image(t: &Tmp, name: &str, size: u64) -> std::path::PathBuf {
    let cfg = to_json(&config(&["/big"], 1));
    let cfg_name = format!("{}.json", sha(&cfg).hex());
    let manifest =
        json!([{"Config": cfg_name, "RepoTags": ["cut:latest"], "Layers": ["0/layer.tar"]}]);
    let mut out = Vec::new();
    push_entry(&mut out, &file(&cfg_name, &cfg, 0o644));
    push_entry(&mut out, &file("manifest.json", &to_json(&manifest), 0o644));
    push_entry(&mut out, &dir("0/"));
    // The layer: one header, `size` zeros, two end blocks.
    let layer_len = 512 + size.div_ceil(512) * 512 + 1024;
    out.extend_from_slice(&header(b"0/layer.tar", b'0', 0o644, layer_len, b""));
    out.extend_from_slice(&header(b"big", b'0', 0o755, size, b""));
    let total = out.len() as u64 - 512 + layer_len + 1024;
    let p = t.path().join(name);
    let mut f = File::create(&p).unwrap();
    f.write_all(&out).unwrap();
    f.set_len(total).unwrap();
    p
}

/// Cuts `path` to `len` bytes.
fn cut(path: &Path, len: u64) {
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
}

/// Whether process `pid` has `path` mapped (its `/proc/PID/maps` names it).
fn has_mapped(pid: u32, path: &Path) -> bool {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
    let name = path.to_str().unwrap();
    maps.lines().any(|l| l.ends_with(name))
}

/// Runs `archscan --verify` on `path` (or on stdin redirected from it),
/// waits until it has mapped the file, then `after` that, and cuts the file
/// to 4 KiB while the map is still in use. Fails on a death by signal.
fn run_and_cut(path: &Path, via_stdin: bool, after: Duration) -> Run {
    let p = path.to_str().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.env("NO_COLOR", "1");
    if via_stdin {
        cmd.args(["-", "--format", "json", "--verify"])
            .stdin(File::open(path).unwrap());
    } else {
        cmd.args([p, "--format", "json", "--verify"])
            .stdin(Stdio::null());
    }
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    while !has_mapped(pid, path) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "archscan {p} ended before it mapped the file"
        );
        assert!(start.elapsed() < Duration::from_secs(60), "never mapped");
        std::thread::sleep(Duration::from_millis(1));
    }
    std::thread::sleep(after);
    assert!(
        has_mapped(pid, path),
        "archscan {p} was done with the file before it was cut: make the layer larger"
    );
    cut(path, 4096);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let Some(code) = out.status.code() else {
        panic!(
            "archscan {p} was killed by a signal ({})\n{stderr}",
            out.status
        );
    };
    assert!(!stderr.contains("panicked"), "{stderr}");
    Run {
        code,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
        secs: start.elapsed().as_secs_f64(),
    }
}

/// What a run over a file cut under it must end with: exit 2, one error
/// naming the input (`shown`), saying it changed, with both sizes.
fn expect_changed(r: &Run, shown: &str, mapped: u64) {
    assert_eq!(r.code, 2, "{}", r.all());
    let want =
        format!("{shown}: the input changed while it was read ({mapped} bytes mapped, now 4096)");
    assert!(r.stderr.contains(&want), "wanted `{want}`\n{}", r.all());
    let input = r.input();
    assert_eq!(input["errors"], json!([want]), "{}", r.all());
    assert_eq!(input["images"], json!([]), "{}", r.all());
}

/// The layer size for runs that take a few seconds to hash in a debug build.
const BIG: u64 = 256 << 20;

// SIGBUS: the file cut right after archscan mapped it, before or while it
// walked the archive's headers.
#[test]
fn input_cut_right_after_mapping_exits_2() {
    let t = Tmp::new("cut-early");
    let p = sparse_image(&t, "early.tar", BIG);
    let mapped = std::fs::metadata(&p).unwrap().len();
    let r = run_and_cut(&p, false, Duration::ZERO);
    expect_changed(&r, p.to_str().unwrap(), mapped);
}

// SIGBUS: the file cut while `--verify` hashes its one large layer.
#[test]
fn input_cut_during_the_scan_exits_2() {
    let t = Tmp::new("cut-mid");
    let p = sparse_image(&t, "mid.tar", BIG);
    let mapped = std::fs::metadata(&p).unwrap().len();
    let r = run_and_cut(&p, false, Duration::from_millis(300));
    expect_changed(&r, p.to_str().unwrap(), mapped);
}

// SIGBUS: `archscan - < file` maps the file behind stdin; cutting it killed
// the process.
#[test]
fn stdin_file_cut_during_the_scan_exits_2() {
    let t = Tmp::new("cut-stdin");
    let p = sparse_image(&t, "stdin.tar", BIG);
    let mapped = std::fs::metadata(&p).unwrap().len();
    let r = run_and_cut(&p, true, Duration::from_millis(300));
    expect_changed(&r, "-", mapped);
}

// The uncut image is judged (the runs above fail only because of the cut).
#[test]
fn uncut_sparse_image_is_judged() {
    let t = Tmp::new("uncut");
    let p = sparse_image(&t, "whole.tar", 1 << 20);
    let r = run(&p, &["--verify"]);
    assert!(
        r.input()["errors"].as_array().is_some_and(|e| e.is_empty()),
        "{}",
        r.all()
    );
    assert!(!r.stderr.contains("changed while"), "{}", r.all());
}
