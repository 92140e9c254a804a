//! Whole-output snapshots: archscan run from the package root (fixture paths
//! are relative to it) without colour, its exit code and both streams
//! compared with a reviewed file in `tests/snapshots/`.

use super::run::{archscan, Run};

/// archscan with `args`, from the package root, without colour.
pub fn run(args: &[&str]) -> Run {
    archscan(args)
        .current_dir(env!("CARGO_MANIFEST_DIR").as_ref())
        .env("NO_COLOR", "1")
        .run()
}

/// The exit code and both streams, as a snapshot holds them.
pub fn whole(r: &Run) -> String {
    format!(
        "exit: {}\n--- stderr\n{}--- stdout\n{}",
        r.code, r.stderr, r.stdout
    )
}

/// Snapshot settings for an assertion made in a file of `tests/it/`:
/// `tests/snapshots/`, names without a module prefix.
pub fn settings() -> insta::Settings {
    in_snapshots("../snapshots")
}

/// The same, with the snapshot directory given relative to the file that
/// makes the assertion (insta resolves it from there).
fn in_snapshots(path: &str) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(path);
    s.set_prepend_module_to_snapshot(false);
    s
}

/// The text and JSON reports of `args`, both exiting `code`, as the
/// snapshots `NAME_text` and `NAME_json`.
pub fn text_and_json(name: &str, args: &[&str], code: i32) {
    let text = run(args);
    assert_eq!(text.code, code, "{}", whole(&text));
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let json = run(&json_args);
    assert_eq!(json.code, code, "{}", whole(&json));
    // Asserted here, in tests/it/support/.
    in_snapshots("../../snapshots").bind(|| {
        insta::assert_snapshot!(format!("{name}_text"), whole(&text));
        insta::assert_snapshot!(format!("{name}_json"), whole(&json));
    });
}
