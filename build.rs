//! Build script: records the git revision the binary is built from, for
//! `--version` (`ARCHSCAN_GIT_REV`: `git rev-parse --short HEAD`, or `unknown`
//! without git or outside a checkout). It never fails the build.

use std::path::Path;
use std::process::Command;

fn main() {
    let rev = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=ARCHSCAN_GIT_REV={rev}");
    println!("cargo:rerun-if-changed=build.rs");
    // Rerun when HEAD moves: HEAD itself changes on a checkout, the branch's ref
    // file (or packed-refs) on a commit. Only existing paths are named: cargo
    // reruns on every build for a path that does not exist.
    let git = Path::new(".git");
    let head = git.join("HEAD");
    if head.is_file() {
        println!("cargo:rerun-if-changed=.git/HEAD");
        if let Ok(text) = std::fs::read_to_string(&head) {
            if let Some(r) = text.trim().strip_prefix("ref: ") {
                if git.join(r).is_file() {
                    println!("cargo:rerun-if-changed=.git/{r}");
                }
            }
        }
        if git.join("packed-refs").is_file() {
            println!("cargo:rerun-if-changed=.git/packed-refs");
        }
    }
}
