//! Symbol versions (issue 12): `missing-symbol-version` on real Debian bytes —
//! bookworm's `hello` (needs `GLIBC_2.34`) on bullseye's glibc 2.31, and its
//! twin, bullseye's `hello` on the same glibc — as whole-output snapshots, and
//! the same verdict when the archive arrives as a stream (the version tables
//! are kept while the bytes pass).

use crate::support::run::archscan;
use crate::support::snapshot::text_and_json;

fn snapshot(name: &str, path: &str, code: i32) {
    text_and_json(name, &[path], code);
}

#[test]
fn bookworm_program_on_bullseye_libc() {
    snapshot(
        "missing_symbol_version",
        "fixtures/missing-symbol-version.tar",
        1,
    );
}

#[test]
fn bullseye_program_on_bullseye_libc_is_silent() {
    snapshot("symbol_version_ok", "fixtures/symbol-version-ok.tar", 0);
}

#[test]
fn streamed_archive_keeps_the_version_tables() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/missing-symbol-version.tar"
    );
    let bytes = std::fs::read(path).expect("fixture");
    let r = archscan(["-", "--format", "json"]).stdin(&bytes).run();
    assert_eq!(r.code, 1, "{}", r.all());
    assert_eq!(r.rules(), vec!["missing-symbol-version".to_string()]);
    assert!(
        !r.stdout.contains("symbol versions not checked"),
        "{}",
        r.all()
    );
    let ok = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/symbol-version-ok.tar"
    );
    let r = archscan(["-", "--format", "json"])
        .stdin(&std::fs::read(ok).expect("fixture"))
        .run();
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.rules().is_empty(), "{}", r.all());
}

#[test]
fn a_program_that_does_not_run_is_a_warning() {
    // libc.so.6 runs; bookworm's hello only sits there: a warning naming it.
    text_and_json(
        "missing_symbol_version_elsewhere",
        &[
            "fixtures/missing-symbol-version.tar",
            "--entrypoint",
            "/lib/x86_64-linux-gnu/libc.so.6",
        ],
        0,
    );
    // The twin (bullseye's hello on bullseye's glibc) is silent.
    let r = crate::support::snapshot::run(&[
        "fixtures/symbol-version-ok.tar",
        "--entrypoint",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "--format",
        "json",
    ]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.rules().is_empty(), "{}", r.all());
}

/// The fixture's layers flattened into one root filesystem tarball, plus
/// `extra` copies of `/usr/bin/hello` under other names.
fn flattened_with_copies(extra: &[&str]) -> Vec<u8> {
    use std::io::Read;
    let mut out = tar::Builder::new(Vec::new());
    let mut hello = None;
    for layer in crate::support::archive::fixture_layers("fixtures/missing-symbol-version.tar") {
        for f in tar::Archive::new(layer.as_slice()).entries().unwrap() {
            let mut f = f.unwrap();
            let mut h = f.header().clone();
            let path = f.path().unwrap().into_owned();
            let mut data = Vec::new();
            f.read_to_end(&mut data).unwrap();
            if path.to_string_lossy() == "usr/bin/hello" {
                hello = Some(data.clone());
            }
            if h.entry_type().is_symlink() {
                let target = f.link_name().unwrap().unwrap().into_owned();
                out.append_link(&mut h, &path, &target).unwrap();
            } else {
                out.append_data(&mut h, &path, data.as_slice()).unwrap();
            }
        }
    }
    let hello = hello.expect("usr/bin/hello");
    for name in extra {
        let mut h = tar::Header::new_gnu();
        h.set_size(hello.len() as u64);
        h.set_mode(0o755);
        h.set_cksum();
        out.append_data(&mut h, name, hello.as_slice()).unwrap();
    }
    out.into_inner().unwrap()
}

#[test]
fn files_that_do_not_run_are_counted_per_library_version() {
    // Three copies of bookworm's hello that do not run: one warning naming
    // the first and counting the others.
    let tarball = flattened_with_copies(&["usr/local/bin/hello2", "opt/hello3"]);
    let dir = std::env::temp_dir().join(format!("archscan-versions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rootfs.tar");
    std::fs::write(&path, tarball).unwrap();
    let p = path.to_string_lossy();
    let r = crate::support::snapshot::run(&[
        "--rootfs",
        &p,
        "--entrypoint",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "--format",
        "json",
    ]);
    assert_eq!(
        r.rules(),
        vec!["missing-symbol-version".to_string()],
        "{}",
        r.all()
    );
    assert!(
        r.stdout.contains(
            "/opt/hello3 (and 2 more files that do not run) needs symbol version GLIBC_2.34"
        ),
        "{}",
        r.all()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
