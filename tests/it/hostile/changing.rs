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
/// first KiB cuts the layer. (Also `sparse-layer-4g.tar` of
/// `scripts/hostile-measure.sh`.)
pub(super) fn sparse_image(into: &Path, name: &str, size: u64) -> std::path::PathBuf {
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
    let p = into.join(name);
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
    Run {
        secs: start.elapsed().as_secs_f64(),
        ..Run::from_output(out)
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
    let p = sparse_image(t.path(), "early.tar", BIG);
    let mapped = std::fs::metadata(&p).unwrap().len();
    let r = run_and_cut(&p, false, Duration::ZERO);
    expect_changed(&r, p.to_str().unwrap(), mapped);
}

// SIGBUS: the file cut while `--verify` hashes its one large layer.
#[test]
fn input_cut_during_the_scan_exits_2() {
    let t = Tmp::new("cut-mid");
    let p = sparse_image(t.path(), "mid.tar", BIG);
    let mapped = std::fs::metadata(&p).unwrap().len();
    let r = run_and_cut(&p, false, Duration::from_millis(100));
    expect_changed(&r, p.to_str().unwrap(), mapped);
}

// SIGBUS: `archscan - < file` maps the file behind stdin; cutting it killed
// the process.
#[test]
fn stdin_file_cut_during_the_scan_exits_2() {
    let t = Tmp::new("cut-stdin");
    let p = sparse_image(t.path(), "stdin.tar", BIG);
    let mapped = std::fs::metadata(&p).unwrap().len();
    let r = run_and_cut(&p, true, Duration::from_millis(100));
    expect_changed(&r, "-", mapped);
}

// Deterministic, through the library: the archive is opened (mapped, its
// headers walked), then cut before any layer is read; reading the layer
// sees zeros instead of dying, and says the input changed.
#[test]
fn layer_read_after_the_cut_says_the_input_changed() {
    use archscan::image::{catalog, Planned};
    use archscan::layers::scan::Hashing;
    use archscan::limits::Limits;
    use archscan::source::{LayerError, Source};
    let t = Tmp::new("cut-lib");
    let p = sparse_image(t.path(), "lib.tar", 8 << 20);
    let mapped = std::fs::metadata(&p).unwrap().len();
    let limits = Limits::default();
    let src = Source::open(
        p.to_str().unwrap(),
        &limits,
        &Default::default(),
        &Default::default(),
    )
    .unwrap();
    assert!(src.changed().is_none());
    let cat = catalog(&src, &limits).unwrap();
    let Some(Planned::Image(plan)) = cat.images.first() else {
        panic!("no image planned");
    };
    cut(&p, 4096);
    let err = src
        .scan_layer(&plan.layers[0].member, &limits, Hashing::Always)
        .unwrap_err();
    assert!(matches!(err, LayerError::Changed { .. }), "{err}");
    let want = format!(
        "{}: the input changed while it was read ({mapped} bytes mapped, now 4096)",
        p.display()
    );
    assert_eq!(err.to_string(), want);
    assert_eq!(src.changed().unwrap().to_string(), want);
}

// The uncut image is judged (the runs above fail only because of the cut).
#[test]
fn uncut_sparse_image_is_judged() {
    let t = Tmp::new("uncut");
    let p = sparse_image(t.path(), "whole.tar", 1 << 20);
    let r = run(&p, &["--verify"]);
    assert!(
        r.input()["errors"].as_array().is_some_and(|e| e.is_empty()),
        "{}",
        r.all()
    );
    assert!(!r.stderr.contains("changed while"), "{}", r.all());
}

// ---- inputs that are not regular files ----------------------------------------

/// The report of a judged input with its path left out, to compare the same
/// image read from a file and from a stream.
fn judged(r: &Run) -> Value {
    assert_judged(r, "stream");
    let mut input = r.input();
    input["source"]["path"] = Value::Null;
    input
}

/// Makes a FIFO at `path` and a thread that writes `bytes` into it once a
/// reader opens it (giving up after a minute, so a run that never opens it
/// fails instead of hanging the test).
fn fifo_fed(path: &Path, bytes: Vec<u8>) -> std::thread::JoinHandle<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let path = path.to_path_buf();
    std::thread::spawn(move || {
        let start = Instant::now();
        // Non-blocking open fails (ENXIO) until there is a reader.
        let w = loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .custom_flags(libc::O_NONBLOCK)
                .open(&path)
            {
                Ok(w) => break w,
                Err(_) if start.elapsed() < Duration::from_secs(60) => {
                    std::thread::sleep(Duration::from_millis(2))
                }
                Err(e) => panic!("no reader opened {}: {e}", path.display()),
            }
        };
        // Blocking writes from here on.
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on an open descriptor this thread owns.
        unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETFL, 0) };
        let _ = (&w).write_all(&bytes);
    })
}

// A named FIFO reported size 0 and was "empty".
#[test]
fn named_fifo_is_read_as_a_stream() {
    let t = Tmp::new("fifo");
    let image = small_image();
    let as_file = run(&t.write("image.tar", &image), &[]);
    let fifo = t.path().join("image.fifo");
    let writer = fifo_fed(&fifo, image);
    let r = run(&fifo, &[]);
    writer.join().unwrap();
    assert_eq!(judged(&r), judged(&as_file), "{}", r.all());
}

// `archscan /dev/stdin` with a pipe on stdin was "empty".
#[test]
fn dev_stdin_from_a_pipe_is_read_as_a_stream() {
    let t = Tmp::new("devstdin");
    let image = small_image();
    let as_file = run(&t.write("image.tar", &image), &[]);
    let r = archscan(["/dev/stdin", "--format", "json"])
        .env("NO_COLOR", "1")
        .stdin(&image)
        .run();
    assert_eq!(judged(&r), judged(&as_file), "{}", r.all());
    assert_eq!(r.input()["source"]["path"], "/dev/stdin");
}

