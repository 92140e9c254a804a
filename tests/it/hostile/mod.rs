//! Hostile and broken archives: every test builds its input here (in memory or
//! in a temporary directory it removes), runs the real `archscan` binary with a
//! deadline and checks that it never panics, never hangs, never writes, and
//! says why when it cannot judge an image (exit 2 naming the archive, the
//! member or layer, and the problem), or judges it with a warning when only one
//! file is damaged. The caps of `Limits` are checked through the library API
//! with lowered values (`limits`). `full_scale::write_hostile_inputs` (ignored)
//! writes the full-scale inputs for `scripts/hostile-measure.sh`.
//!
//! One module per kind of damage; this file holds what they share: how a
//! hostile input is run and what "unreadable" and "judged" must look like.

mod bombs;
mod changing;
mod costs;
mod decoders;
mod escapes;
mod executables;
mod full_scale;
mod indexes;
mod json;
mod limits;
mod links;
mod members;
mod never_writes;
mod repeats;
mod semantics;
mod tar_headers;
mod whole_input;

use std::path::Path;

use serde_json::{json, Value};

use crate::support::archive::*;
use crate::support::run::{archscan, Run};
use crate::support::tmp::Tmp;

// ---- running ---------------------------------------------------------------

/// The directory `$HOSTILE_OUT` names, created: where the ignored
/// `write_*_inputs` tests write the full-size inputs that
/// `scripts/hostile-measure.sh` times. `None`, said on stderr, when unset.
fn hostile_out() -> Option<std::path::PathBuf> {
    let Some(out) = std::env::var_os("HOSTILE_OUT") else {
        eprintln!("HOSTILE_OUT is not set: nothing written");
        return None;
    };
    let out = std::path::PathBuf::from(out);
    std::fs::create_dir_all(&out).unwrap();
    Some(out)
}

/// Runs archscan with `args`, in `cwd`, with extra environment, without
/// colour; fails on an exit code other than 0, 1 or 2 (and, as every run
/// does, on a panic, a signal or the deadline).
fn run_with(args: &[&str], cwd: Option<&Path>, envs: &[(&str, &Path)]) -> Run {
    let mut cmd = archscan(args).env("NO_COLOR", "1");
    if let Some(dir) = cwd {
        cmd = cmd.current_dir(dir);
    }
    for (k, v) in envs {
        cmd = cmd.env(k, v);
    }
    let run = cmd.run();
    assert!(
        (0..=2).contains(&run.code),
        "archscan {args:?} exited {}\n{}",
        run.code,
        run.all()
    );
    run
}

/// The JSON report of `path`, with `extra` arguments.
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

// ---- what the outcome must be ----------------------------------------------

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

/// The JSON of the first image.
fn image0(r: &Run) -> Value {
    r.json()["inputs"][0]["images"][0].clone()
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

// ---- images ----------------------------------------------------------------

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
