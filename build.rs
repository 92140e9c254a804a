//! Build script: records the git revision the binary is built from, for
//! `--version` (`ARCHSCAN_GIT_REV`: `git rev-parse --short HEAD`, or `unknown`
//! without git or outside a checkout). It never fails the build.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `git ARGS` in the package directory, its trimmed stdout if it succeeded.
fn git(args: &[&str]) -> Option<String> {
    Command::new("git")
        .args(args)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    let rev = git(&["rev-parse", "--short", "HEAD"])
        .filter(|s| s.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=ARCHSCAN_GIT_REV={rev}");
    println!("cargo:rerun-if-changed=build.rs");
    // Rerun when HEAD moves: HEAD itself changes on a checkout, the branch's ref
    // file (or packed-refs) on a commit. git names the files, so that a linked
    // worktree (whose `.git` is a file pointing at its own HEAD, with the refs
    // in the main repository) is followed too. Only existing paths are named:
    // cargo reruns on every build for a path that does not exist.
    let dir = |flag: &str| git(&["rev-parse", "--path-format=absolute", flag]).map(PathBuf::from);
    let (Some(git_dir), Some(common)) = (dir("--git-dir"), dir("--git-common-dir")) else {
        return;
    };
    let watch = |p: &Path| {
        if p.is_file() {
            println!("cargo:rerun-if-changed={}", p.display());
        }
    };
    let head = git_dir.join("HEAD");
    watch(&head);
    if let Ok(text) = std::fs::read_to_string(&head) {
        if let Some(r) = text.trim().strip_prefix("ref: ") {
            watch(&common.join(r));
        }
    }
    watch(&common.join("packed-refs"));
}