// `archscan <(cat image.tar)` (a /dev/fd/N pipe) was "empty".
#[test]
fn process_substitution_is_read_as_a_stream() {
    let t = Tmp::new("procsub");
    let p = t.write("image.tar", &small_image());
    let as_file = run(&p, &[]);
    let out = Command::new("bash")
        .args([
            "-c",
            r#"exec "$0" <(cat "$1") --format json"#,
            BIN,
            p.to_str().unwrap(),
        ])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let r = Run::from_output(out);
    assert_eq!(judged(&r), judged(&as_file), "{}", r.all());
    let shown = r.input()["source"]["path"].as_str().unwrap().to_string();
    assert!(shown.starts_with("/dev/fd/"), "{}", r.all());
}

// A FIFO whose writer sends nothing is an empty input (exit 2), not a hang.
#[test]
fn empty_fifo_is_unreadable() {
    let t = Tmp::new("fifo-empty");
    let fifo = t.path().join("empty.fifo");
    let writer = fifo_fed(&fifo, Vec::new());
    let r = run(&fifo, &[]);
    writer.join().unwrap();
    expect_unreadable(&r, &fifo, &["empty"]);
}

// ---- directories that cannot be read ---------------------------------------

/// Runs archscan with `args` as an unprivileged user: as root (which CI is),
/// permission bits stop nothing, so the binary is copied where `nobody` can
/// run it and started with that user's ids; as anyone else, directly.
fn run_unprivileged(t: &Tmp, args: &[&str]) -> Run {
    use std::os::unix::process::CommandExt;
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let mut cmd = if root {
        let bin = t.path().join("archscan-copy");
        if !bin.exists() {
            std::fs::copy(BIN, &bin).unwrap();
        }
        let mut c = Command::new(&bin);
        c.uid(65534).gid(65534);
        c
    } else {
        Command::new(BIN)
    };
    let out = cmd
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    Run::from_output(out)
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// A root filesystem directory with a script entrypoint, readable by all.
fn rootfs_dir(t: &Tmp) -> std::path::PathBuf {
    let root = t.path().join("rootfs");
    for d in ["bin", "etc", "usr/bin"] {
        std::fs::create_dir_all(root.join(d)).unwrap();
    }
    std::fs::write(root.join("usr/bin/app"), b"#!/bin/sh\necho hi\n").unwrap();
    std::fs::write(root.join("etc/hostname"), b"x\n").unwrap();
    chmod(&root.join("usr/bin/app"), 0o755);
    root
}

/// Asserts exit 2 with an error naming `path` and saying permission was denied.
fn expect_denied(r: &Run, path: &Path) {
    assert_eq!(r.code, 2, "{}", r.all());
    let name = path.to_str().unwrap();
    assert!(r.stderr.contains(name), "does not name {name}\n{}", r.all());
    assert!(
        r.stderr.to_lowercase().contains("permission denied"),
        "{}",
        r.all()
    );
}

// A directory input that cannot be listed passed as UNKNOWN with exit 0.
#[test]
fn unlistable_directory_input_exits_2() {
    let t = Tmp::new("dir-000");
    let root = rootfs_dir(&t);
    let ok = run_unprivileged(&t, &[root.to_str().unwrap(), "--format", "json"]);
    assert!(ok.code == 0 || ok.code == 1, "{}", ok.all());
    chmod(&root, 0o000);
    for extra in [&[][..], &["--rootfs"][..]] {
        let mut args = vec![root.to_str().unwrap(), "--format", "json"];
        args.extend_from_slice(extra);
        let r = run_unprivileged(&t, &args);
        expect_denied(&r, &root);
    }
    chmod(&root, 0o755);
}

// A directory inside a root filesystem that cannot be listed (0000) or whose
// entries cannot be looked at (0444: listable, not searchable) was skipped
// with a warning, and the image judged without what it held.
#[test]
fn unreadable_directory_inside_a_rootfs_exits_2() {
    for mode in [0o000, 0o444] {
        let t = Tmp::new("rootfs-denied");
        let root = rootfs_dir(&t);
        let usr_bin = root.join("usr/bin");
        chmod(&usr_bin, mode);
        let r = run_unprivileged(&t, &[root.to_str().unwrap(), "--format", "json"]);
        chmod(&usr_bin, 0o755);
        expect_denied(&r, &usr_bin);
        assert!(
            r.stderr.contains("needs to read every directory"),
            "{mode:o}\n{}",
            r.all()
        );
    }
}

// An OCI layout whose blob directory cannot be read called its blobs
// "missing"; it now says which path cannot be read.
#[test]
fn unreadable_layout_blobs_exit_2_naming_the_path() {
    let t = Tmp::new("layout-denied");
    let data = oci_archive(
        &to_json(&config(&["/app/run"], 1)),
        &[(
            tar(&[file("app/run", b"#!/bin/sh\n", 0o755)]),
            media_type(Comp::None),
        )],
    );
    let layout = t.path().join("layout");
    for (name, body) in members(&data) {
        let p = layout.join(&name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, body).unwrap();
    }
    let ok = run_unprivileged(&t, &[layout.to_str().unwrap(), "--format", "json"]);
    assert!(ok.code == 0 || ok.code == 1, "{}", ok.all());
    let blobs = layout.join("blobs/sha256");
    chmod(&blobs, 0o000);
    let r = run_unprivileged(&t, &[layout.to_str().unwrap(), "--format", "json"]);
    chmod(&blobs, 0o755);
    expect_denied(&r, &blobs);
    assert!(!r.stderr.contains("missing"), "{}", r.all());
}
