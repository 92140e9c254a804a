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
