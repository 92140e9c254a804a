//! What every test module shares: the runner, temporary directories, the
//! archive builder, and where the fixtures and this machine's programs are.

pub mod archive;
pub mod run;
pub mod snapshot;
pub mod tmp;

use std::path::PathBuf;

/// A committed fixture, `fixtures/<name>`, as an absolute path.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// The architecture of this machine's own programs (`/bin/true`), OCI
/// spelling; an unknown one is returned as Rust names it.
pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}
